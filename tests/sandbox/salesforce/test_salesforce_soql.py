"""SOQL subset, paging and query errors of the Salesforce sandbox."""

from __future__ import annotations

import datetime as dt

import pytest
from simple_salesforce import (  # noqa: TID251 - tests drive the sandbox with the official client
    SalesforceMalformedRequest,
    format_soql,
)


@pytest.fixture
def people(sf):
    """Two accounts in a chain and four contacts with varied fields."""
    parent = sf.Account.create({"Name": "Parent Co", "Industry": "Retail"})["id"]
    child = sf.Account.create({"Name": "Child Co", "ParentId": parent})["id"]
    rows = [
        {"LastName": "O'Brien", "Email": "ob@x.com", "AccountId": child, "Department": "sales"},
        {"LastName": "Adams", "AccountId": parent, "Department": "finance"},
        {"LastName": "Baker", "AccountId": child},
        {"LastName": "Zed", "Department": "sales"},
    ]
    ids = [sf.Contact.create(r)["id"] for r in rows]
    return {"parent": parent, "child": child, "contacts": ids}


def names(result):
    return [r["LastName"] for r in result["records"]]


def test_parent_fields_and_format_soql_escapes(sf, people):
    """format_soql-escaped quotes match; Account.Name and Account.Parent.Name come back nested."""
    q = format_soql(
        "SELECT Id, LastName, Account.Name, Account.Parent.Name FROM Contact WHERE LastName = {}",
        "O'Brien",
    )
    rec = sf.query(q)["records"][0]
    assert rec["LastName"] == "O'Brien"
    assert rec["Account"]["Name"] == "Child Co"
    assert rec["Account"]["Parent"]["Name"] == "Parent Co"
    assert rec["Account"]["attributes"]["type"] == "Account"


def test_null_parent_is_null(sf, people):
    """A contact without an account has "Account": null."""
    rec = sf.query("SELECT LastName, Account.Name FROM Contact WHERE AccountId = null")["records"][
        0
    ]
    assert rec == {"attributes": rec["attributes"], "LastName": "Zed", "Account": None}


def test_where_in_and_or_parentheses_and_case_insensitive_equality(sf, people):
    """IN lists, parentheses and case-insensitive text equality behave as in SOQL."""
    r = sf.query(
        "SELECT LastName FROM Contact WHERE (Department = 'SALES' OR LastName IN ('Adams')) AND Email = null ORDER BY LastName"
    )
    assert names(r) == ["Adams", "Zed"]
    r = sf.query(
        format_soql(
            "SELECT LastName FROM Contact WHERE Id IN {} ORDER BY LastName", people["contacts"][:2]
        )
    )
    assert names(r) == ["Adams", "O'Brien"]
    r = sf.query(
        "SELECT LastName FROM Contact WHERE NOT LastName LIKE 'b%' AND Department != null ORDER BY LastName DESC"
    )
    assert names(r) == ["Zed", "O'Brien", "Adams"]


def test_mixing_and_or_without_parentheses_is_malformed(sf, people):
    """SOQL requires parentheses when AND and OR are mixed: MALFORMED_QUERY with the caret message."""
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Id FROM Contact WHERE LastName = 'a' AND LastName = 'b' OR LastName = 'c'")
    body = err.value.content[0]
    assert body["errorCode"] == "MALFORMED_QUERY"
    assert "ERROR at Row:1:Column:64\nunexpected token: 'OR'" in body["message"]


def test_malformed_and_invalid_field_and_type_shapes(sf):
    """Typos give MALFORMED_QUERY, unknown columns INVALID_FIELD, unknown objects INVALID_TYPE."""
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Id FORM Contact")
    assert err.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    assert err.value.content[0]["message"].startswith(
        "\nSELECT Id FORM Contact\n          ^\nERROR at Row:1:Column:11"
    )
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Id, Acount.Name FROM Contact")
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert "Didn't understand relationship 'Acount'" in err.value.content[0]["message"]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Id FROM Contactz")
    assert err.value.content[0]["errorCode"] == "INVALID_TYPE"


def test_filter_value_types_are_checked(sf):
    """A quoted datetime, an unquoted string or a bad id are refused like a real org."""
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Id FROM Contact WHERE CreatedDate > '2024-01-01T00:00:00Z'")
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert (
        "must be of type dateTime and should not be enclosed in quotes"
        in err.value.content[0]["message"]
    )
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Id FROM Contact WHERE Id = 'abc'")
    assert err.value.content[0]["errorCode"] == "INVALID_QUERY_FILTER_OPERATOR"


def test_datetime_literals_and_date_keywords(sf, people, clock):
    """format_soql datetimes with offsets and TODAY / LAST_N_DAYS:n filter on CreatedDate."""
    q = format_soql(
        "SELECT COUNT() FROM Contact WHERE CreatedDate >= {}", clock.now - dt.timedelta(hours=1)
    )
    assert sf.query(q)["totalSize"] == 4
    assert sf.query("SELECT COUNT() FROM Contact WHERE CreatedDate = TODAY")["totalSize"] == 4
    assert (
        sf.query("SELECT COUNT() FROM Contact WHERE CreatedDate < LAST_N_DAYS:3")["totalSize"] == 0
    )
    assert sf.query("SELECT COUNT() FROM Contact WHERE CreatedDate > TODAY")["totalSize"] == 0


def test_order_by_nulls_first_last_limit_offset(sf, people):
    """ORDER BY with NULLS FIRST/LAST, several keys, LIMIT and OFFSET."""
    r = sf.query("SELECT LastName FROM Contact ORDER BY Department ASC NULLS LAST, LastName DESC")
    assert names(r) == ["Adams", "Zed", "O'Brien", "Baker"]
    r = sf.query(
        "SELECT LastName FROM Contact ORDER BY Department DESC NULLS FIRST, LastName LIMIT 2 OFFSET 1"
    )
    assert names(r) == ["O'Brien", "Zed"]


def test_multipicklist_includes_excludes(sf, sandbox):
    """INCLUDES('a;b') means both, INCLUDES('a','b') either; EXCLUDES negates."""
    from crm_sync.sandbox.salesforce.schema import FieldDef

    sandbox.state.schema["Contact"].fields["Tags__c"] = FieldDef(
        "Tags__c", "multipicklist", custom=True, picklist=("vip", "churn", "new"), restricted=True
    )
    _grant(sf, "Contact.Tags__c")
    sf.Contact.create({"LastName": "A", "Tags__c": "vip;churn"})
    sf.Contact.create({"LastName": "B", "Tags__c": "vip"})
    sf.Contact.create({"LastName": "C"})
    q = "SELECT LastName FROM Contact WHERE Tags__c {} ORDER BY LastName"
    assert names(sf.query(q.format("INCLUDES ('vip;churn')"))) == ["A"]
    assert names(sf.query(q.format("INCLUDES ('churn','vip')"))) == ["A", "B"]
    assert names(sf.query(q.format("EXCLUDES ('churn')"))) == ["B", "C"]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Id FROM Contact WHERE LastName INCLUDES ('x')")
    assert err.value.content[0]["errorCode"] == "INVALID_QUERY_FILTER_OPERATOR"


def _grant(sf, field):
    ps = sf.PermissionSet.create({"Name": "T" + field.replace(".", "_"), "Label": "T"})["id"]
    obj = field.partition(".")[0]
    sf.FieldPermissions.create(
        {
            "ParentId": ps,
            "SobjectType": obj,
            "Field": field,
            "PermissionsRead": True,
            "PermissionsEdit": True,
        }
    )
    user = sf.query("SELECT Id FROM User WHERE Username = 'integration@crm-sync.sandbox'")[
        "records"
    ][0]["Id"]
    sf.PermissionSetAssignment.create({"AssigneeId": user, "PermissionSetId": ps})


@pytest.mark.parametrize("sandbox_options", [{"page_size": 3}])
def test_paging_with_next_records_url(sf, people):
    """Pages hold page_size rows; nextRecordsUrl is /services/data/v62.0/query/01g…-3; query_all follows."""
    first = sf.query("SELECT LastName FROM Contact ORDER BY LastName")
    assert first["done"] is False
    assert first["totalSize"] == 4
    assert len(first["records"]) == 3
    url = first["nextRecordsUrl"]
    assert url.startswith("/services/data/v62.0/query/01g")
    assert url.endswith("-3")
    second = sf.query_more(url, identifier_is_url=True)
    assert second["done"] is True
    assert names(second) == ["Zed"]
    assert "nextRecordsUrl" not in second
    assert names(sf.query_all("SELECT LastName FROM Contact ORDER BY LastName")) == [
        "Adams",
        "Baker",
        "O'Brien",
        "Zed",
    ]


@pytest.mark.parametrize("sandbox_options", [{"page_size": 3}])
def test_query_all_deleted_pages_use_query_url(sf, people):
    """queryAll pages also continue through /query/ (facts §4.2)."""
    sf.Contact.delete(people["contacts"][0])
    first = sf.query("SELECT Id FROM Contact", include_deleted=True)
    assert first["totalSize"] == 4
    assert "/query/01g" in first["nextRecordsUrl"]


@pytest.mark.parametrize("sandbox_options", [{"page_size": 3}])
def test_unknown_or_expired_locator_is_invalid_query_locator(sf, people, clock):
    """A locator idle for 15 minutes fails INVALID_QUERY_LOCATOR."""
    url = sf.query("SELECT Id FROM Contact")["nextRecordsUrl"]
    clock.advance(minutes=16)
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query_more(url, identifier_is_url=True)
    assert err.value.content == [
        {"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}
    ]


def test_batch_size_hint_shrinks_pages(sf, people):
    """Sforce-Query-Options: batchSize is honoured as a hint (min 200, so 4 rows fit one page)."""
    r = sf.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=200"})
    assert r["done"] is True
    assert len(r["records"]) == 4


def test_count_returns_total_size_and_no_records(sf, people):
    """SELECT COUNT() answers totalSize with an empty records list."""
    assert sf.query("SELECT COUNT() FROM Contact WHERE AccountId != null") == {
        "totalSize": 3,
        "done": True,
        "records": [],
    }


def test_query_hides_deleted_rows_and_query_all_shows_them(sf, people):
    """Plain query hides soft-deleted rows; queryAll returns them with IsDeleted = true."""
    sf.Contact.delete(people["contacts"][3])
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 3
    rows = sf.query_all(
        "SELECT LastName, IsDeleted FROM Contact WHERE IsDeleted = true", include_deleted=True
    )
    assert [(r["LastName"], r["IsDeleted"]) for r in rows["records"]] == [("Zed", True)]
