"""The sandbox's OAuth v1 token endpoint: the refresh grant, its error bodies, token lifetime."""

from __future__ import annotations

import requests

from crm_sync.sandbox.hubspot.oauth import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN


def _token(url: str, **overrides: str) -> requests.Response:
    form = {
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
        **overrides,
    }
    return requests.post(f"{url}/oauth/v1/token", data=form, timeout=10)


def test_refresh_grant_returns_a_bearer_token_that_works(hubspot_server):
    """A valid refresh grant answers token_type, access_token, refresh_token, expires_in=1800."""
    answer = _token(hubspot_server.url)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert body["refresh_token"] == REFRESH_TOKEN
    assert body["expires_in"] == 1800
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    listed = requests.get(
        f"{hubspot_server.url}/crm/v3/objects/contacts", headers=headers, timeout=10
    )
    assert listed.status_code == 200


def test_bad_refresh_token_and_bad_client_have_their_own_status(hubspot_server):
    """A wrong refresh token is 400 BAD_REFRESH_TOKEN; a wrong client secret is 400 BAD_CLIENT_ID."""
    bad_refresh = _token(hubspot_server.url, refresh_token="nope")
    assert bad_refresh.status_code == 400
    assert bad_refresh.json()["status"] == "BAD_REFRESH_TOKEN"
    bad_client = _token(hubspot_server.url, client_secret="nope")
    assert bad_client.status_code == 400
    assert bad_client.json()["status"] == "BAD_CLIENT_ID"


def test_expired_oauth_token_is_refused_with_expired_authentication(hubspot_server, clock):
    """After 30 minutes an OAuth access token gets 401 EXPIRED_AUTHENTICATION."""
    access = _token(hubspot_server.url).json()["access_token"]
    clock.advance(1801)
    answer = requests.get(
        f"{hubspot_server.url}/crm/v3/objects/contacts",
        headers={"Authorization": f"Bearer {access}"},
        timeout=10,
    )
    assert answer.status_code == 401
    assert answer.json()["category"] == "EXPIRED_AUTHENTICATION"
