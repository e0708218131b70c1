"""The standard objects of a fresh org, as data: prefixes, fields, picklists and write flags.

Why these values: the picklists are a fresh org's defaults (facts §7 for OCR roles and Lead
Status, §4.1 for TaskSubtype), because adapters must read them from describe and never
hard-code them (Gotcha 15). Derived fields (``Name`` on Contact, ``IsWon``, ``HasResponded``,
``Task.AccountId``, ``ListPrice``...) are read-only here as they are in a real org; the org in
``state.py`` computes them.
"""

from __future__ import annotations

import copy
from typing import Any

from crm_sync.sandbox.salesforce.schema import FieldDef, ObjectDef

__all__ = ["STANDARD_PRICEBOOK_NAME", "fresh_schema"]

STANDARD_PRICEBOOK_NAME = "Standard Price Book"

_LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
_INDUSTRIES = (
    "Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications",
    "Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering",
    "Entertainment", "Environmental", "Finance", "Food & Beverage", "Government", "Healthcare",
    "Hospitality", "Insurance", "Machinery", "Manufacturing", "Media", "Not For Profit",
    "Recreation", "Retail", "Shipping", "Technology", "Telecommunications", "Transportation",
    "Utilities", "Other",
)  # fmt: skip
_STAGES = (
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
    "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost",
)  # fmt: skip
# facts §7: the default OpportunityContactRole.Role values (org-editable; read them from describe).
_ROLES = (
    "Business User", "Decision Maker", "Economic Buyer", "Economic Decision Maker", "Evaluator",
    "Executive Sponsor", "Influencer", "Technical Buyer", "Other",
)  # fmt: skip
_ACTIVITY_TYPES = ("Call", "Email", "Meeting", "Other")
_WHO = ("Contact", "Lead")
_WHAT = ("Account", "Opportunity", "Campaign", "Product2")


def _f(name: str, type_: str, **kw: Any) -> FieldDef:
    return FieldDef(name, type_, **kw)


def _ro(name: str, type_: str, **kw: Any) -> FieldDef:
    """A field the API can read but never write (derived or platform-maintained)."""
    return FieldDef(name, type_, createable=False, updateable=False, **kw)


def _ref(name: str, to: tuple[str, ...] | str, rel: str, **kw: Any) -> FieldDef:
    targets = (to,) if isinstance(to, str) else to
    return FieldDef(name, "reference", reference_to=targets, relationship_name=rel, **kw)


def _pick(name: str, values: tuple[str, ...], **kw: Any) -> FieldDef:
    return FieldDef(name, "picklist", picklist=values, **kw)


def _system(owned: bool) -> list[FieldDef]:
    out = [
        _ro("Id", "id", nillable=False, length=18),
        _ro("IsDeleted", "boolean", nillable=False),
        _ro("CreatedDate", "datetime", nillable=False),
        _ro("CreatedById", "reference", reference_to=("User",), relationship_name="CreatedBy"),
        _ro("LastModifiedDate", "datetime", nillable=False),
        _ro(
            "LastModifiedById",
            "reference",
            reference_to=("User",),
            relationship_name="LastModifiedBy",
        ),
        _ro("SystemModstamp", "datetime", nillable=False),
    ]
    if owned:
        out.append(_ref("OwnerId", "User", "Owner", nillable=False))
    return out


def _obj(
    name: str, prefix: str, fields: list[FieldDef], *, owned: bool = True, **kw: Any
) -> ObjectDef:
    all_fields = _system(owned) + fields
    return ObjectDef(name, prefix, fields={f.name: f for f in all_fields}, **kw)


def _standard_objects() -> dict[str, ObjectDef]:
    objs = [
        _obj("Account", "001", [
            _f("Name", "string", required=True, nillable=False),
            _ref("ParentId", "Account", "Parent"),
            _pick("Type", ("Prospect", "Customer - Direct", "Customer - Channel",
                           "Channel Partner / Reseller", "Installation Partner",
                           "Technology Partner", "Other")),
            _pick("Industry", _INDUSTRIES),
            _pick("AccountSource", _LEAD_SOURCES),
            _f("BillingCountry", "string", length=80),
            _f("BillingCity", "string", length=40),
            _f("Phone", "phone", length=40),
            _f("Website", "url"),
            _f("AnnualRevenue", "currency", precision=18, scale=0),
            _f("NumberOfEmployees", "int", precision=8),
            _f("Description", "textarea", length=32000),
        ]),
        _obj("Contact", "003", [
            _ref("AccountId", "Account", "Account"),
            _pick("Salutation", ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")),
            _f("FirstName", "string", length=40),
            _f("LastName", "string", length=80, required=True, nillable=False),
            _ro("Name", "string", length=121),
            _f("Email", "email", length=80),
            _f("Phone", "phone", length=40),
            _f("Title", "string", length=128),
            _f("Department", "string", length=80),
            _pick("LeadSource", _LEAD_SOURCES),
            _f("MailingCountry", "string", length=80),
            _ref("ReportsToId", "Contact", "ReportsTo"),
            _f("Description", "textarea", length=32000),
        ]),
        _obj("Lead", "00Q", [
            _f("FirstName", "string", length=40),
            _f("LastName", "string", length=80, required=True, nillable=False),
            _ro("Name", "string", length=121),
            _f("Company", "string", required=True, nillable=False),
            _f("Email", "email", length=80),
            _f("Title", "string", length=128),
            _pick("Status", ("Open - Not Contacted", "Working - Contacted", "Closed - Converted",
                             "Closed - Not Converted"), default_value="Open - Not Contacted",
                  nillable=False),
            _pick("LeadSource", _LEAD_SOURCES),
            _pick("Industry", _INDUSTRIES),
            _f("Country", "string", length=80),
            _ro("IsConverted", "boolean", nillable=False),
            _ro("ConvertedAccountId", "reference", reference_to=("Account",), relationship_name="ConvertedAccount"),
            _ro("ConvertedContactId", "reference", reference_to=("Contact",), relationship_name="ConvertedContact"),
            _ro("ConvertedDate", "date"),
        ]),
        _obj("Task", "00T", [
            _ref("WhoId", _WHO, "Who"),
            _ref("WhatId", _WHAT, "What"),
            _ro("AccountId", "reference", reference_to=("Account",), relationship_name="Account"),
            _f("Subject", "combobox", length=255),
            _f("ActivityDate", "date"),
            _pick("Status", ("Not Started", "In Progress", "Completed", "Waiting on someone else",
                             "Deferred"), default_value="Not Started", nillable=False),
            _pick("Priority", ("High", "Normal", "Low"), default_value="Normal", nillable=False),
            _ro("IsClosed", "boolean", nillable=False),
            # facts §4.1 [UNVERIFIED]: TaskSubtype is set on create and cannot be updated.
            _pick("TaskSubtype", ("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"),
                  updateable=False, restricted=True),
            _pick("Type", _ACTIVITY_TYPES),
            _pick("CallType", ("Internal", "Inbound", "Outbound")),
            _f("CallDurationInSeconds", "int", precision=9),
            _f("Description", "textarea", length=32000),
        ]),
        _obj("Event", "00U", [
            _ref("WhoId", _WHO, "Who"),
            _ref("WhatId", _WHAT, "What"),
            _ro("AccountId", "reference", reference_to=("Account",), relationship_name="Account"),
            _f("Subject", "combobox", length=255),
            _f("ActivityDate", "date"),
            _f("ActivityDateTime", "datetime"),
            _f("StartDateTime", "datetime"),
            _f("EndDateTime", "datetime"),
            _f("DurationInMinutes", "int", precision=8),
            _pick("EventSubtype", ("Event",), updateable=False, restricted=True),
            _pick("Type", _ACTIVITY_TYPES),
            _f("Location", "string"),
            _f("Description", "textarea", length=32000),
        ]),
        _obj("EmailMessage", "02s", [
            _f("Subject", "string", length=3000),
            _f("TextBody", "textarea", length=131072),
            _f("FromAddress", "email"),
            _f("ToAddress", "string", length=4000),
            _f("MessageDate", "datetime"),
            _f("Incoming", "boolean", default_checkbox=False),
            _pick("Status", ("0", "1", "2", "3", "4", "5"), nillable=False, default_value="3"),
            _ref("RelatedToId", _WHAT, "RelatedTo"),
            _ro("ActivityId", "reference", reference_to=("Task",), relationship_name="Activity"),
        ], owned=False, name_field=None),
        _obj("Opportunity", "006", [
            _f("Name", "string", length=120, required=True, nillable=False),
            _ref("AccountId", "Account", "Account"),
            _pick("StageName", _STAGES, required=True, nillable=False),
            _f("CloseDate", "date", required=True, nillable=False),
            _f("Amount", "currency", precision=18, scale=2),
            _f("Probability", "percent", precision=3),
            _ro("IsWon", "boolean", nillable=False),
            _ro("IsClosed", "boolean", nillable=False),
            _pick("Type", ("Existing Customer - Upgrade", "Existing Customer - Replacement",
                           "Existing Customer - Downgrade", "New Customer")),
            _pick("LeadSource", _LEAD_SOURCES),
            _ref("CampaignId", "Campaign", "Campaign"),
            _ref("Pricebook2Id", "Pricebook2", "Pricebook2"),
        ]),
        _obj("Product2", "01t", [
            _f("Name", "string", required=True, nillable=False),
            _f("ProductCode", "string"),
            # Family is unrestricted in a fresh org: any value is accepted through the API (§3.4).
            _pick("Family", ("None",)),
            _f("IsActive", "boolean", default_checkbox=False),
            _f("Description", "textarea", length=4000),
        ], owned=False),
        _obj("Pricebook2", "01s", [
            _f("Name", "string", required=True, nillable=False),
            _f("IsActive", "boolean", default_checkbox=False),
            _ro("IsStandard", "boolean", nillable=False),
        ], owned=False),
        _obj("PricebookEntry", "01u", [
            _ref("Pricebook2Id", "Pricebook2", "Pricebook2", required=True, nillable=False, updateable=False),
            _ref("Product2Id", "Product2", "Product2", required=True, nillable=False, updateable=False),
            _f("UnitPrice", "currency", precision=18, scale=2, required=True, nillable=False),
            _f("IsActive", "boolean", default_checkbox=False),
            _f("UseStandardPrice", "boolean", default_checkbox=False),
            _ro("Name", "string"),
        ], owned=False),
        _obj("OpportunityLineItem", "00k", [
            _ref("OpportunityId", "Opportunity", "Opportunity", required=True, nillable=False, updateable=False),
            _ref("PricebookEntryId", "PricebookEntry", "PricebookEntry", updateable=False),
            # facts §4.1 [UNVERIFIED]: Product2Id; it is derived from the pricebook entry when omitted.
            _ref("Product2Id", "Product2", "Product2", updateable=False),
            _f("Quantity", "double", precision=12, scale=2, required=True, nillable=False),
            _f("UnitPrice", "currency", precision=18, scale=2),
            _ro("ListPrice", "currency", precision=18, scale=2),
            _f("TotalPrice", "currency", precision=18, scale=2),
            _f("ServiceDate", "date"),
            _f("Description", "string"),
            _ro("Name", "string", length=376),
        ], owned=False),
        _obj("OpportunityContactRole", "00K", [
            _ref("OpportunityId", "Opportunity", "Opportunity", required=True, nillable=False, updateable=False),
            _ref("ContactId", "Contact", "Contact", required=True, nillable=False),
            _pick("Role", _ROLES, length=40),
            _f("IsPrimary", "boolean", default_checkbox=False),
        ], owned=False, name_field=None),
        _obj("Campaign", "701", [
            _f("Name", "string", length=80, required=True, nillable=False),
            _ref("ParentId", "Campaign", "Parent"),
            _pick("Type", ("Conference", "Webinar", "Trade Show", "Public Relations", "Partners",
                           "Referral Program", "Advertisement", "Banner Ads", "Direct Mail",
                           "Email", "Telemarketing", "Other")),
            _pick("Status", ("Planned", "In Progress", "Completed", "Aborted")),
            _f("IsActive", "boolean", default_checkbox=False),
            _f("StartDate", "date"),
            _f("EndDate", "date"),
            _f("Description", "textarea", length=32000),
        ]),
        _obj("CampaignMember", "00v", [
            _ref("CampaignId", "Campaign", "Campaign", required=True, nillable=False, updateable=False),
            _ref("ContactId", "Contact", "Contact", updateable=False),
            _ref("LeadId", "Lead", "Lead", updateable=False),
            _pick("Status", ()),  # values are per campaign: CampaignMemberStatus rows (§4.1)
            _ro("HasResponded", "boolean", nillable=False),
            _ro("FirstRespondedDate", "date"),
            _ro("Name", "string", length=121),
        ], owned=False, name_field=None),
        _obj("CampaignMemberStatus", "01Y", [
            _ref("CampaignId", "Campaign", "Campaign", required=True, nillable=False, updateable=False),
            _f("Label", "string", required=True, nillable=False),
            _f("HasResponded", "boolean", default_checkbox=False),
            _f("IsDefault", "boolean", default_checkbox=False),
            _f("SortOrder", "int", precision=9),
        ], owned=False, name_field=None),
        _obj("User", "005", [
            _f("Username", "string", length=80, required=True, nillable=False, unique=True),
            _f("FirstName", "string", length=40),
            _f("LastName", "string", length=80, required=True, nillable=False),
            _ro("Name", "string", length=121),
            _f("Email", "email", length=128, required=True, nillable=False),
            _f("Alias", "string", length=8, required=True, nillable=False),
            _f("IsActive", "boolean", default_checkbox=True),
        ], owned=False, deletable=False),
        _obj("PermissionSet", "0PS", [
            _f("Name", "string", length=80, required=True, nillable=False, unique=True),
            _f("Label", "string", length=80, required=True, nillable=False),
            _f("Description", "string"),
            _ro("IsOwnedByProfile", "boolean", nillable=False),
        ], owned=False),
        _obj("PermissionSetAssignment", "0Pa", [
            _ref("AssigneeId", "User", "Assignee", required=True, nillable=False, updateable=False),
            _ref("PermissionSetId", "PermissionSet", "PermissionSet", required=True, nillable=False, updateable=False),
        ], owned=False, name_field=None, updateable=False),
        # facts §3.3: FLS rows; supported on PermissionSet parents; Edit requires Read.
        _obj("FieldPermissions", "01k", [
            _ref("ParentId", "PermissionSet", "Parent", required=True, nillable=False, updateable=False),
            _f("SobjectType", "string", length=40, required=True, nillable=False, updateable=False),
            _f("Field", "string", length=100, required=True, nillable=False, updateable=False),
            _f("PermissionsRead", "boolean", default_checkbox=False),
            _f("PermissionsEdit", "boolean", default_checkbox=False),
        ], owned=False, name_field=None),
    ]  # fmt: skip
    return {o.name: o for o in objs}


_STANDARD = _standard_objects()


def fresh_schema() -> dict[str, ObjectDef]:
    """A deep copy of the standard objects: each org owns its own (custom fields get added)."""
    return copy.deepcopy(_STANDARD)
