"""Error shapes, daily quota stop, OAuth refresh, lists and enrollment."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from crm_sync.adapters.hubspot.adapter import HubSpotAdapter
from crm_sync.adapters.hubspot.auth import OAuthRefresh
from crm_sync.adapters.hubspot.client import HubSpotClient
from crm_sync.adapters.hubspot.errors import translate
from crm_sync.adapters.hubspot.ratelimit import RequestWindow
from crm_sync.errors import (
    AuthError,
    PermanentError,
    QuotaExhausted,
    RateLimited,
    TransientError,
)
from crm_sync.sandbox.seed import generate_book
from crm_sync.store.sql import Store
from crm_sync.sync import RunOptions, run_sync


class FakeApiException(Exception):
    """Shaped like any hubspot.*.ApiException: status, body bytes, headers."""

    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status, self.body, self.headers = status, json.dumps(body).encode(), headers or {}


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind"),
    [
        (
            429,
            {"policyName": "TEN_SECONDLY_ROLLING", "errorType": "RATE_LIMIT"},
            {"Retry-After": "2"},
            RateLimited,
        ),
        (429, {"policyName": "SECONDLY", "errorType": "RATE_LIMIT"}, {}, RateLimited),
        (429, {"policyName": "DAILY", "errorType": "RATE_LIMIT"}, {}, QuotaExhausted),
        (500, {"category": "INTERNAL_ERROR", "message": "x"}, {}, TransientError),
        (502, {}, {}, TransientError),
        (401, {"category": "INVALID_AUTHENTICATION", "message": "x"}, {}, AuthError),
        (403, {"category": "MISSING_SCOPES", "message": "x"}, {}, AuthError),
        (400, {"category": "VALIDATION_ERROR", "message": "bad"}, {}, PermanentError),
        (404, {"category": "OBJECT_NOT_FOUND", "message": "gone"}, {}, PermanentError),
        (409, {"category": "CONFLICT", "message": "exists"}, {}, PermanentError),
    ],
)
def test_each_documented_error_shape_is_classified(status, body, headers, kind):
    """Every documented HubSpot error maps to the crm_sync class the engine acts on."""
    err = translate(FakeApiException(status, body, headers), operation="op")
    assert type(err) is kind
    assert err.status == status
    if status == 429 and "Retry-After" in headers:
        assert err.retry_after == 2.0


def test_transport_failures_are_transient_and_messages_redacted():
    """Dropped connections retry; a bearer token inside a message never survives."""
    err = translate(ConnectionResetError("reset by peer"), operation="op")
    assert isinstance(err, TransientError)
    leak = FakeApiException(400, {"message": "Authorization: Bearer pat-na1-0123456789abcdef0123"})
    assert "0123456789abcdef" not in str(translate(leak, operation="op"))


def test_burst_429_from_the_sandbox_carries_retry_after(url, sandbox, client_factory):
    """The sandbox's real TEN_SECONDLY_ROLLING 429 becomes RateLimited with its Retry-After."""
    sandbox.limiter.per_10s = 1
    client = HubSpotClient(
        url, client_factory(url).auth, window=RequestWindow(10, adopt_headers=False)
    )
    client.properties("contacts")
    with pytest.raises(RateLimited) as info:
        client.properties("contacts")
    assert info.value.retry_after is not None
    assert info.value.retry_after >= 1


def test_client_window_paces_to_zero_429s(url, sandbox, client_factory):
    """With the portal at 20 per 10 s, 30 requests go through without a single 429."""
    sandbox.limiter.per_10s = 20
    slept: list[float] = []
    clock = [0.0]
    window = RequestWindow(
        20,
        clock=lambda: clock[0],
        sleep=lambda s: (slept.append(s), clock.__setitem__(0, clock[0] + s)),
    )
    client = HubSpotClient(url, client_factory(url).auth, window=window)
    sandbox.limiter._clock = lambda: clock[0] + 1_700_000_000  # same virtual time on both sides
    for _ in range(30):
        client.properties("contacts")
    assert client.status_counts[429] == 0
    assert slept


def test_daily_quota_stops_the_run_cleanly_with_state_saved(url, sandbox, mapping, computer):
    """A DAILY 429 ends the run as quota_stopped; the next run resumes and finishes."""
    sandbox.load_book(generate_book(2, 6))
    hub = HubSpotAdapter(
        HubSpotClient(url, _pat(), window=RequestWindow(10_000, search_per_s=5)),
        mapping,
        account="q",
    )
    hub.apply_provision(hub.plan_provision(mapping))
    sandbox.limiter.daily = sandbox.limiter._used_today + 12
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(path=Path(tmp) / "s.sqlite")
        first = run_sync(hub, mapping, computer, store, RunOptions(page_size=50, overlap_s=0))
        assert first.status == "quota_stopped"
        assert first.errors[0]["type"] == "QuotaExhausted"
        assert store.get_cursor("hubspot:q", "companies") is not None
        sandbox.limiter.daily = 10**9
        second = run_sync(hub, mapping, computer, store, RunOptions(page_size=50, overlap_s=0))
        assert second.status == "ok"
        assert second.counts.get("records_pushed", 0) > 0
        store.close()


def _pat():
    from crm_sync.adapters.hubspot.auth import PrivateAppToken

    return PrivateAppToken("sandbox")


def test_oauth_refreshes_before_expiry():
    """A token within the skew of its expiry is refreshed before the next request."""
    now = [1000.0]
    issued = iter(["t1", "t2"])
    auth = OAuthRefresh(
        "cid",
        "secret",
        "rt",
        lambda form: {"access_token": next(issued), "expires_in": 1800},
        skew_s=300,
        clock=lambda: now[0],
    )
    assert auth.token() == "t1"
    now[0] += 1400
    assert auth.token() == "t1"
    now[0] += 200  # 100 s before expiry: inside the skew
    assert auth.token() == "t2"
    assert "s3cr3t" not in repr(auth)


def test_oauth_refreshes_once_on_401(url, sandbox):
    """A 401 with an OAuth token triggers exactly one refresh and one resend."""
    issued = iter(["stale-token", "sandbox", "never-used"])
    forms: list[dict] = []

    def exchange(form):
        forms.append(dict(form))
        return {"access_token": next(issued), "expires_in": 1800}

    client = HubSpotClient(
        url, OAuthRefresh("cid", "sec", "rt", exchange), window=RequestWindow(10_000)
    )
    assert client.properties("contacts").status == 200
    assert len(forms) == 2
    assert forms[0]["grant_type"] == "refresh_token"
    assert client.status_counts[401] == 1


def test_private_app_token_401_is_an_auth_error(url, client_factory):
    """A refused private-app token cannot refresh: AuthError after one attempt."""
    client = client_factory(url, token="wrong")
    with pytest.raises(AuthError):
        client.properties("contacts")
    assert client.status_counts[401] == 1


def test_list_membership_creates_a_manual_list_and_syncs_it(adapter, sandbox):
    """Members are added and removed in a MANUAL list found (or created) by name."""
    ids = [sandbox.state.create("contacts", {"email": f"l{i}@x.example"}).id for i in range(3)]
    result = adapter.set_list_membership("crm_sync vip", ids, [])
    assert sorted(result.accepted) == sorted(ids)
    (lst,) = [x for x in sandbox.state.lists.values() if x["name"] == "crm_sync vip"]
    assert lst["processingType"] == "MANUAL"
    adapter.set_list_membership("crm_sync vip", [], ids[:1])
    assert set(sandbox.state.list_members[lst["listId"]]) == set(ids[1:])


def test_workflow_enrollment_by_email(adapter, sandbox):
    """v2 enrollment enrols known e-mails and rejects unknown ones per record."""
    contact = sandbox.state.create("contacts", {"email": "enrol@x.example"})
    workflow = sandbox.state.add_workflow("Nurture")
    result = adapter.enroll(int(workflow), ["enrol@x.example", "nobody@x.example"])
    assert result.accepted == ("enrol@x.example",)
    assert [r.record_id for r in result.rejected] == ["nobody@x.example"]
    assert contact.id in sandbox.state.enrollments[workflow]
