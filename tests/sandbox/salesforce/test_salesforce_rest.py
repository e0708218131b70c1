"""sObject REST resources of the Salesforce sandbox, driven through simple-salesforce."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from simple_salesforce import (  # noqa: TID251 - tests drive the sandbox with the official client
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

INSTANCE = "https://sandbox.my.salesforce.com"


def test_create_returns_201_body_with_18_char_id_and_prefix(sf):
    """Creating an Account answers {id, success, errors} with an 18-character 001 id."""
    res = sf.Account.create({"Name": "Acme"})
    assert res["success"] is True
    assert res["errors"] == []
    assert len(res["id"]) == 18
    assert res["id"].startswith("001")


def test_key_prefixes_match_real_objects(sf):
    """Each object's ids carry its real key prefix (Lead 00Q, Campaign 701, Product2 01t...)."""
    expected = {
        "Contact": "003",
        "Lead": "00Q",
        "Opportunity": "006",
        "Campaign": "701",
        "Product2": "01t",
    }
    payloads = {
        "Contact": {"LastName": "X"},
        "Lead": {"LastName": "X", "Company": "Y"},
        "Opportunity": {"Name": "O", "StageName": "Prospecting", "CloseDate": "2026-12-01"},
        "Campaign": {"Name": "C"},
        "Product2": {"Name": "P"},
    }
    for name, prefix in expected.items():
        assert getattr(sf, name).create(payloads[name])["id"].startswith(prefix)


def test_get_accepts_15_char_id_and_returns_attributes(sf):
    """GET by the 15-character id returns the record with attributes and derived Name."""
    cid = sf.Contact.create({"FirstName": "Ada", "LastName": "Lovelace"})["id"]
    rec = sf.Contact.get(cid[:15])
    assert rec["Id"] == cid
    assert rec["Name"] == "Ada Lovelace"
    assert rec["attributes"] == {
        "type": "Contact",
        "url": f"/services/data/v62.0/sobjects/Contact/{cid}",
    }


def test_audit_fields_follow_the_clock_and_user(sf, sandbox, clock):
    """SystemModstamp, LastModifiedDate and LastModifiedById are maintained on every write."""
    cid = sf.Contact.create({"LastName": "X"})["id"]
    first = sf.Contact.get(cid)
    assert first["CreatedDate"] == "2026-11-23T12:00:00.000+0000"
    assert first["LastModifiedById"] == sandbox.integration_user_id
    clock.advance(minutes=5)
    assert sf.Contact.update(cid, {"Title": "CTO"}) == 204
    second = sf.Contact.get(cid)
    assert second["SystemModstamp"] == second["LastModifiedDate"] == "2026-11-23T12:05:00.000+0000"
    assert second["CreatedDate"] == first["CreatedDate"]


def test_restricted_picklist_refuses_unknown_value(sf):
    """A restricted picklist answers 400 INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST naming the field."""
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Task.create({"Subject": "x", "TaskSubtype": "Fax"})
    assert err.value.content == [
        {
            "message": "TaskSubtype: bad value for restricted picklist field: Fax",
            "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "fields": ["TaskSubtype"],
        }
    ]


def test_unrestricted_picklist_accepts_any_value(sf):
    """An unrestricted picklist (Product2.Family) accepts a value outside its list."""
    pid = sf.Product2.create({"Name": "P", "Family": "hydraulics"})["id"]
    assert sf.Product2.get(pid)["Family"] == "hydraulics"


def test_required_field_missing(sf):
    """Omitting LastName fails REQUIRED_FIELD_MISSING with the field listed."""
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.create({"FirstName": "X"})
    assert err.value.content == [
        {
            "message": "Required fields are missing: [LastName]",
            "errorCode": "REQUIRED_FIELD_MISSING",
            "fields": ["LastName"],
        }
    ]


def test_unknown_field_is_invalid_field(sf):
    """A field the org does not have fails INVALID_FIELD."""
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.create({"LastName": "X", "Persona__c": "y"})
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert (
        "No such column 'Persona__c' on sobject of type Contact" in err.value.content[0]["message"]
    )


def test_read_only_field_is_refused(sf):
    """Writing a derived field (Opportunity.IsWon) fails INVALID_FIELD_FOR_INSERT_UPDATE."""
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Opportunity.create(
            {"Name": "O", "StageName": "Prospecting", "CloseDate": "2026-01-01", "IsWon": True}
        )
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert err.value.content[0]["fields"] == ["IsWon"]


def test_type_errors_and_string_length(sf):
    """Bad dates fail JSON_PARSER_ERROR; too-long strings STRING_TOO_LONG; bad emails INVALID_EMAIL_ADDRESS."""
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Opportunity.create({"Name": "O", "StageName": "Prospecting", "CloseDate": "01/02/2026"})
    assert err.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.create({"LastName": "X", "Title": "x" * 129})
    assert err.value.content[0]["errorCode"] == "STRING_TOO_LONG"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.create({"LastName": "X", "Email": "not-an-email"})
    assert err.value.content[0]["errorCode"] == "INVALID_EMAIL_ADDRESS"


def test_reference_of_wrong_type_is_malformed_id(sf):
    """Contact.AccountId pointing at a Contact id fails MALFORMED_ID."""
    cid = sf.Contact.create({"LastName": "X"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.create({"LastName": "Y", "AccountId": cid})
    assert err.value.content[0]["errorCode"] == "MALFORMED_ID"


def test_missing_record_is_404_not_found(sf):
    """GET of an unknown id is 404 NOT_FOUND in the REST error shape."""
    with pytest.raises(SalesforceResourceNotFound) as err:
        sf.Contact.get("003000000000000AAA")
    assert err.value.content == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]


def test_delete_is_soft_and_deleted_record_is_gone(sf):
    """DELETE answers 204; a later GET is 404 ENTITY_IS_DELETED."""
    cid = sf.Contact.create({"LastName": "X"})["id"]
    assert sf.Contact.delete(cid) == 204
    with pytest.raises(SalesforceResourceNotFound) as err:
        sf.Contact.get(cid)
    assert err.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_deleting_account_cascades_to_contacts(sf):
    """Deleting an Account deletes its Contacts too."""
    aid = sf.Account.create({"Name": "A"})["id"]
    cid = sf.Contact.create({"LastName": "X", "AccountId": aid})["id"]
    sf.Account.delete(aid)
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.get(cid)


def test_describe_has_picklists_restricted_flag_and_write_flags(sf):
    """describe lists picklist values, restrictedPicklist, createable/updateable per field."""
    fields = {f["name"]: f for f in sf.Task.describe()["fields"]}
    subtype = fields["TaskSubtype"]
    assert subtype["type"] == "picklist"
    assert subtype["restrictedPicklist"] is True
    assert [v["value"] for v in subtype["picklistValues"]] == [
        "Task",
        "Email",
        "ListEmail",
        "Cadence",
        "Call",
        "LinkedIn",
    ]
    assert subtype["createable"] is True
    assert subtype["updateable"] is False
    assert fields["AccountId"]["createable"] is False
    roles = {f["name"]: f for f in sf.OpportunityContactRole.describe()["fields"]}["Role"]
    assert "Economic Buyer" in [v["value"] for v in roles["picklistValues"]]


def test_describe_global_lists_objects(sf):
    """GET /sobjects lists every standard object with its key prefix."""
    objs = {o["name"]: o for o in sf.describe()["sobjects"]}
    assert objs["Lead"]["keyPrefix"] == "00Q"
    assert objs["PermissionSetAssignment"]["keyPrefix"] == "0Pa"


def test_any_version_is_accepted_and_bad_version_is_404(raw):
    """Paths accept any vNN.N version; a malformed version is 404."""
    s = raw
    auth = {"Authorization": "Bearer sandbox"}
    assert (
        s.get(f"{INSTANCE}/services/data/v45.0/sobjects/Account/describe", headers=auth).status_code
        == 200
    )
    bad = s.get(f"{INSTANCE}/services/data/v45/sobjects", headers=auth)
    assert bad.status_code == 404
    assert bad.json()[0]["errorCode"] == "NOT_FOUND"
    versions = s.get(f"{INSTANCE}/services/data/")
    assert versions.status_code == 200
    assert {
        "version": "62.0",
        "url": "/services/data/v62.0",
        "label": "Winter '25",
    } in versions.json()


def test_updated_and_deleted_replication_endpoints(sf, clock):
    """updated/ lists ids by SystemModstamp; deleted/ lists deletions with deletedDate."""
    start = clock.now - dt.timedelta(minutes=1)
    a = sf.Contact.create({"LastName": "A"})["id"]
    b = sf.Contact.create({"LastName": "B"})["id"]
    clock.advance(minutes=3)
    sf.Contact.delete(b)
    clock.advance(minutes=3)
    upd = sf.Contact.updated(start, clock.now)
    assert a in upd["ids"]
    assert upd["latestDateCovered"] == "2026-11-23T12:06:00.000+0000"
    dele = sf.Contact.deleted(start, clock.now)
    assert dele["deletedRecords"] == [{"id": b, "deletedDate": "2026-11-23T12:03:00.000+0000"}]
    assert "earliestDateAvailable" in dele


def test_deleted_refuses_start_older_than_15_days(sf, clock):
    """getDeleted covers only 15 days back: an older start fails INVALID_REPLICATION_DATE."""
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.deleted(clock.now - dt.timedelta(days=16), clock.now)
    assert err.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_method_not_allowed_has_salesforce_shape(raw):
    """An unsupported verb on a known resource is 405 METHOD_NOT_ALLOWED."""
    r = raw.put(
        f"{INSTANCE}/services/data/v62.0/sobjects/Account",
        headers={"Authorization": "Bearer sandbox"},
    )
    assert r.status_code == 405
    assert r.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"


def test_uri_too_long_is_414(raw):
    """A URI over 16,384 bytes is refused with 414 (facts §4.2)."""
    ids = ",".join(["'003000000000000AAA'"] * 900)
    r = raw.get(
        f"{INSTANCE}/services/data/v62.0/query",
        params={"q": f"SELECT Id FROM Contact WHERE Id IN ({ids})"},
        headers={"Authorization": "Bearer sandbox"},
    )
    assert r.status_code in (414, 431)
    assert isinstance(r, requests.Response)
