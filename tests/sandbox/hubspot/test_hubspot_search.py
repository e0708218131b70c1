"""CRM search: filters, one sort, paging, limits, the 10,000 cap and indexing lag."""

from __future__ import annotations

import json

import pytest
from hubspot.crm.contacts import ApiException  # noqa: TID251 - official client under test

from crm_sync.sandbox.hubspot import HubSpotSandbox


def _seed(sandbox: HubSpotSandbox, n: int) -> None:
    for i in range(n):
        sandbox.state.create(
            "contacts",
            {"email": f"c{i}@ex.com", "firstname": f"N{i % 3}", "lifecyclestage": "lead"},
        )


def _search(hs, **body):
    return hs.crm.contacts.search_api.do_search(public_object_search_request=body)


def test_filters_and_default_properties(hs, hubspot_sandbox):
    """EQ filters match case-insensitively and results carry the contact default properties."""
    _seed(hubspot_sandbox, 6)
    res = _search(
        hs,
        filterGroups=[
            {"filters": [{"propertyName": "firstname", "operator": "EQ", "value": "n1"}]}
        ],
    )
    assert res.total == 2
    assert set(res.results[0].properties) == {
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    }


def test_operators_cover_ranges_sets_and_presence(hs, hubspot_sandbox):
    """GTE on dates (epoch ms), IN, NOT_HAS_PROPERTY and OR across filterGroups behave as documented."""
    _seed(hubspot_sandbox, 3)
    gte = [
        {
            "filters": [
                {"propertyName": "lastmodifieddate", "operator": "GTE", "value": "1700000000000"}
            ]
        }
    ]
    assert _search(hs, filterGroups=gte).total == 3
    in_ = [
        {
            "filters": [
                {"propertyName": "email", "operator": "IN", "values": ["c0@ex.com", "c2@ex.com"]}
            ]
        }
    ]
    assert _search(hs, filterGroups=in_).total == 2
    missing = [{"filters": [{"propertyName": "lastname", "operator": "NOT_HAS_PROPERTY"}]}]
    assert _search(hs, filterGroups=missing).total == 3
    either = [
        {"filters": [{"propertyName": "firstname", "operator": "EQ", "value": "N0"}]},
        {"filters": [{"propertyName": "firstname", "operator": "EQ", "value": "N2"}]},
    ]
    assert _search(hs, filterGroups=either).total == 2


def test_sort_and_after_paging(hs, hubspot_sandbox):
    """Results sort by one property and page with the `after` offset."""
    _seed(hubspot_sandbox, 5)
    first = _search(hs, sorts=[{"propertyName": "email", "direction": "DESCENDING"}], limit=2)
    assert [r.properties["email"] for r in first.results] == ["c4@ex.com", "c3@ex.com"]
    second = _search(
        hs,
        sorts=[{"propertyName": "email", "direction": "DESCENDING"}],
        limit=2,
        after=first.paging.next.after,
    )
    assert [r.properties["email"] for r in second.results] == ["c2@ex.com", "c1@ex.com"]


@pytest.mark.parametrize(
    "body",
    [
        {"limit": 201},
        {"filterGroups": [{"filters": []}] * 6},
        {
            "filterGroups": [
                {"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}] * 7}
            ]
        },
        {
            "filterGroups": [
                {"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}] * 5}
            ]
            * 4
        },
        {"filterGroups": [{"filters": [{"propertyName": "nope", "operator": "EQ", "value": "x"}]}]},
        {"sorts": ["email", "firstname"]},
        {"query": "x" * 3000},
    ],
    ids=[
        "limit",
        "groups",
        "per-group",
        "total-filters",
        "unknown-property",
        "two-sorts",
        "body-size",
    ],
)
def test_search_limits_are_400(hs, body):
    """Every documented search limit is refused with 400 VALIDATION_ERROR."""
    with pytest.raises(ApiException) as err:
        _search(hs, **body)
    assert err.value.status == 400
    assert json.loads(err.value.body)["category"] == "VALIDATION_ERROR"


def test_paging_past_10000_is_400(hs, hubspot_sandbox):
    """`after` at 10,000 is a 400 even though the previous page offered it as the next cursor."""
    for i in range(10_050):
        hubspot_sandbox.state.create("contacts", {"firstname": str(i)})
    page = _search(hs, limit=200, after="9800")
    assert page.total == 10_050
    assert len(page.results) == 200
    assert page.paging.next.after == "10000"
    with pytest.raises(ApiException) as err:
        _search(hs, limit=10, after=page.paging.next.after)
    assert err.value.status == 400


def test_search_lags_writes(hs, hubspot_sandbox, clock):
    """With a lag, a fresh write is invisible to search until `lag` seconds pass; get sees it at once."""
    hubspot_sandbox.search_lag_seconds = 5
    made = hs.crm.contacts.basic_api.create(
        simple_public_object_input_for_create={"properties": {"email": "l@ex.com"}}
    )
    assert _search(hs).total == 0
    assert hs.crm.contacts.basic_api.get_by_id(made.id).id == made.id
    clock.advance(5)
    assert _search(hs).total == 1


def test_search_responses_have_no_rate_limit_headers(raw):
    """Search answers carry no X-HubSpot-RateLimit-* headers; other endpoints do."""
    _, _, headers = raw("POST", "/crm/v3/objects/contacts/search", {})
    assert not [h for h in headers if h.lower().startswith("x-hubspot-ratelimit")]
    _, _, headers = raw("GET", "/crm/v3/objects/contacts")
    assert headers["X-HubSpot-RateLimit-Max"] == "10000"


def test_archived_records_never_match(hs, hubspot_sandbox):
    """Archived records are excluded from search."""
    _seed(hubspot_sandbox, 2)
    hubspot_sandbox.state.archive(hubspot_sandbox.state.objects["contacts"]["100002"])
    assert _search(hs).total == 1
