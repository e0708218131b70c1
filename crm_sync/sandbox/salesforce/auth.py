"""Bearer sessions that expire, and the OAuth token endpoint that issues new ones.

Why: simple-salesforce never refreshes a session it was handed (facts §1.6, Gotcha 1), so
crm_sync refreshes its OAuth token itself. The sandbox therefore needs sessions that really
expire (after N calls, or when a fault says so) with the real 401 body, and a
``/services/oauth2/token`` that answers the ``refresh_token`` and ``client_credentials`` grants
with Salesforce's JSON — including its ``{"error", "error_description"}`` failures.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from crm_sync.sandbox.http import Request, Response
from crm_sync.sandbox.salesforce.errors import SfError

__all__ = ["OAuthConfig", "Sessions"]

ORG_ID = "00D5g000000SbXzEAK"


@dataclass
class OAuthConfig:
    """The connected app's credentials the token endpoint accepts."""

    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"  # noqa: S105 - sandbox-only credential
    refresh_tokens: set[str] = field(default_factory=lambda: {"sandbox-refresh-token"})
    client_credentials_enabled: bool = True


@dataclass
class _Session:
    user_id: str
    calls: int = 0
    expired: bool = False


def expired_session() -> SfError:
    """Facts §5: the 401 body for an expired or unknown session."""
    return SfError("INVALID_SESSION_ID", "Session expired or invalid", status=401)


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return Response.json(status, {"error": error, "error_description": description})


class Sessions:
    """Valid tokens and their call budgets; ``ttl_calls=None`` means sessions never expire."""

    def __init__(self, token: str, user_id: str, ttl_calls: int | None = None) -> None:
        self.ttl_calls = ttl_calls
        self.oauth = OAuthConfig()
        self._user_id = user_id
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {token: _Session(user_id)}
        self._counter = itertools.count(1)

    def authenticate(self, request: Request) -> str:
        """The user behind the request's bearer token; counts the call against the session."""
        header = request.header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not token:
            raise expired_session()
        with self._lock:
            session = self._sessions.get(token.strip())
            if session is None or session.expired:
                raise expired_session()
            session.calls += 1
            if self.ttl_calls is not None and session.calls > self.ttl_calls:
                session.expired = True
                raise expired_session()
            return session.user_id

    def session_id(self, token: str) -> str | None:
        """The user of a raw session id (the Metadata API's SOAP ``SessionHeader``), counted."""
        return self.authenticate(Request("POST", "", {}, {"Authorization": f"Bearer {token}"}, b""))

    def expire(self, request: Request) -> None:
        """Invalidate the request's session (the ``session_expiry`` fault)."""
        token = (request.header("Authorization") or " ").partition(" ")[2].strip()
        with self._lock:
            if token in self._sessions:
                self._sessions[token].expired = True

    def expire_all(self) -> None:
        """Invalidate every session (an admin revoked them)."""
        with self._lock:
            for session in self._sessions.values():
                session.expired = True

    def _issue(self, request: Request, scope: str) -> dict[str, Any]:
        n = next(self._counter)
        digest = hashlib.sha256(f"{ORG_ID}:{n}".encode()).hexdigest()
        token = f"{ORG_ID[:15]}!AQ{digest[:60]}"
        with self._lock:
            self._sessions[token] = _Session(self._user_id)
        host = request.header("Host") or "127.0.0.1"
        return {
            "access_token": token,
            "signature": hashlib.sha256(token.encode()).hexdigest()[:44],
            "scope": scope,
            "instance_url": f"https://{host}",
            "id": f"https://login.salesforce.com/id/{ORG_ID}/{self._user_id}",
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
        }

    def token_endpoint(self, request: Request) -> Response:
        """``POST /services/oauth2/token`` (form-encoded, as the OAuth spec and Salesforce require)."""
        if request.method != "POST":
            return _oauth_error("invalid_request", "must use HTTP POST", 400)
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type")
        if grant not in ("refresh_token", "client_credentials"):
            return _oauth_error("unsupported_grant_type", "grant type not supported")
        if form.get("client_id") != self.oauth.client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if grant == "client_credentials":
            if form.get("client_secret") != self.oauth.client_secret:
                return _oauth_error("invalid_client", "invalid client credentials")
            if not self.oauth.client_credentials_enabled:
                return _oauth_error("invalid_grant", "no client credentials user enabled")
            return Response.json(200, self._issue(request, "api"))
        if "client_secret" in form and form["client_secret"] != self.oauth.client_secret:
            return _oauth_error("invalid_client", "invalid client credentials")
        if form.get("refresh_token") not in self.oauth.refresh_tokens:
            return _oauth_error("invalid_grant", "expired access/refresh token")
        return Response.json(200, self._issue(request, "api refresh_token"))
