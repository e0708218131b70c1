"""Campaign membership rules: per-campaign statuses, responded flags, one membership per person.

Why it matters: campaign membership is crm_sync's most portable workflow trigger (facts §6), and
a member's ``Status`` is not a global picklist but one of *that campaign's*
``CampaignMemberStatus`` labels (facts §4.1, Gotcha 15). ``HasResponded`` follows the status, so
adapters must read it rather than match label strings.

[UNVERIFIED in the facts file, chosen to match what orgs answer]: a second membership for the
same person fails ``DUPLICATE_VALUE`` "Already a campaign member."; a status the campaign does not
define fails like a restricted picklist value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crm_sync.sandbox.salesforce.errors import SfError
from crm_sync.sandbox.salesforce.schema import ObjectDef

if TYPE_CHECKING:
    from crm_sync.sandbox.salesforce.state import Org, Record

__all__ = ["DEFAULT_STATUSES", "OBJECTS", "after_insert", "before_delete", "before_write"]

OBJECTS = frozenset({"Campaign", "CampaignMember", "CampaignMemberStatus"})

# facts §4.1: since v39 every campaign has a default status and one with HasResponded = true;
# a new campaign starts with these two.
DEFAULT_STATUSES: tuple[tuple[str, bool, bool], ...] = (
    ("Sent", False, True),  # label, HasResponded, IsDefault
    ("Responded", True, False),
)


def statuses(org: Org, campaign_id: str) -> list[Record]:
    """The campaign's member statuses in sort order."""
    rows = [s for s in org.rows("CampaignMemberStatus") if s["CampaignId"] == campaign_id]
    return sorted(rows, key=lambda s: (s.get("SortOrder") or 0, s["Label"]))


def _member(org: Org, rec: Record, old: Record | None) -> None:
    if old is None:
        if not rec.get("ContactId") and not rec.get("LeadId"):
            raise SfError(
                "REQUIRED_FIELD_MISSING",
                "Required fields are missing: [ContactId, LeadId]",
                fields=["ContactId", "LeadId"],
            )
        for key in ("ContactId", "LeadId"):
            if rec.get(key) and any(
                m["CampaignId"] == rec["CampaignId"] and m.get(key) == rec[key]
                for m in org.rows("CampaignMember")
            ):
                raise SfError("DUPLICATE_VALUE", "Already a campaign member.")
    known = statuses(org, rec["CampaignId"])
    if rec.get("Status") is None:
        default = next((s for s in known if s["IsDefault"]), known[0] if known else None)
        rec["Status"] = default["Label"] if default else None
    match = next((s for s in known if s["Label"] == rec["Status"]), None)
    if match is None:
        raise SfError(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"Status: bad value for restricted picklist field: {rec['Status']}",
            fields=["Status"],
        )
    rec["HasResponded"] = bool(match["HasResponded"])
    if rec["HasResponded"] and rec.get("FirstRespondedDate") is None:
        rec["FirstRespondedDate"] = org.now().date()
    person = org.get("Contact", rec["ContactId"]) if rec.get("ContactId") else None
    if person is None and rec.get("LeadId"):
        person = org.get("Lead", rec["LeadId"])
    rec["Name"] = person["Name"] if person else None


def _status(org: Org, rec: Record, old: Record | None) -> None:
    for other in statuses(org, rec["CampaignId"]):
        if other["Id"] != rec["Id"] and other["Label"].lower() == str(rec["Label"]).lower():
            raise SfError(
                "DUPLICATE_VALUE",
                f"duplicate value found: Label duplicates value on record with id: {other['Id']}",
                fields=["Label"],
            )
    if rec.get("IsDefault"):
        for other in statuses(org, rec["CampaignId"]):
            if other["Id"] != rec["Id"] and other["IsDefault"]:
                org.touch("CampaignMemberStatus", other["Id"], {"IsDefault": False})
    elif old is not None and old.get("IsDefault"):
        raise SfError(
            "FIELD_INTEGRITY_EXCEPTION",
            "A campaign must have a default member status; make another status the default first",
            fields=["IsDefault"],
        )


def before_write(org: Org, obj: ObjectDef, rec: Record, old: Record | None) -> None:
    """Validate and derive fields for the three campaign objects."""
    if obj.name == "CampaignMember":
        _member(org, rec, old)
    elif obj.name == "CampaignMemberStatus":
        _status(org, rec, old)


def after_insert(org: Org, obj: ObjectDef, rec: Record) -> None:
    """A new campaign gets the default ``Sent``/``Responded`` statuses."""
    if obj.name != "Campaign":
        return
    for order, (label, responded, default) in enumerate(DEFAULT_STATUSES, start=1):
        org.insert_system(
            "CampaignMemberStatus",
            {
                "CampaignId": rec["Id"],
                "Label": label,
                "HasResponded": responded,
                "IsDefault": default,
                "SortOrder": order,
            },
        )


def before_delete(org: Org, obj: ObjectDef, rec: Record) -> None:
    """The default status, and a status members still hold, cannot be deleted."""
    if obj.name != "CampaignMemberStatus":
        return
    in_use = any(
        m["CampaignId"] == rec["CampaignId"] and m["Status"] == rec["Label"]
        for m in org.rows("CampaignMember")
    )
    if rec.get("IsDefault") or in_use:
        raise SfError(
            "DELETE_FAILED",
            "Your attempt to delete this status could not be completed because it is the default "
            "status or members still hold it.",
        )
