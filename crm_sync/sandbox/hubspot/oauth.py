"""HubSpot's OAuth v1 token endpoint, for public-app credentials (refresh-token grant).

``POST /oauth/v1/token`` takes a form-encoded body (``grant_type=refresh_token``, ``client_id``,
``client_secret``, ``refresh_token``) and answers ``{"token_type": "bearer", "refresh_token",
"access_token", "expires_in"}``; access tokens live 30 minutes (HubSpot's OAuth v1 reference). A
wrong refresh token is a 400 ``{"status": "BAD_REFRESH_TOKEN", "message": "missing or invalid
refresh token"}`` and a wrong client a 400 ``BAD_CLIENT_ID`` ([UNVERIFIED]: third-party write-ups
of the live endpoint, not the reference page). Issued tokens are accepted as bearer tokens until
they expire, after which requests get 401 ``EXPIRED_AUTHENTICATION``, so the adapter's
refresh-before-expiry and refresh-once-on-401 paths run against real HTTP.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable
from urllib.parse import parse_qs

from crm_sync.sandbox.http import Request, Response

__all__ = ["OAuthApp"]

# The sandbox's public-app credentials: documented test values, not secrets.
CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105
REFRESH_TOKEN = "sandbox-refresh-token"  # noqa: S105


def _error(status: str, message: str) -> Response:
    return Response.json(
        400, {"status": status, "message": message, "correlationId": str(uuid.uuid4())}
    )


class OAuthApp:
    """One installed public app: issues access tokens and knows which are still valid."""

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        refresh_token: str = REFRESH_TOKEN,
        ttl_s: float = 1800.0,
    ) -> None:
        self._clock = clock
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self.ttl_s = ttl_s
        self._issued: dict[str, float] = {}
        self._lock = threading.Lock()
        self.exchanges = 0

    def token_endpoint(self, request: Request) -> Response:
        """``POST /oauth/v1/token``: the refresh-token grant."""
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8")).items()}
        if form.get("grant_type") != "refresh_token":
            return _error(
                "BAD_GRANT_TYPE", "grant_type must be authorization_code or refresh_token"
            )
        if (
            form.get("client_id") != self._client_id
            or form.get("client_secret") != self._client_secret
        ):
            return _error("BAD_CLIENT_ID", "missing or invalid client id")
        if form.get("refresh_token") != self._refresh_token:
            return _error("BAD_REFRESH_TOKEN", "missing or invalid refresh token")
        access = f"oauth-{secrets.token_hex(16)}"
        with self._lock:
            self._issued[access] = self._clock() + self.ttl_s
            self.exchanges += 1
        payload = {
            "token_type": "bearer",
            "refresh_token": self._refresh_token,
            "access_token": access,
            "expires_in": int(self.ttl_s),
        }
        return Response.json(200, payload)

    def expire_all(self) -> None:
        """Expire every issued token now (revoked, or expired earlier than announced)."""
        with self._lock:
            now = self._clock()
            self._issued = dict.fromkeys(self._issued, now)

    def status(self, token: str) -> str:
        """``valid``, ``expired`` or ``unknown`` for a bearer token."""
        with self._lock:
            expires = self._issued.get(token)
        if expires is None:
            return "unknown"
        return "valid" if self._clock() < expires else "expired"
