"""Access tokens and how to get a new one: static token, OAuth refresh token, client credentials.

Why crm_sync refreshes itself: simple-salesforce never refreshes a session it was handed, and its
own re-login path can recurse forever (facts §1.6, Gotcha 1). The client asks a
:class:`TokenSource` for the current token and, on ``INVALID_SESSION_ID``, for exactly one
refresh before giving up.

Environment (secrets only ever come from here, DESIGN §6):

``SALESFORCE_ACCESS_TOKEN``
    A session id / OAuth access token to start with. Alone, it cannot be refreshed.
``SALESFORCE_CLIENT_ID`` + ``SALESFORCE_CLIENT_SECRET`` + ``SALESFORCE_REFRESH_TOKEN``
    OAuth refresh-token flow (``grant_type=refresh_token``); the secret is optional for
    connected apps that do not require it.
``SALESFORCE_CLIENT_ID`` + ``SALESFORCE_CLIENT_SECRET`` (no refresh token)
    OAuth client-credentials flow (``grant_type=client_credentials``; needs a My Domain URL and
    a "Run As" user on the connected app).
``SALESFORCE_TOKEN_URL``
    Optional override of ``<instance>/services/oauth2/token``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crm_sync.errors import AuthError, ConfigError, TransientError, redact

__all__ = ["OAuthTokenSource", "StaticToken", "TokenSource", "token_source_from_env"]

TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 - a URL path
_OK = 200

# (url, form) -> (status, parsed JSON). Provided by the client so the token call shares the
# session's timeout, https rules and loopback routing.
PostForm = Callable[[str, Mapping[str, str]], tuple[int, Any]]


class TokenSource:
    """The current access token and, when possible, a way to get a fresh one."""

    def token(self) -> str:
        """The token to send as ``Authorization: Bearer``."""
        raise NotImplementedError

    def can_refresh(self) -> bool:
        """Whether :meth:`refresh` can produce a new token."""
        return False

    def refresh(self) -> str:
        """Obtain a new token (raises :class:`~crm_sync.errors.AuthError` if impossible)."""
        msg = (
            "the Salesforce session expired and only SALESFORCE_ACCESS_TOKEN is set; set "
            "SALESFORCE_CLIENT_ID/SALESFORCE_CLIENT_SECRET (and SALESFORCE_REFRESH_TOKEN) so "
            "crm_sync can refresh it"
        )
        raise AuthError(msg, crm="salesforce", operation="refresh", status=401)


@dataclass
class StaticToken(TokenSource):
    """A token handed in from the environment; never refreshed."""

    value: str

    def token(self) -> str:
        """The fixed token."""
        return self.value

    def __repr__(self) -> str:
        return "StaticToken(***)"


@dataclass
class OAuthTokenSource(TokenSource):
    """Refresh-token or client-credentials flow against ``/services/oauth2/token``."""

    token_url: str
    client_id: str
    client_secret: str | None
    refresh_token: str | None
    post: PostForm
    current: str | None = None
    refreshes: int = 0
    user_id: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def grant(self) -> str:
        """``refresh_token`` when a refresh token is configured, else ``client_credentials``."""
        return "refresh_token" if self.refresh_token else "client_credentials"

    def token(self) -> str:
        """The current token, fetching the first one lazily."""
        if self.current is None:
            return self.refresh()
        return self.current

    def can_refresh(self) -> bool:
        """Always: both grants can mint a new access token."""
        return True

    def refresh(self) -> str:
        """One token request; errors come back as Salesforce's ``{error, error_description}``."""
        form = {"grant_type": self.grant, "client_id": self.client_id}
        if self.client_secret:
            form["client_secret"] = self.client_secret
        if self.refresh_token:
            form["refresh_token"] = self.refresh_token
        with self._lock:
            status, body = self.post(self.token_url, form)
            if status != _OK or not isinstance(body, dict) or "access_token" not in body:
                detail = body if isinstance(body, dict) else {}
                msg = redact(
                    f"Salesforce OAuth {self.grant} grant failed (HTTP {status}): "
                    f"{detail.get('error', 'no error code')}: "
                    f"{detail.get('error_description', '')}. Check SALESFORCE_CLIENT_ID, "
                    "SALESFORCE_CLIENT_SECRET and SALESFORCE_REFRESH_TOKEN"
                )
                cls = TransientError if status >= 500 else AuthError
                raise cls(msg, crm="salesforce", operation="oauth2/token", status=status)
            self.current = str(body["access_token"])
            self.refreshes += 1
            ident = str(body.get("id", ""))
            if "/005" in ident:
                self.user_id = ident.rsplit("/", 1)[-1]
            return self.current

    def __repr__(self) -> str:
        return f"OAuthTokenSource(grant={self.grant}, url={self.token_url})"


def token_source_from_env(
    env: Mapping[str, str], instance_url: str, post: PostForm, access_token: str | None = None
) -> TokenSource:
    """Pick the flow from which variables are set; see the module docstring."""
    token = access_token or env.get("SALESFORCE_ACCESS_TOKEN") or None
    client_id = env.get("SALESFORCE_CLIENT_ID")
    if client_id:
        url = env.get("SALESFORCE_TOKEN_URL") or instance_url.rstrip("/") + TOKEN_PATH
        return OAuthTokenSource(
            token_url=url,
            client_id=client_id,
            client_secret=env.get("SALESFORCE_CLIENT_SECRET") or None,
            refresh_token=env.get("SALESFORCE_REFRESH_TOKEN") or None,
            post=post,
            current=token,
        )
    if token:
        return StaticToken(token)
    msg = (
        "no Salesforce credentials: set SALESFORCE_ACCESS_TOKEN, or SALESFORCE_CLIENT_ID and "
        "SALESFORCE_CLIENT_SECRET (plus SALESFORCE_REFRESH_TOKEN for the refresh-token flow)"
    )
    raise ConfigError(msg)
