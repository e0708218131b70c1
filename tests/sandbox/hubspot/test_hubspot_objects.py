"""CRM v3 objects through the official client: batch semantics, validation and record rules."""

from __future__ import annotations

import json

import pytest
from hubspot.crm.contacts import ApiException  # noqa: TID251 - official client under test


def body_of(exc):
    return json.loads(exc.body)


def _create(hs, n=1, **extra):
    inputs = [
        {"properties": {"email": f"p{i}@ex.com", "firstname": f"P{i}", **extra}} for i in range(n)
    ]
    return hs.crm.contacts.batch_api.create(
        batch_input_simple_public_object_batch_input_for_create={"inputs": inputs}
    ).results


def test_batch_create_returns_201_with_ids_and_maintained_dates(hs):
    """Batch create answers 201 with ids, createdate and lastmodifieddate set by the portal."""
    data, status, _ = hs.crm.contacts.batch_api.create_with_http_info(
        batch_input_simple_public_object_batch_input_for_create={
            "inputs": [{"properties": {"email": "a@ex.com"}}]
        }
    )
    assert status == 201
    props = data.results[0].properties
    assert props["email"] == "a@ex.com"
    assert props["hs_object_id"] == data.results[0].id
    assert props["createdate"] == props["lastmodifieddate"] == "2023-11-14T22:13:20.000Z"


def test_batch_over_100_inputs_is_a_whole_request_400(hs):
    """More than 100 inputs is refused with 400 VALIDATION_ERROR before anything is written."""
    inputs = [{"properties": {"email": f"x{i}@ex.com"}} for i in range(101)]
    with pytest.raises(ApiException) as err:
        hs.crm.contacts.batch_api.create(
            batch_input_simple_public_object_batch_input_for_create={"inputs": inputs}
        )
    assert err.value.status == 400
    body = body_of(err.value)
    assert body["category"] == "VALIDATION_ERROR"
    assert body["status"] == "error"
    assert body["correlationId"]
    assert hs.crm.contacts.basic_api.get_page().results == []


def test_batch_update_unknown_id_is_207_object_not_found(hs):
    """An unknown id in batch update yields 207 with one OBJECT_NOT_FOUND item listing the ids."""
    (created,) = _create(hs)
    batch = {
        "inputs": [
            {"id": created.id, "properties": {"firstname": "Z"}},
            {"id": "999", "properties": {"firstname": "Z"}},
        ]
    }
    data, status, _ = hs.crm.contacts.batch_api.update_with_http_info(
        batch_input_simple_public_object_batch_input=batch
    )
    assert status == 207
    assert data.num_errors == 1
    err = data.errors[0]
    assert err.category == "OBJECT_NOT_FOUND"
    assert err.context == {"ids": ["999"]}
    assert err.status == "error"
    assert err.links == {}
    assert err.errors == []
    assert [r.id for r in data.results] == [created.id]


def test_invalid_option_fails_the_whole_batch_with_embedded_json(hs):
    """A bad enum option fails the whole batch with 400 and the embedded INVALID_OPTION JSON."""
    a, b = _create(hs, 2)
    batch = {
        "inputs": [
            {"id": a.id, "properties": {"firstname": "OK"}},
            {"id": b.id, "properties": {"hs_persona": "nope"}},
        ]
    }
    with pytest.raises(ApiException) as err:
        hs.crm.contacts.batch_api.update(batch_input_simple_public_object_batch_input=batch)
    body = body_of(err.value)
    assert err.value.status == 400
    assert body["category"] == "VALIDATION_ERROR"
    prefix = "Property values were not valid: "
    assert body["message"].startswith(prefix)
    (item,) = json.loads(body["message"][len(prefix) :])
    assert item["error"] == "INVALID_OPTION"
    assert item["name"] == "hs_persona"
    assert item["isValid"] is False
    assert (
        hs.crm.contacts.basic_api.get_by_id(a.id, properties=["firstname"]).properties["firstname"]
        == "P0"
    )


def test_unknown_property_is_property_doesnt_exist(hs):
    """Writing an undefined property is a whole-batch 400 naming PROPERTY_DOESNT_EXIST."""
    (a,) = _create(hs)
    with pytest.raises(ApiException) as err:
        hs.crm.contacts.batch_api.update(
            batch_input_simple_public_object_batch_input={
                "inputs": [{"id": a.id, "properties": {"nope": "x"}}]
            }
        )
    assert '"error":"PROPERTY_DOESNT_EXIST"' in body_of(err.value)["message"]


def test_property_values_must_be_strings(hs):
    """A non-string value (number) is refused: values are strings on the wire (facts Gotcha 19)."""
    (a,) = _create(hs)
    with pytest.raises(ApiException) as err:
        hs.crm.contacts.basic_api.update(
            a.id, simple_public_object_input={"properties": {"firstname": 5}}
        )
    assert err.value.status == 400


def test_read_only_property_write_is_refused(hs):
    """Writing a read-only property such as lastmodifieddate is a 400."""
    (a,) = _create(hs)
    with pytest.raises(ApiException) as err:
        hs.crm.contacts.basic_api.update(
            a.id, simple_public_object_input={"properties": {"lastmodifieddate": "1"}}
        )
    assert "READ_ONLY_VALUE" in body_of(err.value)["message"]


def test_create_without_trace_ids_is_all_or_nothing(hs):
    """Batch create without objectWriteTraceId fails whole when one input is a duplicate email."""
    _create(hs)
    inputs = [{"properties": {"email": "new@ex.com"}}, {"properties": {"email": "p0@ex.com"}}]
    with pytest.raises(ApiException) as err:
        hs.crm.contacts.batch_api.create(
            batch_input_simple_public_object_batch_input_for_create={"inputs": inputs}
        )
    body = body_of(err.value)
    assert err.value.status == 409
    assert body["category"] == "CONFLICT"
    assert body["message"].startswith("Contact already exists. Existing ID: ")
    assert len(hs.crm.contacts.basic_api.get_page().results) == 1


def test_create_with_trace_ids_is_207_partial(hs):
    """With objectWriteTraceId on every input, bad inputs become 207 errors keyed by trace id."""
    _create(hs)
    inputs = [
        {"properties": {"email": "new@ex.com"}, "objectWriteTraceId": "t1"},
        {"properties": {"email": "p0@ex.com"}, "objectWriteTraceId": "t2"},
        {"properties": {"hs_persona": "bad"}, "objectWriteTraceId": "t3"},
    ]
    data, status, _ = hs.crm.contacts.batch_api.create_with_http_info(
        batch_input_simple_public_object_batch_input_for_create={"inputs": inputs}
    )
    assert status == 207
    assert data.num_errors == 2
    assert {e.category: e.context for e in data.errors} == {
        "CONFLICT": {"objectWriteTraceId": ["t2"]},
        "VALIDATION_ERROR": {"objectWriteTraceId": ["t3"]},
    }
    assert [r.properties["email"] for r in data.results] == ["new@ex.com"]
    assert data.results[0].object_write_trace_id == "t1"


def test_upsert_by_email_creates_then_updates(hs):
    """Upsert with idProperty=email creates (new=true) then updates (new=false) the same record."""
    batch = {
        "inputs": [{"id": "u@ex.com", "idProperty": "email", "properties": {"firstname": "U"}}]
    }
    first = hs.crm.contacts.batch_api.upsert(
        batch_input_simple_public_object_batch_input_upsert=batch
    ).results[0]
    batch["inputs"][0]["properties"]["firstname"] = "V"
    second = hs.crm.contacts.batch_api.upsert(
        batch_input_simple_public_object_batch_input_upsert=batch
    ).results[0]
    assert (first.new, second.new, first.id == second.id) == (True, False, True)
    assert (
        hs.crm.contacts.basic_api.get_by_id(
            "u@ex.com", id_property="email", properties=["firstname"]
        ).properties["firstname"]
        == "V"
    )


@pytest.mark.parametrize("prop", ["hs_object_id", "firstname"])
def test_upsert_by_non_unique_property_is_400(hs, prop):
    """Upsert by a property without hasUniqueValue (hs_object_id included) is the non-unique 400."""
    batch = {"inputs": [{"id": "1", "idProperty": prop, "properties": {}}]}
    with pytest.raises(ApiException) as err:
        hs.crm.contacts.batch_api.upsert(batch_input_simple_public_object_batch_input_upsert=batch)
    assert (
        body_of(err.value)["message"]
        == f"Unable to perform update/upsert by non-unique 0-1 property {prop}"
    )


def test_upsert_by_custom_unique_property(hs):
    """A newly created hasUniqueValue property works as idProperty for companies."""
    hs.crm.properties.core_api.create(
        "companies",
        property_create={
            "name": "ext_id",
            "label": "Ext",
            "type": "string",
            "fieldType": "text",
            "groupName": "companyinformation",
            "hasUniqueValue": True,
        },
    )
    batch = {"inputs": [{"id": "E1", "idProperty": "ext_id", "properties": {"name": "Acme"}}]}
    res = hs.crm.companies.batch_api.upsert(
        batch_input_simple_public_object_batch_input_upsert=batch
    ).results[0]
    assert res.new is True
    assert res.properties["ext_id"] == "E1"


def test_duplicate_ids_in_batch_are_400(hs):
    """The same id twice in one batch update is refused with 400."""
    (a,) = _create(hs)
    batch = {"inputs": [{"id": a.id, "properties": {}}, {"id": a.id, "properties": {}}]}
    with pytest.raises(ApiException) as err:
        hs.crm.contacts.batch_api.update(batch_input_simple_public_object_batch_input=batch)
    assert body_of(err.value)["message"].startswith("Duplicate IDs found in batch input")


def test_lifecycle_stage_moves_forward_only(hs):
    """A backward lifecycle write is a silent no-op; '' clears it and then any stage can be set."""
    (a,) = _create(hs, lifecyclestage="customer")
    api = hs.crm.contacts.basic_api
    api.update(a.id, simple_public_object_input={"properties": {"lifecyclestage": "lead"}})
    assert (
        api.get_by_id(a.id, properties=["lifecyclestage"]).properties["lifecyclestage"]
        == "customer"
    )
    api.update(a.id, simple_public_object_input={"properties": {"lifecyclestage": ""}})
    api.update(a.id, simple_public_object_input={"properties": {"lifecyclestage": "lead"}})
    assert api.get_by_id(a.id, properties=["lifecyclestage"]).properties["lifecyclestage"] == "lead"


def test_multi_checkbox_values_are_semicolon_joined_options(hs):
    """Checkbox values are ';'-joined option values; each must be an option; writing replaces the set."""
    (a,) = _create(hs)
    api = hs.crm.contacts.basic_api
    api.update(
        a.id, simple_public_object_input={"properties": {"hs_buying_role": "CHAMPION;END_USER"}}
    )
    assert (
        api.get_by_id(a.id, properties=["hs_buying_role"]).properties["hs_buying_role"]
        == "CHAMPION;END_USER"
    )
    with pytest.raises(ApiException) as err:
        api.update(
            a.id, simple_public_object_input={"properties": {"hs_buying_role": "CHAMPION;Champion"}}
        )
    assert "INVALID_OPTION" in body_of(err.value)["message"]


def test_modified_date_advances_on_write(hs, clock):
    """lastmodifieddate (contacts) and hs_lastmodifieddate (others) move with every write."""
    (a,) = _create(hs)
    clock.advance(60)
    out = hs.crm.contacts.basic_api.update(
        a.id, simple_public_object_input={"properties": {"firstname": "Q"}}
    )
    assert out.properties["lastmodifieddate"] == "2023-11-14T22:14:20.000Z"
    company = hs.crm.companies.basic_api.create(
        simple_public_object_input_for_create={"properties": {"name": "C"}}
    )
    assert company.properties["hs_lastmodifieddate"] == "2023-11-14T22:14:20.000Z"


def test_archive_then_read_is_404_and_list_archived(hs):
    """Archived records 404 on get, vanish from lists, and appear with archived=true."""
    (a,) = _create(hs)
    hs.crm.contacts.batch_api.archive(
        batch_input_simple_public_object_id={"inputs": [{"id": a.id}]}
    )
    with pytest.raises(ApiException) as err:
        hs.crm.contacts.basic_api.get_by_id(a.id)
    assert err.value.status == 404
    assert body_of(err.value)["category"] == "OBJECT_NOT_FOUND"
    assert [r.id for r in hs.crm.contacts.basic_api.get_page(archived=True).results] == [a.id]


def test_batch_read_by_email_reports_missing(hs):
    """Batch read with idProperty=email returns found records and 207 for the missing ones."""
    _create(hs)
    data, status, _ = hs.crm.contacts.batch_api.read_with_http_info(
        batch_read_input_simple_public_object_id={
            "idProperty": "email",
            "inputs": [{"id": "p0@ex.com"}, {"id": "no@ex.com"}],
            "properties": ["email"],
            "propertiesWithHistory": [],
        }
    )
    assert status == 207
    assert data.errors[0].context == {"ids": ["no@ex.com"]}
    assert data.results[0].properties["email"] == "p0@ex.com"


def test_list_pages_with_after_cursor(hs):
    """GET list pages by `after`, and limit above 100 is refused."""
    _create(hs, 5)
    page = hs.crm.contacts.basic_api.get_page(limit=3)
    rest = hs.crm.contacts.basic_api.get_page(limit=3, after=page.paging.next.after)
    assert len(page.results) == 3
    assert len(rest.results) == 2
    assert rest.paging is None
    with pytest.raises(ApiException):
        hs.crm.contacts.basic_api.get_page(limit=101)


def test_engagement_objects_are_served(hs):
    """Engagement objects (calls, notes, ...) take batch writes and carry hs_lastmodifieddate."""
    res = hs.crm.objects.batch_api.create(
        "calls",
        batch_input_simple_public_object_batch_input_for_create={
            "inputs": [{"properties": {"hs_call_title": "Hi", "hs_timestamp": "1700000000000"}}]
        },
    ).results[0]
    assert res.properties["hs_call_title"] == "Hi"
    assert res.properties["hs_lastmodifieddate"]
