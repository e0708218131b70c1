"""The OAuth refresh-token flow end to end against the sandbox's /oauth/v1/token endpoint."""

from __future__ import annotations

import pytest

from crm_sync.adapters.hubspot import from_settings
from crm_sync.adapters.hubspot.auth import OAuthRefresh
from crm_sync.adapters.hubspot.client import HubSpotClient, exchange_refresh_token
from crm_sync.adapters.hubspot.ratelimit import RequestWindow
from crm_sync.config import Settings
from crm_sync.errors import AuthError
from crm_sync.sandbox.hubspot.app import HubSpotSandbox
from crm_sync.sandbox.hubspot.oauth import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def portal(sandbox_listener):
    """A sandbox on its own clock, and its base URL."""
    clock = Clock()
    sandbox = HubSpotSandbox(clock=clock, rate_limit_per_10s=10_000)
    server, switch = sandbox_listener
    switch.app = sandbox.app
    return sandbox, clock, server.url


def _client(url: str, clock: Clock, refresh_token: str = REFRESH_TOKEN) -> HubSpotClient:
    auth = OAuthRefresh(
        CLIENT_ID, CLIENT_SECRET, refresh_token, exchange_refresh_token(url), clock=clock
    )
    return HubSpotClient(url, auth, window=RequestWindow(10_000))


def test_access_token_is_obtained_and_reused_until_near_expiry(portal):
    """One exchange serves many calls; inside the 5-minute skew the token is refreshed first."""
    sandbox, clock, url = portal
    client = _client(url, clock)
    for _ in range(3):
        assert client.properties("contacts").status == 200
    assert sandbox.oauth.exchanges == 1
    clock.now += 1800 - 200  # 200 s before expiry, inside the 300 s skew
    assert client.properties("contacts").status == 200
    assert sandbox.oauth.exchanges == 2
    assert client.status_counts.get(401, 0) == 0, "refreshed before expiry, not after a 401"


def test_token_expired_early_is_refreshed_once_on_401(portal):
    """A token the portal expired sooner than announced costs one 401, one refresh, one resend."""
    sandbox, clock, url = portal
    client = _client(url, clock)
    assert client.properties("contacts").status == 200
    sandbox.oauth.expire_all()  # the portal ends the token long before its announced 30 minutes
    assert client.properties("contacts").status == 200
    assert client.status_counts[401] == 1
    assert sandbox.oauth.exchanges == 2


def test_bad_refresh_token_is_an_auth_error_without_the_secret(portal):
    """HubSpot's BAD_REFRESH_TOKEN is final: AuthError, and the message carries no secret."""
    _, clock, url = portal
    client = _client(url, clock, refresh_token="revoked-refresh-token-123")
    with pytest.raises(AuthError) as info:
        client.properties("contacts")
    assert "BAD_REFRESH_TOKEN" in str(info.value) or "refresh token" in str(info.value)
    assert "revoked-refresh-token-123" not in str(info.value)
    assert CLIENT_SECRET not in str(info.value)


def test_from_settings_uses_oauth_when_its_variables_are_set(portal, monkeypatch):
    """With HUBSPOT_CLIENT_ID/SECRET/REFRESH_TOKEN and no access token, the adapter runs on OAuth."""
    sandbox, _, url = portal
    monkeypatch.setenv("CRM_SYNC_HUBSPOT_BASE_URL", url)
    monkeypatch.setenv("HUBSPOT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("HUBSPOT_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("HUBSPOT_REFRESH_TOKEN", REFRESH_TOKEN)
    adapter = from_settings(Settings(), None)
    adapter.describe("contact")  # an authenticated call: no crm_sync properties exist yet
    assert sandbox.oauth.exchanges == 1
