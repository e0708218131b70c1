"""sObject Collections (composite/sobjects) of the Salesforce sandbox."""

from __future__ import annotations

import pytest
from simple_salesforce import SalesforceMalformedRequest  # noqa: TID251 - official client under test


def contacts(n, **extra):
    return [{"attributes": {"type": "Contact"}, "LastName": f"C{i}", **extra} for i in range(n)]


def test_create_returns_200_with_per_record_results_in_order(sf):
    """POST composite/sobjects answers 200 with one SaveResult per record, in request order."""
    records = [*contacts(2), {"attributes": {"type": "Contact"}, "FirstName": "no last name"}]
    res = sf.restful(
        "composite/sobjects", method="POST", json={"allOrNone": False, "records": records}
    )
    assert [r["success"] for r in res] == [True, True, False]
    assert res[2] == {
        "success": False,
        "errors": [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [LastName]",
                "fields": ["LastName"],
            }
        ],
    }
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 2


def test_more_than_200_records_is_a_400(sf):
    """201 records are refused as a whole with EXCEEDED_ID_LIMIT."""
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.restful("composite/sobjects", method="POST", json={"records": contacts(201)})
    assert err.value.content == [
        {
            "message": "record limit reached. cannot submit more than 200 records into this call",
            "errorCode": "EXCEEDED_ID_LIMIT",
        }
    ]


def test_update_partial_failure_uses_status_code_key(sf):
    """PATCH with one bad record: 200, the good one applied, the bad one keyed statusCode."""
    ids = [
        r["id"]
        for r in sf.restful("composite/sobjects", method="POST", json={"records": contacts(2)})
    ]
    res = sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Contact"}, "id": ids[0], "Title": "CEO"},
        {"attributes": {"type": "Task"}, "id": ids[1], "TaskSubtype": "Fax"},
    ]})  # fmt: skip
    assert res[0] == {"id": ids[0], "success": True, "errors": []}
    assert res[1]["success"] is False
    assert "statusCode" in res[1]["errors"][0]
    assert sf.Contact.get(ids[0])["Title"] == "CEO"


def test_all_or_none_rolls_back_everything(sf):
    """allOrNone: one failure rolls back the rest, reported ALL_OR_NONE_OPERATION_ROLLED_BACK."""
    records = [*contacts(2), {"attributes": {"type": "Contact"}, "LastName": "X", "Email": "bad"}]
    res = sf.restful(
        "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
    )
    assert [r["success"] for r in res] == [False, False, False]
    assert res[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert res[2]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


def test_create_with_id_and_update_without_id_fail_per_record(sf):
    """An id in a create, or none in an update, fails that record only."""
    res = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "records": [
                {"attributes": {"type": "Contact"}, "id": "003000000000000AAA", "LastName": "X"}
            ]
        },
    )
    assert res[0]["errors"][0] == {
        "statusCode": "INVALID_FIELD",
        "message": "cannot specify Id in an insert call",
        "fields": ["Id"],
    }
    res = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={"records": [{"attributes": {"type": "Contact"}, "LastName": "X"}]},
    )
    assert res[0]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    res = sf.restful("composite/sobjects", method="POST", json={"records": [{"LastName": "X"}]})
    assert res[0]["errors"][0] == {
        "statusCode": "INVALID_TYPE",
        "message": "Must send a concrete entity type.",
        "fields": [],
    }


def test_delete_and_retrieve_collections(sf):
    """DELETE ?ids= deletes per record; GET /composite/sobjects/T returns records or null."""
    ids = [
        r["id"]
        for r in sf.restful("composite/sobjects", method="POST", json={"records": contacts(2)})
    ]
    got = sf.restful(
        "composite/sobjects/Contact", params={"ids": ",".join(ids), "fields": "Id,LastName"}
    )
    assert [r["LastName"] for r in got] == ["C0", "C1"]
    res = sf.restful(
        "composite/sobjects",
        method="DELETE",
        params={"ids": f"{ids[0]},003000000000000AAA", "allOrNone": "false"},
    )
    assert res[0] == {"id": ids[0], "success": True, "errors": []}
    assert res[1]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    got = sf.restful("composite/sobjects/Contact", params={"ids": ",".join(ids), "fields": "Id"})
    assert got[0] is None


def test_collection_counts_as_one_api_call(sf, sandbox):
    """A 200-record collection costs one call against the daily allocation."""
    before = sandbox.limits.used
    sf.restful("composite/sobjects", method="POST", json={"records": contacts(200)})
    assert sandbox.limits.used == before + 1


def test_old_api_version_has_no_collections(raw):
    """Collections exist from v42.0; older versions answer 404."""
    r = raw.post(
        "https://x.my.salesforce.com/services/data/v41.0/composite/sobjects",
        json={"records": []},
        headers={"Authorization": "Bearer sandbox"},
    )
    assert r.status_code == 404
