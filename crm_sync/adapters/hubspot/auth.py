"""Credentials: a private-app token, or an OAuth refresh-token flow that renews itself.

Private apps (the usual choice for a portal's own integration) carry one long-lived bearer token:
``HUBSPOT_ACCESS_TOKEN``. Public apps use OAuth: ``HUBSPOT_CLIENT_ID``, ``HUBSPOT_CLIENT_SECRET``
and ``HUBSPOT_REFRESH_TOKEN`` are exchanged at ``POST /oauth/v1/token`` for an access token that
expires (``expires_in`` seconds, 30 minutes at HubSpot). :class:`OAuthRefresh` refreshes *before*
expiry (``skew_s`` early) so a batch is never sent with a token about to lapse, and the client
forces one more refresh when HubSpot still answers 401 (a token revoked or expired early).

Secrets live only in these objects' private attributes; ``repr`` never shows them and the
rate-limit key is a hash, so nothing secret reaches logs, errors or the store (DESIGN §6).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from crm_sync.errors import AuthError, ConfigError

__all__ = ["OAuthRefresh", "PrivateAppToken", "TokenSource", "token_source_from_env"]

Exchange = Callable[[Mapping[str, str]], Mapping[str, Any]]


def _key(prefix: str, secret: str) -> str:
    return f"{prefix}:{hashlib.sha256(secret.encode()).hexdigest()[:12]}"


class TokenSource(Protocol):
    """Where the client gets its bearer token from."""

    @property
    def key(self) -> str:
        """A non-secret identity of the app, used to share one rate limiter per token."""
        ...

    def token(self) -> str:
        """A token valid for the next request (refreshing first if it is about to expire)."""
        ...

    def refresh(self) -> bool:
        """Force a refresh after a 401; ``False`` when these credentials cannot refresh."""
        ...


class PrivateAppToken:
    """A private-app access token: static, so a 401 is final."""

    def __init__(self, token: str) -> None:
        self._token = token
        self.key = _key("pat", token)

    def __repr__(self) -> str:
        return "PrivateAppToken(***)"

    def token(self) -> str:
        """The token."""
        return self._token

    def refresh(self) -> bool:
        """Private-app tokens cannot be refreshed."""
        return False


class OAuthRefresh:
    """OAuth 2 refresh-token flow; ``exchange`` posts the form to ``/oauth/v1/token``."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        exchange: Exchange,
        *,
        skew_s: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._exchange = exchange
        self._skew_s = skew_s
        self._clock = clock
        self._access: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.refreshes = 0
        self.key = f"oauth:{client_id}"

    def __repr__(self) -> str:
        return f"OAuthRefresh(client_id={self._client_id!r}, secrets=***)"

    def token(self) -> str:
        """The current access token, refreshed first when it expires within ``skew_s``."""
        with self._lock:
            if self._access is None or self._clock() >= self._expires_at - self._skew_s:
                self._do_refresh()
            assert self._access is not None
            return self._access

    def refresh(self) -> bool:
        """Refresh now (after a 401)."""
        with self._lock:
            self._do_refresh()
        return True

    def _do_refresh(self) -> None:
        form = {
            "grant_type": "refresh_token",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "refresh_token": self._refresh_token,
        }
        answer = self._exchange(form)
        access = answer.get("access_token")
        if not isinstance(access, str) or not access:
            msg = "HubSpot's token endpoint returned no access_token; check HUBSPOT_REFRESH_TOKEN"
            raise AuthError(msg, crm="hubspot", operation="oauth refresh")
        self._access = access
        rotated = answer.get("refresh_token")
        if isinstance(rotated, str) and rotated:
            self._refresh_token = rotated
        self._expires_at = self._clock() + float(answer.get("expires_in") or 1800)
        self.refreshes += 1


def token_source_from_env(
    access_token: str | None, exchange: Exchange, env: Mapping[str, str] | None = None
) -> TokenSource:
    """OAuth when ``HUBSPOT_CLIENT_ID``/``_SECRET``/``HUBSPOT_REFRESH_TOKEN`` are all set, else the token."""
    env = os.environ if env is None else env
    oauth = [env.get(k) for k in ("HUBSPOT_CLIENT_ID", "HUBSPOT_CLIENT_SECRET")]
    refresh = env.get("HUBSPOT_REFRESH_TOKEN")
    if all(oauth) and refresh:
        return OAuthRefresh(str(oauth[0]), str(oauth[1]), refresh, exchange)
    if access_token:
        return PrivateAppToken(access_token)
    msg = (
        "no HubSpot credentials: set HUBSPOT_ACCESS_TOKEN (private app), or HUBSPOT_CLIENT_ID, "
        "HUBSPOT_CLIENT_SECRET and HUBSPOT_REFRESH_TOKEN (OAuth)"
    )
    raise ConfigError(msg)
