"""Translate a seeded :class:`~crm_sync.sandbox.seed.Book` into what a real org would hold.

Why a translation and not a dump: the Salesforce adapter must find the data where a real org
keeps it — chains in ``Account.ParentId``, calls and emails as Task subtypes (facts §4.1),
meetings and visits as Events, invoices and orders as won Opportunities with line items whose
``Product2.Family`` names the product family, events and campaign responses as CampaignMembers
whose status carries ``HasResponded``. Values no standard field holds become *seed* custom fields,
already provisioned and granted to the integration user (as an admin would have done):

========================  =====================================================================
Book                      Org
========================  =====================================================================
Company                   Account (Name, ParentId, Industry, BillingCountry, AccountSource,
                          Owner as a User, NumberOfEmployees, Lifecycle_Stage__c)
PurchasePotential         Account.Purchase_Potential__c / Purchase_Potential_Date__c: the
                          whole-wallet value valid at ``book.as_of`` (history is not kept)
Contact                   Contact (Department, LeadSource, Buying_Role__c restricted picklist)
call / email_sent         Task (TaskSubtype Call / Email); email_sent also an EmailMessage
meeting / visit           Event (Type Meeting / Visit)
invoice / order           Opportunity Closed Won (Type Invoice / Order) + OpportunityLineItem
quote_sent                Opportunity Proposal/Price Quote + OpportunityLineItem
event_*                   CampaignMember on the event's Campaign (Registered / Attended)
campaign_response         CampaignMember on the campaign (Responded)
anything else             Task (TaskSubtype Task) whose Subject starts with the activity type
========================  =====================================================================

Opportunity contact roles: each contact with a buying role gets an OpportunityContactRole on
its account's first won opportunity.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from crm_sync.sandbox.salesforce.schema import FieldDef
from crm_sync.sandbox.salesforce.state import Org

__all__ = ["SEED_FIELDS", "load_book"]

SEED_PERMISSION_SET = "Crm_Sync_Seed_Fields"
SEED_FIELDS: dict[str, tuple[FieldDef, ...]] = {
    "Account": (
        FieldDef("Purchase_Potential__c", "currency", label="Purchase Potential", custom=True, precision=18, scale=2),
        FieldDef("Purchase_Potential_Date__c", "date", label="Purchase Potential Date", custom=True),
        FieldDef("Lifecycle_Stage__c", "string", label="Lifecycle Stage", custom=True, length=40),
    ),
    "Contact": (
        FieldDef("Buying_Role__c", "picklist", label="Buying Role", custom=True, restricted=True,
                 picklist=("Decision Maker", "Influencer", "Business User")),
    ),
}  # fmt: skip
_OCR_ROLES = {
    "decision_maker": "Decision Maker",
    "influencer": "Influencer",
    "non_decision_maker": "Business User",
}
_EVENT_TYPES = {"fair": "Trade Show", "webinar": "Webinar"}


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _provision(org: Org) -> None:
    """Create the seed custom fields and grant them to the integration user (idempotent)."""
    perm = next((p for p in org.rows("PermissionSet") if p["Name"] == SEED_PERMISSION_SET), None)
    perm_id = (
        perm["Id"]
        if perm
        else org.insert_system(
            "PermissionSet", {"Name": SEED_PERMISSION_SET, "Label": "CRM Sync seed fields"}
        )
    )
    for sobject, fields in SEED_FIELDS.items():
        obj = org.schema[sobject]
        for f in fields:
            if f.name not in obj.fields:
                obj.fields[f.name] = f
                for rec in org.records[sobject].values():
                    rec.setdefault(f.name, None)
                org.insert_system(
                    "FieldPermissions",
                    {
                        "ParentId": perm_id,
                        "SobjectType": sobject,
                        "Field": f"{sobject}.{f.name}",
                        "PermissionsRead": True,
                        "PermissionsEdit": True,
                    },
                )
    if not any(a["PermissionSetId"] == perm_id for a in org.rows("PermissionSetAssignment")):
        org.insert_system(
            "PermissionSetAssignment",
            {"AssigneeId": org.integration_user_id, "PermissionSetId": perm_id},
        )


class _Loader:
    def __init__(self, org: Org, book: Any) -> None:
        self.org = org
        self.book = book
        self.counts: Counter[str] = Counter()
        self.users: dict[str, str] = {}
        self.accounts: dict[str, str] = {}
        self.contacts: dict[str, str] = {}
        self.campaigns: dict[str, str] = {}
        self.products: dict[str, str] = {}
        self.members: dict[tuple[str, str], str] = {}
        self.first_won: dict[str, str] = {}

    def add(self, sobject: str, values: dict[str, Any], when: dt.datetime | None = None) -> str:
        record_id = self.org.insert_system(sobject, values)
        self.counts[sobject] += 1
        if when is not None:  # history happened in the past: stamp it then, never in the future
            moment = min(_utc(when), self.org.now())
            rec = self.org.records[sobject][record_id]
            rec["CreatedDate"] = rec["LastModifiedDate"] = rec["SystemModstamp"] = moment
        return record_id

    def user(self, owner: str | None) -> str:
        if not owner:
            return self.org.integration_user_id
        if owner not in self.users:
            first, _, last = owner.partition(".")
            self.users[owner] = self.add("User", {
                "Username": f"{owner}@crm-sync.sandbox", "FirstName": first.title(),
                "LastName": (last or first).title(), "Email": f"{owner}@crm-sync.sandbox",
                "Alias": owner[:8], "IsActive": True,
            })  # fmt: skip
        return self.users[owner]

    def product(self, family: str | None) -> tuple[str, str]:
        key = family or "None"
        if key not in self.products:
            product = self.add(
                "Product2", {"Name": f"{key.title()} products", "Family": key, "IsActive": True}
            )
            self.products[key] = self.add("PricebookEntry", {
                "Pricebook2Id": self.org.standard_pricebook_id, "Product2Id": product,
                "UnitPrice": 1.0, "IsActive": True,
            })  # fmt: skip
        entry = self.org.records["PricebookEntry"][self.products[key]]
        return entry["Product2Id"], entry["Id"]

    def campaign(self, definition: Any, event: bool) -> str:
        if definition.code not in self.campaigns:
            camp = self.add("Campaign", {
                "Name": definition.name, "IsActive": True, "StartDate": definition.date,
                "Type": _EVENT_TYPES.get(definition.kind, "Email") if event else "Email",
                "Description": definition.code,
            })  # fmt: skip
            if event:
                for order, (label, responded) in enumerate(
                    (("Registered", False), ("Attended", True)), start=3
                ):
                    self.add(
                        "CampaignMemberStatus",
                        {
                            "CampaignId": camp,
                            "Label": label,
                            "HasResponded": responded,
                            "SortOrder": order,
                        },
                    )
            self.campaigns[definition.code] = camp
        return self.campaigns[definition.code]

    def load(self) -> dict[str, int]:
        book = self.book
        _provision(self.org)
        for c in book.companies:  # parents first: chain heads precede members in ParentId order
            self._account(c)
        for c in book.companies:
            if c.parent_id:
                self.org.records["Account"][self.accounts[c.id]]["ParentId"] = self.accounts[
                    c.parent_id
                ]
        self._potentials()
        for ct in book.contacts:
            self.contacts[ct.id] = self.add("Contact", {
                "FirstName": ct.first_name or None, "LastName": ct.last_name or "Unknown",
                "Email": ct.email, "AccountId": self.accounts.get(ct.company_id or ""),
                "Department": ct.department, "LeadSource": ct.first_touch_source,
                "Buying_Role__c": _OCR_ROLES[ct.role.value] if ct.role else None, "OwnerId": self.user(ct.owner),
            }, ct.modified_at)  # fmt: skip
        for definition in book.events:
            self.campaign(definition, event=True)
        for definition in book.campaigns:
            self.campaign(definition, event=False)
        for activity in sorted(book.activities, key=lambda a: (a.occurred_at, a.id)):
            self._activity(activity)
        self._roles()
        return dict(self.counts)

    def _account(self, c: Any) -> None:
        employees = c.attributes.get("employees")
        self.accounts[c.id] = self.add("Account", {
            "Name": c.name or c.id, "Industry": (c.industry or "").replace("_", " ").title() or None,
            "BillingCountry": c.country, "AccountSource": c.first_touch_source,
            "OwnerId": self.user(c.owner), "Lifecycle_Stage__c": c.lifecycle_stage,
            "NumberOfEmployees": employees if isinstance(employees, int) else None,
        }, c.modified_at)  # fmt: skip

    def _potentials(self) -> None:
        latest: dict[str, Any] = {}
        for p in self.book.potentials:
            if p.product_family or p.business_line or p.valid_from > self.book.as_of:
                continue
            if p.company_id not in latest or p.valid_from >= latest[p.company_id].valid_from:
                latest[p.company_id] = p
        for company_id, p in latest.items():
            rec = self.org.records["Account"][self.accounts[company_id]]
            rec["Purchase_Potential__c"] = p.annual_amount
            rec["Purchase_Potential_Date__c"] = p.valid_from

    def _activity(self, a: Any) -> None:
        kind = a.type.value
        who = self.contacts.get(a.contact_id or "")
        what = self.accounts.get(a.company_id or "")
        when = _utc(a.occurred_at)
        if kind in ("invoice", "order", "quote_sent"):
            self._opportunity(a, kind, what, when)
        elif kind in ("event_registered", "event_attended", "campaign_response"):
            self._member(a, kind, who)
        elif kind in ("meeting", "visit"):
            self.add("Event", {"WhoId": who, "WhatId": what, "Subject": f"{kind}: {a.id}",
                               "StartDateTime": when, "DurationInMinutes": 60,
                               "Type": "Meeting" if kind == "meeting" else "Visit"}, when)  # fmt: skip
        else:
            subtype = {"call": "Call", "email_sent": "Email"}.get(kind, "Task")
            detail = f" amount={a.amount}" if a.amount is not None else ""
            detail += f" score={a.score}" if a.score is not None else ""
            self.add("Task", {"WhoId": who, "WhatId": what, "Subject": f"{kind}: {a.id}", "Status": "Completed",
                              "ActivityDate": when.date(), "TaskSubtype": subtype,
                              "Description": f"{kind}{detail} campaign={a.campaign or ''}".strip()}, when)  # fmt: skip
            if kind == "email_sent":
                self.add("EmailMessage", {"Subject": f"email_sent: {a.id}", "MessageDate": when, "Incoming": False,
                                          "Status": "3", "RelatedToId": what}, when)  # fmt: skip

    def _opportunity(self, a: Any, kind: str, account: str | None, when: dt.datetime) -> None:
        won = kind != "quote_sent"
        opp = self.add("Opportunity", {
            "Name": f"{kind} {a.id}", "AccountId": account, "CloseDate": when.date(),
            "StageName": "Closed Won" if won else "Proposal/Price Quote", "Amount": a.amount,
            "Type": {"invoice": "Invoice", "order": "Order"}.get(kind, "Quote"),
        }, when)  # fmt: skip
        if won and account and account not in self.first_won:
            self.first_won[account] = opp
        if a.amount is None:
            return
        product, entry = self.product(a.product_family)
        # List price per unit is 1.00, so Quantity carries the list amount and ListPrice x
        # Quantity reproduces it; TotalPrice keeps the exact net amount.
        quantity = a.list_amount if a.list_amount else a.amount
        self.add("OpportunityLineItem", {"OpportunityId": opp, "PricebookEntryId": entry, "Product2Id": product,
                                         "Quantity": quantity, "TotalPrice": a.amount, "ServiceDate": when.date()}, when)  # fmt: skip

    def _member(self, a: Any, kind: str, who: str | None) -> None:
        code = a.event_code or a.campaign
        if who is None or code not in self.campaigns:
            return
        status = {"event_registered": "Registered", "event_attended": "Attended"}.get(
            kind, "Responded"
        )
        key = (self.campaigns[code], who)
        if key in self.members:
            if status != "Registered":
                self.org.touch(
                    "CampaignMember", self.members[key], {"Status": status, "HasResponded": True}
                )
            return
        self.members[key] = self.add(
            "CampaignMember", {"CampaignId": key[0], "ContactId": who, "Status": status}
        )

    def _roles(self) -> None:
        for ct in self.book.contacts:
            account = self.accounts.get(ct.company_id or "")
            opp = self.first_won.get(account or "")
            if opp and ct.role is not None:
                self.add(
                    "OpportunityContactRole",
                    {
                        "OpportunityId": opp,
                        "ContactId": self.contacts[ct.id],
                        "Role": _OCR_ROLES[ct.role.value],
                    },
                )


def load_book(org: Org, book: Any) -> dict[str, int]:
    """Insert ``book`` into ``org`` in one transaction; returns how many rows each object got."""
    with org.transaction():
        return _Loader(org, book).load()
