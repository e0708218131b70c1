"""Campaign membership rules and seeding a book into the Salesforce sandbox."""

from __future__ import annotations

import pytest
from simple_salesforce import SalesforceMalformedRequest  # noqa: TID251 - official client under test

from crm_sync.sandbox.seed import generate_book


@pytest.fixture
def campaign(sf):
    """A campaign and a contact."""
    return sf.Campaign.create({"Name": "Fair 2026"})["id"], sf.Contact.create({"LastName": "X"})[
        "id"
    ]


def test_new_campaign_has_default_statuses(sf, campaign):
    """A new campaign gets Sent (default) and Responded (HasResponded) member statuses."""
    q = f"SELECT Label, HasResponded, IsDefault FROM CampaignMemberStatus WHERE CampaignId = '{campaign[0]}' ORDER BY SortOrder"
    rows = [(r["Label"], r["HasResponded"], r["IsDefault"]) for r in sf.query(q)["records"]]
    assert rows == [("Sent", False, True), ("Responded", True, False)]


def test_member_defaults_status_and_derives_has_responded(sf, campaign):
    """A member without Status gets the default; a responded status sets HasResponded."""
    mid = sf.CampaignMember.create({"CampaignId": campaign[0], "ContactId": campaign[1]})["id"]
    rec = sf.CampaignMember.get(mid)
    assert rec["Status"] == "Sent"
    assert rec["HasResponded"] is False
    sf.CampaignMember.update(mid, {"Status": "Responded"})
    rec = sf.CampaignMember.get(mid)
    assert rec["HasResponded"] is True
    assert rec["FirstRespondedDate"] == "2026-11-23"


def test_duplicate_member_is_refused(sf, campaign):
    """The same contact twice on one campaign fails DUPLICATE_VALUE."""
    sf.CampaignMember.create({"CampaignId": campaign[0], "ContactId": campaign[1]})
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.CampaignMember.create({"CampaignId": campaign[0], "ContactId": campaign[1]})
    assert err.value.content == [
        {"message": "Already a campaign member.", "errorCode": "DUPLICATE_VALUE"}
    ]


def test_status_must_exist_on_that_campaign(sf, campaign):
    """A status the campaign does not define is refused; adding it makes it valid."""
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.CampaignMember.create(
            {"CampaignId": campaign[0], "ContactId": campaign[1], "Status": "Attended"}
        )
    assert err.value.content[0]["fields"] == ["Status"]
    sf.CampaignMemberStatus.create(
        {"CampaignId": campaign[0], "Label": "Attended", "HasResponded": True, "SortOrder": 3}
    )
    mid = sf.CampaignMember.create(
        {"CampaignId": campaign[0], "ContactId": campaign[1], "Status": "Attended"}
    )["id"]
    assert sf.CampaignMember.get(mid)["HasResponded"] is True


def test_member_needs_contact_or_lead(sf, campaign):
    """A member without ContactId or LeadId fails REQUIRED_FIELD_MISSING."""
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.CampaignMember.create({"CampaignId": campaign[0]})
    assert err.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_line_item_derives_product_and_prices(sf, sandbox):
    """An OpportunityLineItem takes Product2Id and ListPrice from its PricebookEntry; TotalPrice = Quantity x UnitPrice."""
    product = sf.Product2.create({"Name": "Pump", "Family": "hydraulics"})["id"]
    entry = sf.PricebookEntry.create(
        {
            "Pricebook2Id": sandbox.state.standard_pricebook_id,
            "Product2Id": product,
            "UnitPrice": 100,
            "IsActive": True,
        }
    )["id"]
    opp = sf.Opportunity.create(
        {"Name": "O", "StageName": "Closed Won", "CloseDate": "2026-11-01"}
    )["id"]
    sf.OpportunityLineItem.create(
        {"OpportunityId": opp, "PricebookEntryId": entry, "Quantity": 3, "UnitPrice": 90}
    )
    row = sf.query(
        "SELECT Product2.Family, ListPrice, TotalPrice, Opportunity.IsWon FROM OpportunityLineItem"
    )["records"][0]
    assert row["Product2"]["Family"] == "hydraulics"
    assert row["ListPrice"] == 100.0
    assert row["TotalPrice"] == 270.0
    assert row["Opportunity"]["IsWon"] is True


@pytest.fixture
def seeded(sandbox):
    """A generated book of 20 companies loaded into the org."""
    book = generate_book(7, 20)
    return book, sandbox.load_book(book)


def test_load_book_counts(sf, seeded):
    """load_book creates accounts, contacts, activities, opportunities and campaign members."""
    book, counts = seeded
    assert counts["Account"] == len(book.companies)
    assert counts["Contact"] == len(book.contacts)
    assert counts["Task"] > 0
    assert counts["Event"] > 0
    assert counts["OpportunityLineItem"] > 0
    assert counts["EmailMessage"] > 0
    assert counts["CampaignMember"] > 0
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == len(book.companies)


def test_seeded_chains_use_parent_id(sf, seeded):
    """Chain members point at their head through Account.ParentId."""
    book, _ = seeded
    members = sum(1 for c in book.companies if c.parent_id)
    assert sf.query("SELECT COUNT() FROM Account WHERE ParentId != null")["totalSize"] == members


def test_seeded_invoices_are_won_line_items_with_family(sf, seeded):
    """Invoices are won Opportunities whose line items name the product family and keep the net amount."""
    book, _ = seeded
    invoices = [a for a in book.activities if a.type.value == "invoice" and a.amount is not None]
    rows = sf.query_all(
        "SELECT TotalPrice, Product2.Family FROM OpportunityLineItem WHERE Opportunity.IsWon = true AND Opportunity.Type = 'Invoice'"
    )["records"]
    assert len(rows) == len(invoices)
    assert round(sum(r["TotalPrice"] for r in rows), 2) == round(sum(a.amount for a in invoices), 2)
    assert {r["Product2"]["Family"] for r in rows} <= {a.product_family or "None" for a in invoices}


def test_seeded_calls_are_task_subtype_call_and_fields_visible(sf, seeded):
    """Calls are Tasks with TaskSubtype Call; seed custom fields are readable by the integration user."""
    book, _ = seeded
    calls = sum(1 for a in book.activities if a.type.value == "call")
    assert sf.query("SELECT COUNT() FROM Task WHERE TaskSubtype = 'Call'")["totalSize"] == calls
    rows = sf.query(
        "SELECT Purchase_Potential__c FROM Account WHERE Purchase_Potential__c != null"
    )["records"]
    assert rows
    assert all(r["Purchase_Potential__c"] >= 0 for r in rows)
    roles = sf.query("SELECT Buying_Role__c FROM Contact WHERE Buying_Role__c != null")["records"]
    assert {r["Buying_Role__c"] for r in roles} <= {"Decision Maker", "Influencer", "Business User"}


def test_seeded_event_attendance_responds(sf, seeded):
    """Event attendance is a CampaignMember with status Attended and HasResponded = true."""
    _book, _ = seeded
    rows = sf.query_all("SELECT HasResponded FROM CampaignMember WHERE Status = 'Attended'")[
        "records"
    ]
    assert rows
    assert all(r["HasResponded"] for r in rows)
