"""Sessions, OAuth token endpoint, API allocation and fault rendering of the Salesforce sandbox."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce import (  # noqa: TID251 - tests drive the sandbox with the official client
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from crm_sync.sandbox.faults import FaultInjector

TOKEN_URL = "https://login.salesforce.com/services/oauth2/token"
BASE = "https://x.my.salesforce.com/services/data/v62.0"
EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_wrong_token_is_401_invalid_session_id(client_for):
    """An unknown bearer token answers 401 INVALID_SESSION_ID (SalesforceExpiredSession)."""
    with pytest.raises(SalesforceExpiredSession) as err:
        client_for("nope").query("SELECT Id FROM Contact")
    assert err.value.status == 401
    assert err.value.content == EXPIRED


def test_missing_authorization_header_is_401(raw):
    """No Authorization header at all is refused the same way."""
    r = raw.get(f"{BASE}/sobjects")
    assert r.status_code == 401
    assert r.json() == EXPIRED


@pytest.mark.parametrize("sandbox_options", [{"session_ttl_calls": 2}])
def test_session_expires_after_n_calls_and_stays_expired(sf):
    """With session_ttl_calls=2 the third call is 401, and so is every later one."""
    sf.query("SELECT Id FROM Contact")
    sf.query("SELECT Id FROM Contact")
    for _ in range(2):
        with pytest.raises(SalesforceExpiredSession):
            sf.query("SELECT Id FROM Contact")


@pytest.mark.parametrize("sandbox_options", [{"session_ttl_calls": 1}])
def test_refresh_token_grant_issues_a_working_session(sf, raw, client_for):
    """refresh_token grant returns the documented JSON; the new access_token works."""
    sf.query("SELECT Id FROM Contact")
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Contact")
    r = raw.post(
        TOKEN_URL,
        data={
            "grant_type": "refresh_token",
            "client_id": "sandbox-client-id",
            "refresh_token": "sandbox-refresh-token",
        },
    )
    body = r.json()
    assert r.status_code == 200
    assert body["token_type"] == "Bearer"
    assert body["instance_url"].startswith("https://")
    assert set(body) >= {"access_token", "signature", "scope", "instance_url", "id", "issued_at"}
    assert client_for(body["access_token"]).query("SELECT COUNT() FROM Contact")["totalSize"] == 0


def test_token_endpoint_errors(raw):
    """Bad grant, client, secret or refresh token answer 400 {error, error_description}."""
    cases = [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        (
            {
                "grant_type": "refresh_token",
                "client_id": "x",
                "refresh_token": "sandbox-refresh-token",
            },
            "invalid_client_id",
        ),
        (
            {
                "grant_type": "refresh_token",
                "client_id": "sandbox-client-id",
                "refresh_token": "old",
            },
            "invalid_grant",
        ),
        (
            {
                "grant_type": "client_credentials",
                "client_id": "sandbox-client-id",
                "client_secret": "bad",
            },
            "invalid_client",
        ),
    ]
    for form, error in cases:
        r = raw.post(TOKEN_URL, data=form)
        assert r.status_code == 400
        assert r.json()["error"] == error
        assert "error_description" in r.json()


def test_client_credentials_grant(raw, client_for):
    """client_credentials with the right secret issues a session without a refresh token."""
    r = raw.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-client-id",
            "client_secret": "sandbox-client-secret",
        },
    )
    assert r.status_code == 200
    assert "refresh_token" not in r.json()
    assert client_for(r.json()["access_token"]).describe()["maxBatchSize"] == 200


def test_limit_info_header_on_every_rest_response(sf, raw):
    """Every counted response carries Sforce-Limit-Info: api-usage=N/15000."""
    sf.query("SELECT Id FROM Contact")
    assert sf.api_usage["api-usage"].used == 1
    assert sf.api_usage["api-usage"].total == 15000
    r = raw.get(f"{BASE}/sobjects/Contact/describe", headers={"Authorization": "Bearer sandbox"})
    assert r.headers["Sforce-Limit-Info"] == "api-usage=2/15000"
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 15000


@pytest.mark.parametrize("sandbox_options", [{"daily_limit": 3}])
def test_daily_allocation_spent_is_403_and_rolls_over(sf, clock):
    """Past the allocation: 403 REQUEST_LIMIT_EXCEEDED 'TotalRequests Limit exceeded.'; 24 h later it works."""
    for _ in range(3):
        sf.query("SELECT Id FROM Contact")
    with pytest.raises(SalesforceRefusedRequest) as err:
        sf.query("SELECT Id FROM Contact")
    assert err.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    clock.advance(hours=24)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


def faulty(rule):
    return [{"faults": FaultInjector({"seed": 1, "rules": [rule]})}]


@pytest.mark.parametrize(
    "sandbox_options",
    faulty({"kind": "lock_error", "api": "salesforce", "method": "PATCH", "count": 1}),
)
def test_lock_error_on_single_record_is_400(sf):
    """A lock fault on a single update answers 400 UNABLE_TO_LOCK_ROW; the retry succeeds."""
    cid = sf.Contact.create({"LastName": "X"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.update(cid, {"Title": "A"})
    assert err.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert err.value.content[0]["message"].startswith(
        "unable to obtain exclusive access to this record"
    )
    assert sf.Contact.update(cid, {"Title": "A"}) == 204


@pytest.mark.parametrize(
    "sandbox_options",
    faulty({"kind": "lock_error", "api": "salesforce", "path": "composite", "count": 1}),
)
def test_lock_error_in_collection_is_per_record(sf):
    """In a collection the lock fault fails one record with statusCode UNABLE_TO_LOCK_ROW; HTTP 200."""
    res = sf.restful("composite/sobjects", method="POST", json={"records": [
        {"attributes": {"type": "Contact"}, "LastName": "A"}, {"attributes": {"type": "Contact"}, "LastName": "B"}]})  # fmt: skip
    assert res[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert res[1]["success"] is True


@pytest.mark.parametrize(
    "sandbox_options",
    faulty({"kind": "server_error", "api": "salesforce", "status": 503, "count": 1}),
)
def test_server_error_503_is_html(sf):
    """A 503 fault answers an HTML page (e.content is text), then service resumes."""
    with pytest.raises(SalesforceGeneralError) as err:
        sf.query("SELECT Id FROM Contact")
    assert err.value.status == 503
    assert "Service Unavailable" in err.value.content
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


@pytest.mark.parametrize(
    "sandbox_options",
    faulty({"kind": "server_error", "api": "salesforce", "status": 500, "count": 1}),
)
def test_server_error_500_is_unknown_exception(sf):
    """A 500 fault answers [{errorCode: UNKNOWN_EXCEPTION}]."""
    with pytest.raises(SalesforceGeneralError) as err:
        sf.query("SELECT Id FROM Contact")
    assert err.value.status == 500
    assert err.value.content[0]["errorCode"] == "UNKNOWN_EXCEPTION"


@pytest.mark.parametrize(
    "sandbox_options", faulty({"kind": "rate_limit_burst", "api": "salesforce", "count": 1})
)
def test_rate_limit_burst_is_concurrent_request_limit(sf):
    """A burst renders as 403 REQUEST_LIMIT_EXCEEDED with the ConcurrentRequests message."""
    with pytest.raises(SalesforceRefusedRequest) as err:
        sf.query("SELECT Id FROM Contact")
    assert err.value.content == [
        {
            "message": "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
            "errorCode": "REQUEST_LIMIT_EXCEEDED",
        }
    ]


@pytest.mark.parametrize(
    "sandbox_options",
    faulty({"kind": "session_expiry", "api": "salesforce", "after_calls": 1, "count": 1}),
)
def test_session_expiry_fault_expires_the_session(sf):
    """session_expiry after 1 call: the 2nd call is 401 and the session stays dead."""
    sf.query("SELECT Id FROM Contact")
    for _ in range(2):
        with pytest.raises(SalesforceExpiredSession) as err:
            sf.query("SELECT Id FROM Contact")
        assert err.value.content == EXPIRED


@pytest.mark.parametrize(
    "sandbox_options", faulty({"kind": "drop", "api": "salesforce", "count": 1})
)
def test_drop_closes_the_connection(sf):
    """A drop fault surfaces as a requests ConnectionError."""
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.query("SELECT Id FROM Contact")


def test_admin_endpoint_installs_a_plan(raw, sf):
    """POST /__sandbox__/faults sets a plan at runtime; the log lists injections."""
    plan = {
        "seed": 3,
        "rules": [{"kind": "server_error", "api": "salesforce", "status": 500, "count": 1}],
    }
    assert raw.post("https://x/__sandbox__/faults", json=plan).status_code == 200
    with pytest.raises(SalesforceGeneralError):
        sf.query("SELECT Id FROM Contact")
    log = raw.get("https://x/__sandbox__/faults/log").json()["injections"]
    assert log[0]["kind"] == "server_error"
    assert log[0]["api"] == "salesforce"
