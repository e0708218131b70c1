"""client.py, errors.py and auth.py against `responses`: transport rules and every error shape."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import responses

from crm_sync.adapters.salesforce.auth import StaticToken, token_source_from_env
from crm_sync.adapters.salesforce.client import SalesforceClient, TimeoutSession
from crm_sync.errors import (
    AuthError,
    ConfigError,
    PermanentError,
    QuotaExhausted,
    RateLimited,
    TransientError,
)

INSTANCE = "https://example.my.salesforce.com"
BASE = f"{INSTANCE}/services/data/v59.0"


def client(**kw: Any) -> SalesforceClient:
    return SalesforceClient(INSTANCE, kw.pop("tokens", StaticToken("00Dxx!FAKE")), **kw)


@responses.activate
def test_every_call_carries_the_default_timeout() -> None:
    """The session fills in a timeout for REST calls that simple-salesforce sends without one."""
    seen: list[Any] = []
    responses.add(responses.GET, f"{BASE}/limits/", json={})
    c = client(timeout=7.5)
    real = requests.adapters.HTTPAdapter.send

    def spy(self: Any, request: Any, **kw: Any) -> Any:
        seen.append(kw.get("timeout"))
        return real(self, request, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(requests.adapters.HTTPAdapter, "send", spy)
        c.restful("limits", "limits/")
        c.session.request("GET", f"{BASE}/limits/", timeout=None)  # zeep passes None explicitly
    assert seen == [7.5, 7.5]


@responses.activate
def test_limit_info_hook_tracks_usage_from_any_response() -> None:
    """Sforce-Limit-Info is read by a session hook, so every call (not only sf.query) updates it."""
    responses.add(
        responses.PATCH,
        f"{BASE}/composite/sobjects",
        json=[{"id": "003A", "success": True, "errors": []}],
        headers={"Sforce-Limit-Info": "api-usage=42/15000"},
    )
    c = client()
    c.restful("composite/sobjects", "composite/sobjects", method="PATCH", body={"records": []})
    assert c.usage == (42, 15000)


def test_plain_http_is_refused_for_non_loopback_hosts() -> None:
    """Real endpoints need https; http is only for a loopback sandbox."""
    with pytest.raises(ConfigError, match="https"):
        SalesforceClient("http://example.my.salesforce.com", StaticToken("t"))
    assert SalesforceClient("http://127.0.0.1:9", StaticToken("t")).loopback
    assert not client().loopback


def test_session_defaults_ignore_environment() -> None:
    """trust_env is off so REQUESTS_CA_BUNDLE cannot override verification (facts §1.2)."""
    assert TimeoutSession().trust_env is False


def _error(status: int, body: Any, content_type: str = "application/json") -> None:
    text = body if isinstance(body, str) else json.dumps(body)
    responses.add(
        responses.GET, f"{BASE}/limits/", body=text, status=status, content_type=content_type
    )


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            403,
            [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
            QuotaExhausted,
        ),
        (
            403,
            [
                {
                    "message": "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
                    "errorCode": "REQUEST_LIMIT_EXCEEDED",
                }
            ],
            RateLimited,
        ),
        (
            403,
            [
                {
                    "message": "ConcurrentPerOrgLongTxn Limit exceeded.",
                    "errorCode": "REQUEST_LIMIT_EXCEEDED",
                }
            ],
            RateLimited,
        ),
        (
            400,
            [
                {
                    "message": "unable to obtain exclusive access to this record",
                    "errorCode": "UNABLE_TO_LOCK_ROW",
                }
            ],
            TransientError,
        ),
        (
            400,
            [
                {
                    "message": "CANNOT_EXECUTE_FLOW_TRIGGER: ... UNABLE_TO_LOCK_ROW ...",
                    "errorCode": "CANNOT_EXECUTE_FLOW_TRIGGER",
                }
            ],
            TransientError,
        ),
        (503, "<html><body>Service Unavailable</body></html>", TransientError),
        (
            500,
            [{"message": "An unexpected error occurred", "errorCode": "UNKNOWN_EXCEPTION"}],
            TransientError,
        ),
        (400, [{"message": "No such column 'X__c'", "errorCode": "INVALID_FIELD"}], PermanentError),
        (
            404,
            [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}],
            PermanentError,
        ),
        (414, "URI Too Long", PermanentError),
        (
            401,
            [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
            AuthError,
        ),
    ],
)
@responses.activate
def test_documented_error_shapes_are_classified(
    status: int, body: Any, expected: type[Exception]
) -> None:
    """Each documented Salesforce error shape maps to what the engine should do (facts §5)."""
    _error(status, body, "text/html" if isinstance(body, str) else "application/json")
    with pytest.raises(expected) as info:
        client().restful("limits", "limits/")
    assert not (expected is TransientError and isinstance(info.value, QuotaExhausted))


@responses.activate
def test_timeouts_and_dropped_connections_are_transient() -> None:
    """A timeout or reset connection is worth retrying."""
    responses.add(responses.GET, f"{BASE}/limits/", body=requests.Timeout("slow"))
    responses.add(responses.GET, f"{BASE}/limits/", body=requests.ConnectionError("reset"))
    c = client()
    for _ in range(2):
        with pytest.raises(TransientError):
            c.restful("limits", "limits/")


@responses.activate
def test_expired_session_refreshes_once_and_repeats_the_request() -> None:
    """INVALID_SESSION_ID → one refresh-token grant → the same request again with the new token."""
    responses.add(
        responses.POST,
        f"{INSTANCE}/services/oauth2/token",
        json={
            "access_token": "00Dxx!NEW",
            "instance_url": INSTANCE,
            "id": "https://login/id/00D/005xx0000001",
        },
    )
    responses.add(
        responses.GET,
        f"{BASE}/limits/",
        status=401,
        json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
    )
    responses.add(responses.GET, f"{BASE}/limits/", json={"DailyApiRequests": {"Max": 1}})
    holder: list[SalesforceClient] = []
    env = {
        "SALESFORCE_ACCESS_TOKEN": "00Dxx!OLD",
        "SALESFORCE_CLIENT_ID": "cid",
        "SALESFORCE_CLIENT_SECRET": "sec",
        "SALESFORCE_REFRESH_TOKEN": "rt",
    }
    tokens = token_source_from_env(env, INSTANCE, lambda u, f: holder[0].post_form(u, f))  # noqa: PLW0108
    c = client(tokens=tokens)
    holder.append(c)
    assert c.restful("limits", "limits/") == {"DailyApiRequests": {"Max": 1}}
    assert responses.calls[-1].request.headers["Authorization"] == "Bearer 00Dxx!NEW"
    form = dict(x.split("=") for x in str(responses.calls[1].request.body).split("&"))
    assert form["grant_type"] == "refresh_token"
    assert c.refreshes == 1


@responses.activate
def test_error_messages_are_redacted() -> None:
    """Tokens never reach error messages."""
    _error(400, [{"message": "bad Bearer 00Dxx!SECRETTOKEN here", "errorCode": "INVALID_FIELD"}])
    with pytest.raises(PermanentError) as info:
        client().restful("limits", "limits/")
    assert "SECRETTOKEN" not in str(info.value)


def test_missing_credentials_name_the_variables() -> None:
    """Without a token or client id the error says which variables to set."""
    with pytest.raises(ConfigError, match="SALESFORCE_ACCESS_TOKEN"):
        token_source_from_env({}, INSTANCE, lambda u, f: (500, None))
    cc = token_source_from_env(
        {"SALESFORCE_CLIENT_ID": "a", "SALESFORCE_CLIENT_SECRET": "b"},
        INSTANCE,
        lambda u, f: (500, None),
    )
    assert "client_credentials" in repr(cc)
