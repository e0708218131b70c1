"""Auth, rate limits with the real 429 shapes, and the fault plan rendered in HubSpot's shapes."""

from __future__ import annotations

import json

import pytest
import urllib3
from hubspot import HubSpot  # noqa: TID251 - official client under test
from hubspot.crm.contacts import ApiException  # noqa: TID251 - official client under test

from crm_sync.sandbox.faults import FaultInjector
from crm_sync.sandbox.hubspot import HubSpotSandbox


@pytest.fixture
def hubspot_sandbox(clock):
    """A sandbox with the Free/Starter limit of 100 per 10 s and a small daily budget."""
    return HubSpotSandbox(clock=clock, daily_limit=150)


def test_wrong_token_is_401_invalid_authentication(hubspot_server):
    """A wrong bearer token is refused with 401 INVALID_AUTHENTICATION."""
    client = HubSpot(access_token="nope", host=hubspot_server.url)
    with pytest.raises(ApiException) as err:
        client.crm.contacts.basic_api.get_page()
    body = json.loads(err.value.body)
    assert err.value.status == 401
    assert body["category"] == "INVALID_AUTHENTICATION"
    assert body["correlationId"]


def test_ten_secondly_limit_429_with_policy_and_headers(raw, clock):
    """The 101st request in 10 s is a 429 TEN_SECONDLY_ROLLING with Retry-After; the window rolls."""
    for _ in range(100):
        status, _, headers = raw("GET", "/crm/v3/objects/contacts")
        assert status == 200
    assert headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    status, body, headers = raw("GET", "/crm/v3/objects/contacts")
    assert status == 429
    assert headers["Retry-After"] == "10"
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["errorType"] == "RATE_LIMIT"
    assert body["status"] == "error"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    clock.advance(10)
    assert raw("GET", "/crm/v3/objects/contacts")[0] == 200


def test_search_secondly_limit(raw, clock):
    """The 6th search within one second is a 429 SECONDLY."""
    for _ in range(5):
        assert raw("POST", "/crm/v3/objects/contacts/search", {})[0] == 200
    status, body, _ = raw("POST", "/crm/v3/objects/contacts/search", {})
    assert status == 429
    assert body["policyName"] == "SECONDLY"
    clock.advance(1)
    assert raw("POST", "/crm/v3/objects/contacts/search", {})[0] == 200


def test_daily_limit_429_without_retry_after(raw, clock):
    """Past the daily budget every call is a 429 DAILY without Retry-After, until midnight UTC."""
    for i in range(150):
        if i % 90 == 0:
            clock.advance(10)
        assert raw("GET", "/crm/v3/objects/contacts")[0] == 200
    clock.advance(10)
    status, body, headers = raw("GET", "/crm/v3/objects/contacts")
    assert status == 429
    assert body["policyName"] == "DAILY"
    assert "Retry-After" not in headers
    assert headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
    clock.advance(86_400)
    assert raw("GET", "/crm/v3/objects/contacts")[0] == 200


def test_server_error_fault_then_recovery(raw, hubspot_sandbox):
    """A server_error rule with count=2 answers two 503s then serves normally, and logs them."""
    hubspot_sandbox.faults.set_plan(
        {"seed": 1, "rules": [{"api": "hubspot", "kind": "server_error", "count": 2}]}
    )
    assert [raw("GET", "/crm/v3/objects/contacts")[0] for _ in range(3)] == [503, 503, 200]
    _status, body, _ = raw("GET", "/__sandbox__/faults/log")
    assert [e["kind"] for e in body["injections"]] == ["server_error", "server_error"]


def test_rate_limit_burst_and_session_expiry_faults(raw):
    """Burst faults render HubSpot's 429; session expiry after N calls renders 401 thereafter."""
    plan = {
        "seed": 3,
        "rules": [
            {"kind": "rate_limit_burst", "count": 1, "retry_after": 2},
            {"kind": "session_expiry", "after_calls": 3},
        ],
    }
    assert raw("POST", "/__sandbox__/faults", plan)[0] == 200
    status, body, headers = raw("GET", "/crm/v3/objects/contacts")
    assert (status, body["policyName"], headers["Retry-After"]) == (
        429,
        "TEN_SECONDLY_ROLLING",
        "2",
    )
    assert [raw("GET", "/crm/v3/objects/contacts")[0] for _ in range(3)] == [200, 200, 401]


def test_drop_fault_closes_the_connection(hubspot_server, hubspot_sandbox):
    """A drop rule closes the connection without an answer (a urllib3 protocol error)."""
    hubspot_sandbox.faults.set_plan({"rules": [{"kind": "drop", "count": 1}]})
    client = HubSpot(
        access_token="sandbox", host=hubspot_server.url, retry=urllib3.util.Retry(total=0)
    )
    with pytest.raises(urllib3.exceptions.HTTPError):
        client.crm.contacts.basic_api.get_page()
    assert client.crm.contacts.basic_api.get_page().results == []


def test_search_lag_fault_hides_fresh_writes(hs, hubspot_sandbox, clock):
    """A search_lag rule hides records written within its `seconds` from search."""
    hubspot_sandbox.state.create("contacts", {"email": "a@ex.com"})
    hubspot_sandbox.faults.set_plan(
        {"rules": [{"kind": "search_lag", "seconds": 30, "path": "/search$"}]}
    )
    assert hs.crm.contacts.search_api.do_search(public_object_search_request={}).total == 0
    clock.advance(30)
    assert hs.crm.contacts.search_api.do_search(public_object_search_request={}).total == 1


def test_fault_decisions_are_deterministic_by_seed():
    """The same plan and call sequence inject the same faults."""
    from crm_sync.sandbox.http import Request

    plan = {"seed": 9, "rules": [{"kind": "server_error", "probability": 0.4}]}
    request = Request("GET", "/x", {}, {}, b"")
    runs = [
        [bool(FaultInjector(plan).decide("hubspot", request)) for _ in range(1)] for _ in range(2)
    ]
    injector_a, injector_b = FaultInjector(plan), FaultInjector(plan)
    seq_a = [injector_a.decide("hubspot", request) is not None for _ in range(50)]
    seq_b = [injector_b.decide("hubspot", request) is not None for _ in range(50)]
    assert seq_a == seq_b
    assert 5 < sum(seq_a) < 45
    assert runs[0] == runs[1]


def test_admin_reset_and_stats(raw, hubspot_sandbox):
    """Admin stats count requests per endpoint; reset restores a fresh portal (no auth needed)."""
    hubspot_sandbox.state.create("contacts", {"email": "a@ex.com"})
    raw("GET", "/crm/v3/objects/contacts/100002")
    _status, stats, _ = raw("GET", "/__sandbox__/stats")
    assert stats["endpoints"] == {"GET /crm/v3/objects/contacts/{id}": 1}
    assert raw("POST", "/__sandbox__/reset")[0] == 204
    assert raw("GET", "/crm/v3/objects/contacts")[1]["results"] == []
