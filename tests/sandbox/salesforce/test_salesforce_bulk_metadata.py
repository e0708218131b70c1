"""Bulk API 2.0 ingest and Metadata API custom fields with field-level security."""

from __future__ import annotations

import csv
import io

import pytest
import zeep.exceptions
from simple_salesforce import SalesforceMalformedRequest  # noqa: TID251 - official client under test

BASE = "https://x.my.salesforce.com/services/data/v62.0"
AUTH = {"Authorization": "Bearer sandbox"}


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_bulk2_insert_counts_and_failed_results_csv(sf):
    """bulk2 insert returns counts; failedResults carries sf__Id, sf__Error and the sent columns."""
    res = sf.bulk2.Contact.insert(
        records=[{"LastName": "A", "Email": "a@x.co"}, {"LastName": "", "Email": "b@x.co"}], wait=0
    )
    assert res[0]["numberRecordsProcessed"] == 2
    assert res[0]["numberRecordsFailed"] == 1
    failed = rows(sf.bulk2.Contact.get_failed_records(res[0]["job_id"]))
    assert failed == [
        {
            "sf__Id": "",
            "sf__Error": "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --",
            "LastName": "",
            "Email": "b@x.co",
        }
    ]
    ok = rows(sf.bulk2.Contact.get_successful_records(res[0]["job_id"]))
    assert ok[0]["sf__Created"] == "true"
    assert ok[0]["sf__Id"].startswith("003")


def test_bulk2_empty_cell_keeps_value_and_na_nulls_it(sf):
    """An empty CSV cell leaves the field alone; #N/A sets it to null (facts §2.2)."""
    cid = sf.Contact.create({"LastName": "X", "Title": "CEO", "Department": "sales"})["id"]
    sf.bulk2.Contact.update(records=[{"Id": cid, "Title": "", "Department": "#N/A"}], wait=0)
    rec = sf.Contact.get(cid)
    assert rec["Title"] == "CEO"
    assert rec["Department"] is None


def test_bulk2_unknown_column_fails_the_job(sf):
    """A column the org does not know fails the whole job with InvalidBatch."""
    from simple_salesforce.exceptions import SalesforceOperationError  # noqa: TID251 - official client

    with pytest.raises(SalesforceOperationError, match="Field name not found : Nope__c"):
        sf.bulk2.Contact.insert(records=[{"LastName": "A", "Nope__c": "x"}], wait=0)


def test_bulk2_results_are_not_in_input_order(sf):
    """successfulResults rows come back in an order unrelated to the upload (correlate by key)."""
    names = [f"N{i:02d}" for i in range(20)]
    res = sf.bulk2.Contact.insert(records=[{"LastName": n} for n in names], wait=0)
    ok = rows(sf.bulk2.Contact.get_successful_records(res[0]["job_id"]))
    assert sorted(r["LastName"] for r in ok) == names
    assert [r["LastName"] for r in ok] != names


def test_bulk2_second_upload_is_refused(raw):
    """A job takes exactly one PUT of CSV data; the second is BULK_API_ERROR."""
    job = raw.post(
        f"{BASE}/jobs/ingest", json={"object": "Contact", "operation": "insert"}, headers=AUTH
    ).json()
    assert job["state"] == "Open"
    assert job["id"].startswith("750")
    csv_headers = {**AUTH, "Content-Type": "text/csv"}
    assert (
        raw.put(
            f"{BASE}/jobs/ingest/{job['id']}/batches", data="LastName\nA\n", headers=csv_headers
        ).status_code
        == 201
    )
    second = raw.put(
        f"{BASE}/jobs/ingest/{job['id']}/batches", data="LastName\nB\n", headers=csv_headers
    )
    assert second.status_code == 400
    assert second.json()[0]["errorCode"] == "BULK_API_ERROR"


def test_bulk2_job_options_are_validated(raw):
    """Unknown operation, object or delimiter fail job creation; hardDelete needs a permission."""
    for body in (
        {"object": "Contact", "operation": "merge"},
        {"object": "Nope", "operation": "insert"},
        {"object": "Contact", "operation": "insert", "columnDelimiter": "DOLLAR"},
        {"object": "Contact", "operation": "hardDelete"},
    ):
        r = raw.post(f"{BASE}/jobs/ingest", json=body, headers=AUTH)
        assert r.status_code == 400
        assert r.json()[0]["errorCode"] == "INVALIDJOB"


def test_bulk2_crlf_data_on_lf_job_fails(raw):
    """CRLF data on an LF job fails with the LineEnding message."""
    job = raw.post(
        f"{BASE}/jobs/ingest", json={"object": "Contact", "operation": "insert"}, headers=AUTH
    ).json()
    raw.put(
        f"{BASE}/jobs/ingest/{job['id']}/batches",
        data="LastName\r\nA\r\n",
        headers={**AUTH, "Content-Type": "text/csv"},
    )
    raw.patch(f"{BASE}/jobs/ingest/{job['id']}", json={"state": "UploadComplete"}, headers=AUTH)
    info = raw.get(f"{BASE}/jobs/ingest/{job['id']}", headers=AUTH).json()
    assert info["state"] == "Failed"
    assert "LineEnding is invalid" in info["errorMessage"]


def _tags_field(md, restricted=True):
    vals = [md.CustomValue(fullName=v, label=v, default=False) for v in ("vip", "churn-risk")]
    vs = md.ValueSet(
        restricted=restricted,
        valueSetDefinition=md.ValueSetValuesDefinition(sorted=False, value=vals),
    )
    return md.CustomField(
        fullName="Contact.Tags__c",
        label="Tags",
        type=md.FieldType("MultiselectPicklist"),
        visibleLines=4,
        valueSet=vs,
    )


def _grant(sf, fields):
    ps = sf.PermissionSet.create({"Name": "CrmSync", "Label": "CRM Sync"})["id"]
    for field in fields:
        sf.FieldPermissions.create(
            {
                "ParentId": ps,
                "SobjectType": field.partition(".")[0],
                "Field": field,
                "PermissionsRead": True,
                "PermissionsEdit": True,
            }
        )
    user = sf.query("SELECT Id FROM User WHERE Username = 'integration@crm-sync.sandbox'")[
        "records"
    ][0]["Id"]
    sf.PermissionSetAssignment.create({"AssigneeId": user, "PermissionSetId": ps})
    return ps, user


def test_new_custom_field_is_invisible_until_fls_granted(sf, metadata):
    """A field created via mdapi is absent from describe and SOQL until a permission set grants Read."""
    metadata.CustomField.create([_tags_field(metadata)])
    assert "Tags__c" not in [f["name"] for f in sf.Contact.describe()["fields"]]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Tags__c FROM Contact")
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD"
    _grant(sf, ["Contact.Tags__c"])
    field = {f["name"]: f for f in sf.Contact.describe()["fields"]}["Tags__c"]
    assert field["type"] == "multipicklist"
    assert field["restrictedPicklist"] is True
    assert field["custom"] is True
    assert [v["value"] for v in field["picklistValues"]] == ["vip", "churn-risk"]
    cid = sf.Contact.create({"LastName": "X", "Tags__c": "vip;churn-risk"})["id"]
    assert sf.query("SELECT Tags__c FROM Contact")["records"][0]["Tags__c"] == "vip;churn-risk"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.update(cid, {"Tags__c": "vip;unknown"})
    assert (
        err.value.content[0]["message"] == "Tags: bad value for restricted picklist field: unknown"
    )


def test_read_only_fls_refuses_writes(sf, metadata):
    """Read without Edit: the field is visible but writes fail INVALID_FIELD_FOR_INSERT_UPDATE."""
    metadata.CustomField.create(
        [
            metadata.CustomField(
                fullName="Contact.Segment__c",
                label="Segment",
                type=metadata.FieldType("Text"),
                length=255,
            )
        ]
    )
    ps = sf.PermissionSet.create({"Name": "ReadOnly", "Label": "Read only"})["id"]
    sf.FieldPermissions.create(
        {
            "ParentId": ps,
            "SobjectType": "Contact",
            "Field": "Contact.Segment__c",
            "PermissionsRead": True,
            "PermissionsEdit": False,
        }
    )
    user = sf.query("SELECT Id FROM User WHERE Alias = 'integ'")["records"][0]["Id"]
    sf.PermissionSetAssignment.create({"AssigneeId": user, "PermissionSetId": ps})
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.create({"LastName": "X", "Segment__c": "A"})
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_fls_rules_edit_requires_read_and_field_must_exist(sf, metadata):
    """FieldPermissions: Edit without Read and unknown fields are refused; duplicates too."""
    metadata.CustomField.create(
        [
            metadata.CustomField(
                fullName="Lead.Score__c",
                label="Score",
                type=metadata.FieldType("Number"),
                precision=18,
                scale=2,
            )
        ]
    )
    ps = sf.PermissionSet.create({"Name": "P", "Label": "P"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.FieldPermissions.create(
            {
                "ParentId": ps,
                "SobjectType": "Lead",
                "Field": "Lead.Score__c",
                "PermissionsEdit": True,
            }
        )
    assert err.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.FieldPermissions.create(
            {
                "ParentId": ps,
                "SobjectType": "Lead",
                "Field": "Lead.Nope__c",
                "PermissionsRead": True,
            }
        )
    assert err.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    _, user = _grant(sf, ["Lead.Score__c"])
    ps2 = sf.query("SELECT Id FROM PermissionSet WHERE Name = 'CrmSync'")["records"][0]["Id"]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.PermissionSetAssignment.create({"AssigneeId": user, "PermissionSetId": ps2})
    assert err.value.content[0]["errorCode"] == "DUPLICATE_VALUE"


def test_metadata_duplicate_and_required_attributes(metadata):
    """A second create is DUPLICATE_DEVELOPER_NAME; Text without length is refused (bare Exception)."""
    metadata.CustomField.create(
        [
            metadata.CustomField(
                fullName="Account.Tier__c", label="Tier", type=metadata.FieldType("Text"), length=20
            )
        ]
    )
    with pytest.raises(Exception, match="DUPLICATE_DEVELOPER_NAME"):
        metadata.CustomField.create(
            [
                metadata.CustomField(
                    fullName="Account.Tier__c",
                    label="Tier",
                    type=metadata.FieldType("Text"),
                    length=20,
                )
            ]
        )
    with pytest.raises(Exception, match="Must specify 'length' for a CustomField of type Text"):
        metadata.CustomField.create(
            [
                metadata.CustomField(
                    fullName="Account.Other__c", label="O", type=metadata.FieldType("Text")
                )
            ]
        )
    with pytest.raises(Exception, match="FIELD_INTEGRITY_EXCEPTION"):
        metadata.CustomField.create(
            [
                metadata.CustomField(
                    fullName="Account.bad__name__c", label="B", type=metadata.FieldType("Date")
                )
            ]
        )
    read = metadata.CustomField.read(["Account.Tier__c"])
    assert read.fullName == "Account.Tier__c"
    assert read.length == 20


def test_metadata_limits_and_objects(metadata):
    """More than 10 components is a SOAP fault; objects other than Contact/Lead/Account fail."""
    many = [
        metadata.CustomField(
            fullName=f"Contact.F{i}__c", label="F", type=metadata.FieldType("Date")
        )
        for i in range(11)
    ]
    with pytest.raises(zeep.exceptions.Fault, match="EXCEEDED_ID_LIMIT"):
        metadata.CustomField.create(many)
    with pytest.raises(Exception, match="INVALID_CROSS_REFERENCE_KEY"):
        metadata.CustomField.create(
            [
                metadata.CustomField(
                    fullName="Opportunity.F__c", label="F", type=metadata.FieldType("Date")
                )
            ]
        )


def test_metadata_refuses_bad_session(client_for, server):
    """An invalid SessionHeader is a SOAP fault INVALID_SESSION_ID."""
    from requests.adapters import HTTPAdapter

    bad = client_for("wrong-token")
    md = bad.mdapi
    adapter = type(bad.session.get_adapter("https://x"))
    assert issubclass(adapter, HTTPAdapter)
    md._client.transport.session.mount("https://", adapter(server.port))
    md._client.transport.session.trust_env = False
    with pytest.raises(zeep.exceptions.Fault, match="INVALID_SESSION_ID"):
        md.CustomField.create(
            [md.CustomField(fullName="Contact.X__c", label="X", type=md.FieldType("Date"))]
        )


def test_bulk2_aborted_job_lists_unprocessed_records(raw):
    """Aborting after the upload leaves every row in unprocessedrecords, none applied."""
    job = raw.post(
        f"{BASE}/jobs/ingest", json={"object": "Contact", "operation": "insert"}, headers=AUTH
    ).json()
    raw.put(
        f"{BASE}/jobs/ingest/{job['id']}/batches",
        data="LastName\nA\nB\n",
        headers={**AUTH, "Content-Type": "text/csv"},
    )
    assert (
        raw.patch(
            f"{BASE}/jobs/ingest/{job['id']}", json={"state": "Aborted"}, headers=AUTH
        ).json()["state"]
        == "Aborted"
    )
    text = raw.get(f"{BASE}/jobs/ingest/{job['id']}/unprocessedrecords", headers=AUTH).text
    assert text == '"LastName"\n"A"\n"B"\n'
