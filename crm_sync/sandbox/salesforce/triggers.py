"""What the platform itself does on save: derived fields, cross-record checks, cascades.

Why here and not in each endpoint: REST, collections and Bulk 2.0 all go through the same save
path in a real org (facts §6: flows and validation run on API and Bulk saves alike), so the
sandbox runs these rules once, from :meth:`Org.create`/``update``/``delete``, whatever the entry
point.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from crm_sync.sandbox.salesforce import campaigns
from crm_sync.sandbox.salesforce.errors import SfError
from crm_sync.sandbox.salesforce.schema import ObjectDef

if TYPE_CHECKING:
    from crm_sync.sandbox.salesforce.state import Org, Record

__all__ = ["CASCADE", "after_insert", "before_delete", "before_write"]

# Deleting a parent deletes these children with it (master-detail and platform cascades).
CASCADE: dict[str, tuple[tuple[str, str], ...]] = {
    "Account": (("Contact", "AccountId"), ("Opportunity", "AccountId")),
    "Opportunity": (("OpportunityLineItem", "OpportunityId"), ("OpportunityContactRole", "OpportunityId")),
    "Contact": (("CampaignMember", "ContactId"), ("OpportunityContactRole", "ContactId")),
    "Lead": (("CampaignMember", "LeadId"),),
    "Campaign": (("CampaignMember", "CampaignId"), ("CampaignMemberStatus", "CampaignId")),
    "PermissionSet": (("FieldPermissions", "ParentId"), ("PermissionSetAssignment", "PermissionSetId")),
    "Product2": (("PricebookEntry", "Product2Id"),),
}  # fmt: skip

_UNKNOWN_DUPLICATE = (
    "duplicate value found: <unknown> duplicates value on record with id: <unknown>"
)


def _full_name(rec: Record) -> str:
    return " ".join(p for p in (rec.get("FirstName"), rec.get("LastName")) if p)


def _duplicate(org: Org, sobject: str, rec: Record, keys: tuple[str, ...]) -> Record | None:
    for row in org.rows(sobject):
        if row["Id"] != rec["Id"] and all(
            str(row.get(k) or "").lower() == str(rec.get(k) or "").lower() for k in keys
        ):
            return row
    return None


def _activity_account(org: Org, rec: Record) -> Any:
    """Facts §4.1: Task.AccountId comes from the WhatId's account, else from the Contact WhoId."""
    what = rec.get("WhatId")
    if what:
        if what.startswith("001"):
            return what
        if what.startswith("006"):
            opp = org.get("Opportunity", what)
            return opp["AccountId"] if opp else None
    who = rec.get("WhoId")
    if who and who.startswith("003"):
        contact = org.get("Contact", who)
        return contact["AccountId"] if contact else None
    return None


def _event_times(rec: Record) -> None:
    start = rec.get("StartDateTime") or rec.get("ActivityDateTime")
    if start is None:
        raise SfError(
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [ActivityDateTime]",
            fields=["ActivityDateTime"],
        )
    rec["StartDateTime"] = rec["ActivityDateTime"] = start
    if rec.get("EndDateTime") is None and rec.get("DurationInMinutes") is None:
        raise SfError(
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [DurationInMinutes]",
            fields=["DurationInMinutes"],
        )
    if rec.get("EndDateTime") is None:
        rec["EndDateTime"] = start + dt.timedelta(minutes=rec["DurationInMinutes"])
    rec["DurationInMinutes"] = int((rec["EndDateTime"] - start).total_seconds() // 60)
    rec["ActivityDate"] = start.date()


def _line_item(org: Org, rec: Record, old: Record | None) -> None:
    if old is None:
        entry = None
        if rec.get("PricebookEntryId"):
            entry = org.get("PricebookEntry", rec["PricebookEntryId"])
        elif rec.get("Product2Id"):
            entry = next(
                (
                    e
                    for e in org.rows("PricebookEntry")
                    if e["Product2Id"] == rec["Product2Id"]
                    and e["Pricebook2Id"] == org.standard_pricebook_id
                ),
                None,
            )
        if entry is None:
            raise SfError(
                "FIELD_INTEGRITY_EXCEPTION",
                "field integrity exception: PricebookEntryId (pricebook entry is missing)",
                fields=["PricebookEntryId"],
            )
        rec["PricebookEntryId"] = entry["Id"]
        rec["Product2Id"] = entry["Product2Id"]
        rec["ListPrice"] = entry["UnitPrice"]
        product = org.get("Product2", entry["Product2Id"])
        opp = org.get("Opportunity", rec["OpportunityId"])
        rec["Name"] = f"{opp['Name'] if opp else ''} {product['Name'] if product else ''}".strip()
    unit_changed = old is None or rec.get("UnitPrice") != old.get("UnitPrice")
    total_changed = old is None or rec.get("TotalPrice") != old.get("TotalPrice")
    if old is None and rec.get("UnitPrice") is not None and rec.get("TotalPrice") is not None:
        raise SfError(
            "FIELD_INTEGRITY_EXCEPTION",
            "field integrity exception: TotalPrice (only one of unit price or total price may be specified)",
            fields=["TotalPrice"],
        )
    qty = float(rec["Quantity"] or 0)
    if rec.get("UnitPrice") is not None and (unit_changed or not total_changed):
        rec["TotalPrice"] = round(qty * rec["UnitPrice"], 2)
    elif rec.get("TotalPrice") is not None and qty:
        rec["UnitPrice"] = round(rec["TotalPrice"] / qty, 2)
    else:
        raise SfError(
            "FIELD_INTEGRITY_EXCEPTION",
            "field integrity exception: unknown (must specify either UnitPrice or TotalPrice)",
        )


def _pricebook_entry(org: Org, rec: Record) -> None:
    if _duplicate(org, "PricebookEntry", rec, ("Pricebook2Id", "Product2Id")):
        raise SfError("DUPLICATE_VALUE", "This price definition already exists in this price book")
    if rec["Pricebook2Id"] != org.standard_pricebook_id and not any(
        e["Product2Id"] == rec["Product2Id"] and e["Pricebook2Id"] == org.standard_pricebook_id
        for e in org.rows("PricebookEntry")
    ):
        raise SfError("STANDARD_PRICE_NOT_DEFINED", "No standard price defined for this product")
    product = org.get("Product2", rec["Product2Id"])
    rec["Name"] = product["Name"] if product else None


def _field_permission(org: Org, rec: Record) -> None:
    """Facts §3.3: the Field must exist on SobjectType, Edit requires Read, one row per field."""
    obj = org.find_object(str(rec["SobjectType"]))
    name = str(rec["Field"])
    prefix, _, field_name = name.partition(".")
    f = obj.field(field_name) if obj and prefix.lower() == obj.name.lower() else None
    if obj is None or f is None or f.required or f.type == "id" or not f.updateable:
        raise SfError(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"Field Name: bad value for restricted picklist field: {name}",
            fields=["Field"],
        )
    rec["SobjectType"] = obj.name
    rec["Field"] = f"{obj.name}.{f.name}"
    if rec.get("PermissionsEdit") and not rec.get("PermissionsRead"):
        raise SfError(
            "FIELD_INTEGRITY_EXCEPTION",
            f"Permission Edit {rec['Field']} depends on permission(s): Read {rec['Field']}",
        )
    if _duplicate(org, "FieldPermissions", rec, ("ParentId", "Field")):
        raise SfError("DUPLICATE_VALUE", _UNKNOWN_DUPLICATE)


def before_write(org: Org, obj: ObjectDef, rec: Record, old: Record | None, user_id: str) -> None:
    """Derive read-only fields and refuse what the platform refuses, before the row is stored."""
    name = obj.name
    if name in ("Contact", "Lead", "User"):
        rec["Name"] = _full_name(rec)
    elif name == "Opportunity":
        rec["IsWon"] = rec.get("StageName") == "Closed Won"
        rec["IsClosed"] = rec.get("StageName") in ("Closed Won", "Closed Lost")
    elif name == "Task":
        rec["IsClosed"] = rec.get("Status") == "Completed"
        rec["TaskSubtype"] = rec.get("TaskSubtype") or "Task"
        rec["AccountId"] = _activity_account(org, rec)
    elif name == "Event":
        rec["EventSubtype"] = rec.get("EventSubtype") or "Event"
        _event_times(rec)
        rec["AccountId"] = _activity_account(org, rec)
    elif name == "OpportunityLineItem":
        _line_item(org, rec, old)
    elif name == "PricebookEntry" and old is None:
        _pricebook_entry(org, rec)
    elif name == "FieldPermissions":
        _field_permission(org, rec)
    elif name == "PermissionSetAssignment":
        if _duplicate(org, name, rec, ("AssigneeId", "PermissionSetId")):
            raise SfError("DUPLICATE_VALUE", _UNKNOWN_DUPLICATE)
    elif name in ("PermissionSet", "User"):
        key = "Name" if name == "PermissionSet" else "Username"
        dup = _duplicate(org, name, rec, (key,))
        if dup is not None:
            raise SfError(
                "DUPLICATE_VALUE",
                f"duplicate value found: {key} duplicates value on record with id: {dup['Id']}",
                fields=[key],
            )
    elif name in campaigns.OBJECTS:
        campaigns.before_write(org, obj, rec, old)


def after_insert(org: Org, obj: ObjectDef, rec: Record, user_id: str) -> None:
    """Side effects of a new row (a new Campaign gets its default member statuses)."""
    if obj.name in campaigns.OBJECTS:
        campaigns.after_insert(org, obj, rec)


def before_delete(org: Org, obj: ObjectDef, rec: Record) -> None:
    """Refuse deletes the platform refuses."""
    if obj.name in campaigns.OBJECTS:
        campaigns.before_delete(org, obj, rec)
