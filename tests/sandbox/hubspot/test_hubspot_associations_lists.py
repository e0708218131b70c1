"""Associations v4, Lists v3, v2 workflow enrollment and the pull-side event feeds."""

from __future__ import annotations

import json

import pytest
from hubspot.crm.associations.v4 import ApiException as AssocError  # noqa: TID251 - client under test
from hubspot.crm.lists import ApiException as ListError  # noqa: TID251 - client under test

from crm_sync.sandbox.hubspot import HubSpotSandbox


@pytest.fixture
def pair(hubspot_sandbox: HubSpotSandbox) -> tuple[str, str]:
    """A contact id and a company id."""
    contact = hubspot_sandbox.state.create("contacts", {"email": "a@ex.com"})
    company = hubspot_sandbox.state.create("companies", {"name": "Acme"})
    return contact.id, company.id


def test_default_associate_then_batch_read(hs, pair):
    """Default association contact→company is type 279 and reads back from both sides."""
    contact, company = pair
    api = hs.crm.associations.v4.batch_api
    api.create_default(
        "contacts",
        "companies",
        batch_input_public_default_association_multi_post={
            "inputs": [{"from": {"id": contact}, "to": {"id": company}}]
        },
    )
    res = api.get_page(
        "contacts",
        "companies",
        batch_input_public_fetch_associations_batch_request={"inputs": [{"id": contact}]},
    )
    (row,) = res.results
    assert row.to[0].to_object_id == company
    assert [(t.category, t.type_id) for t in row.to[0].association_types] == [
        ("HUBSPOT_DEFINED", 279)
    ]
    back = api.get_page(
        "companies",
        "contacts",
        batch_input_public_fetch_associations_batch_request={"inputs": [{"id": company}]},
    )
    assert back.results[0].to[0].association_types[0].type_id == 280


def test_batch_read_without_associations_is_207(hs, pair):
    """An id with no associations comes back as a 207 error item."""
    data, status, _ = hs.crm.associations.v4.batch_api.get_page_with_http_info(
        "contacts",
        "companies",
        batch_input_public_fetch_associations_batch_request={"inputs": [{"id": pair[0]}]},
    )
    assert status == 207
    assert data.errors[0].category == "OBJECT_NOT_FOUND"


def test_association_batch_read_limit_is_1000(hs):
    """Associations batch read accepts at most 1,000 ids."""
    with pytest.raises(AssocError) as err:
        hs.crm.associations.v4.batch_api.get_page(
            "contacts",
            "companies",
            batch_input_public_fetch_associations_batch_request={
                "inputs": [{"id": str(i)} for i in range(1001)]
            },
        )
    assert err.value.status == 400


def test_inline_associations_on_get(hs, pair):
    """GET ?associations=companies inlines associated ids."""
    contact, company = pair
    hs.crm.associations.v4.basic_api.create_default("contacts", contact, "companies", company)
    got = hs.crm.contacts.basic_api.get_by_id(contact, associations=["companies"])
    assert got.associations["companies"].results[0].id == company


def test_manual_list_membership_uses_real_keys(hs, raw, pair):
    """PUT memberships/add answers recordsIdsAdded (sic) and recordIdsMissing; repeats are ignored."""
    created = hs.crm.lists.lists_api.create(
        list_create_request={"name": "VIP", "objectTypeId": "0-1", "processingType": "MANUAL"}
    )
    list_id = created.list.list_id
    status, body, _ = raw("PUT", f"/crm/v3/lists/{list_id}/memberships/add", [pair[0], "424242"])
    assert status == 200
    assert body == {"recordsIdsAdded": [pair[0]], "recordIdsMissing": ["424242"]}
    again = hs.crm.lists.memberships_api.add(list_id, request_body=[pair[0]])
    assert again.records_ids_added == []
    page = hs.crm.lists.memberships_api.get_page(list_id)
    assert [r.record_id for r in page.results] == [pair[0]]
    removed = hs.crm.lists.memberships_api.remove(list_id, request_body=[pair[0]])
    assert removed.record_ids_removed == [pair[0]]


def test_dynamic_list_refuses_membership_changes_and_evaluates_filters(hs, raw, pair):
    """DYNAMIC lists derive members from filters and refuse PUT membership changes."""
    branch = {
        "filterBranchType": "OR",
        "filterBranches": [],
        "filters": [
            {
                "filterType": "PROPERTY",
                "property": "email",
                "operation": {"operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"},
            }
        ],
    }
    status, body, _ = raw(
        "POST",
        "/crm/v3/lists",
        {
            "name": "Known",
            "objectTypeId": "0-1",
            "processingType": "DYNAMIC",
            "filterBranch": branch,
        },
    )
    list_id = body["list"]["listId"]
    assert status == 200
    assert body["list"]["size"] == 1
    with pytest.raises(ListError) as err:
        hs.crm.lists.memberships_api.add(list_id, request_body=[pair[0]])
    assert err.value.status == 400


def test_duplicate_list_name_is_refused(hs):
    """List names are unique per portal."""
    hs.crm.lists.lists_api.create(
        list_create_request={"name": "A", "objectTypeId": "0-1", "processingType": "MANUAL"}
    )
    with pytest.raises(ListError):
        hs.crm.lists.lists_api.create(
            list_create_request={"name": "A", "objectTypeId": "0-1", "processingType": "SNAPSHOT"}
        )


def test_v2_workflow_enrollment_by_email(raw, hubspot_sandbox, pair):
    """v2 enrollment by URL-encoded email answers 204 with no body; unknown workflow is 404."""
    workflow = hubspot_sandbox.state.add_workflow("Nurture")
    status, body, _ = raw(
        "POST", f"/automation/v2/workflows/{workflow}/enrollments/contacts/a%40ex.com"
    )
    assert (status, body) == (204, None)
    status, body, _ = raw("GET", f"/automation/v2/workflows/enrollments/contacts/{pair[0]}")
    assert [w["name"] for w in body] == ["Nurture"]
    status, _, _ = raw("POST", "/automation/v2/workflows/1/enrollments/contacts/a%40ex.com")
    assert status == 404


def test_email_events_and_events_v3_page(raw, hubspot_sandbox):
    """Email events v1 page by offset/hasMore; events v3 filter by type and page by after."""
    state = hubspot_sandbox.state
    for i in range(3):
        state.email_events.append(
            {
                "id": f"e{i}",
                "created": 1_700_000_000_000 + i,
                "type": "OPEN",
                "recipient": "a@ex.com",
                "emailCampaignId": 7,
                "portalId": 1,
            }
        )
        state.web_events.append(
            {
                "id": f"w{i}",
                "eventType": "e_visited_page",
                "objectType": "contact",
                "objectId": "1",
                "occurredAt": f"2023-11-1{i}T00:00:00.000Z",
                "properties": {},
            }
        )
    status, body, _ = raw("GET", "/email/public/v1/events", qs={"eventType": "OPEN", "limit": 2})
    assert status == 200
    assert body["hasMore"] is True
    assert len(body["events"]) == 2
    status, body, _ = raw(
        "GET", "/events/v3/events", qs={"eventType": "e_visited_page", "limit": 2}
    )
    assert [e["id"] for e in body["results"]] == ["w0", "w1"]
    assert body["paging"]["next"]["after"] == "2"


def test_association_labels_endpoint_lists_types(raw):
    """The labels endpoint lists the HubSpot-defined type ids (279 for contact→company)."""
    status, body, _ = raw("GET", "/crm/v4/associations/contacts/companies/labels")
    assert status == 200
    assert {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None} in body["results"]
    assert json.dumps(body)
