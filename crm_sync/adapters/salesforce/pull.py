"""Incremental pulls: accounts, people (Contact + Lead [+ Person Account]) and activities.

Cursor semantics (facts §4.2, Gotcha 11): every query is ordered by ``SystemModstamp, Id`` with a
closed start at the engine's cursor (``(SystemModstamp, Id) >= since``; the engine already moved
it back by the overlap window and de-duplicates re-read rows). Every query goes through
``queryAll`` so soft-deleted rows arrive with ``IsDeleted = true`` — they become
``PullPage.deleted`` — and archived Tasks/Events are not silently skipped. Several objects feed
one stream, so their ordered row iterators are merged by ``(SystemModstamp, Id)``: the stream's
cursor then never passes a row that has not been delivered, even across objects.

What becomes an activity (the org layout the sandbox seeds and DESIGN §2 describes):

=================================  ============================================================
Task                               ``TaskSubtype`` Call → call, Email/ListEmail → email_sent;
                                   else ``Type`` Call/Email/Meeting; else a subject that starts
                                   with an activity type name (``web_visit: ...``)
Event                              ``Type`` Visit → visit, anything else → meeting
EmailMessage (``email_messages``)  outgoing, not already logged as a Task → email_sent
CampaignMember                     event campaigns (Trade Show/Webinar/Conference):
                                   ``HasResponded`` → event_attended, else event_registered;
                                   other campaigns: ``HasResponded`` → campaign_response
OpportunityLineItem (won opps)     ``Opportunity.Type`` Invoice → invoice, else order; amount =
                                   TotalPrice, list_amount = ListPrice × Quantity, product family
                                   = ``Product2.Family``
=================================  ============================================================

``HasResponded`` is read instead of matching status labels, which are per campaign (Gotcha 15).
The event code is the campaign's ``Description`` when that is a single code-like token (how the
sandbox and many orgs keep it), else the campaign ``Name``. OpportunityContactRole roles fill a
contact's role when its own role field is empty.
"""

from __future__ import annotations

import datetime as dt
import heapq
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from crm_sync.adapters.base import Cursor, PullPage, Stream
from crm_sync.adapters.salesforce.client import SalesforceClient
from crm_sync.adapters.salesforce.soql import chunked_in, cursor_where, select
from crm_sync.model import Activity, Company, Contact, PurchasePotential
from crm_sync.model.activities import ACTIVITY_DOCS, ActivityType
from crm_sync.model.records import Role

__all__ = ["PullConfig", "parse_stamp", "pull_stream"]

Row = dict[str, Any]
_CODE = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")
_EVENT_CAMPAIGNS = {"Trade Show", "Webinar", "Conference"}
_COMPANY_CORE = (
    "name",
    "parent_id",
    "owner",
    "industry",
    "country",
    "first_touch_source",
    "lifecycle_stage",
)
_CONTACT_CORE = (
    "company_id", "email", "first_name", "last_name", "role", "department",
    "first_touch_source", "lifecycle_stage", "owner",
)  # fmt: skip
_DETAIL = re.compile(r"(amount|score|campaign)=(\S*)")


@dataclass
class PullConfig:
    """What to read: per-entity pull maps from the mapping, and org features."""

    company_object: str = "Account"
    contact_object: str = "Contact"
    leads: bool = True
    person_accounts: bool = False
    email_messages: bool = False
    potential_field: str = "Purchase_Potential__c"
    potential_date_field: str = "Purchase_Potential_Date__c"
    pull: Mapping[str, Mapping[str, tuple[str, Mapping[str, str] | None]]] = field(
        default_factory=dict
    )
    visible: dict[str, set[str]] = field(default_factory=dict)


def parse_stamp(text: str) -> dt.datetime:
    """``2024-05-01T10:30:00.000+0000`` → aware UTC datetime."""
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(dt.UTC)


def _rows(
    client: SalesforceClient,
    sobject: str,
    fields: Sequence[str],
    since: Cursor | None,
    extra: str = "",
) -> Iterator[Row]:
    where = " AND ".join(w for w in (extra, cursor_where(since)) if w)
    base = ["Id", "IsDeleted", "SystemModstamp"]
    for row in client.query(select([*base, *fields], sobject, where), include_deleted=True):
        row["_stamp"] = parse_stamp(str(row["SystemModstamp"]))
        yield row


def _merged(streams: Sequence[Iterator[Row]]) -> Iterator[Row]:
    return heapq.merge(*streams, key=lambda r: (r["_stamp"], r["Id"]))


def _get(row: Row, path: str) -> Any:
    value: Any = row
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _visible(config: PullConfig, client: SalesforceClient, sobject: str) -> set[str]:
    if sobject not in config.visible:
        config.visible[sobject] = {
            str(f["name"]) for f in client.describe(sobject).get("fields", [])
        }
    return config.visible[sobject]


def _source_fields(
    config: PullConfig, client: SalesforceClient, entity: str, sobject: str
) -> list[str]:
    names = _visible(config, client, sobject)
    return [
        src
        for src, _ in config.pull.get(entity, {}).values()
        if src.split(".")[0] in names or "." in src
    ]


def _mapped(config: PullConfig, entity: str, row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for model_field, (source, values) in config.pull.get(entity, {}).items():
        raw = _get(row, source)
        if raw is None or raw == "":
            continue
        if values is not None:
            raw = values.get(str(raw), raw if model_field == "role" else None)
        if raw is not None:
            out[model_field] = raw
    return out


def _split(core: Sequence[str], values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    main = {k: v for k, v in values.items() if k in core}
    attrs = {k: v for k, v in values.items() if k not in core}
    return main, attrs


def _pages(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def pull_stream(
    client: SalesforceClient,
    config: PullConfig,
    stream: Stream,
    since: Cursor | None,
    *,
    properties: Sequence[str],
    page_size: int,
) -> Iterator[PullPage]:
    """Lazy pages of one stream in ``(SystemModstamp, Id)`` order from ``since`` inclusive."""
    if stream == "companies":
        yield from _companies(client, config, since, properties, page_size)
    elif stream == "contacts":
        yield from _contacts(client, config, since, properties, page_size)
    else:
        yield from _activities(client, config, since, page_size)


def _cursor(chunk: list[Row]) -> Cursor:
    return Cursor(chunk[-1]["_stamp"], str(chunk[-1]["Id"]))


def _current(
    chunk: list[Row], properties: Sequence[str], suffix: str = ""
) -> dict[str, dict[str, str | None]]:
    out: dict[str, dict[str, str | None]] = {}
    for row in chunk:
        if row["IsDeleted"]:
            continue
        pc = suffix and row.get("IsPersonAccount")
        values: dict[str, str | None] = {}
        for p in properties:
            name = p[:-1] + "pc" if pc and p.endswith("__c") else p
            raw = row.get(name)
            values[p] = None if raw is None else _text(raw)
        out[str(row["Id"])] = values
    return out


def _text(raw: Any) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def _companies(
    client: SalesforceClient,
    config: PullConfig,
    since: Cursor | None,
    properties: Sequence[str],
    size: int,
) -> Iterator[PullPage]:
    sobject = config.company_object
    visible = _visible(config, client, sobject)
    pot = [f for f in (config.potential_field, config.potential_date_field) if f in visible]
    fields = ["Name", "ParentId", "OwnerId", *_source_fields(config, client, "company", sobject)]
    fields += [p for p in properties if p in visible] + pot
    extra = "IsPersonAccount = false" if config.person_accounts else ""
    for chunk in _pages(_rows(client, sobject, fields, since, extra), size):
        live = [r for r in chunk if not r["IsDeleted"]]
        companies, potentials = [], []
        for r in live:
            main, attrs = _split(_COMPANY_CORE, _mapped(config, "company", r))
            main.setdefault("name", r.get("Name") or "")
            main.setdefault("parent_id", r.get("ParentId"))
            main.setdefault("owner", r.get("OwnerId"))
            companies.append(
                Company.model_validate(
                    {"id": r["Id"], **main, "attributes": attrs, "modified_at": r["_stamp"]}
                )
            )
            amount = r.get(config.potential_field)
            if amount is not None and float(amount) >= 0:
                when = r.get(config.potential_date_field) or r["_stamp"].date().isoformat()
                potentials.append(
                    PurchasePotential(
                        company_id=r["Id"], annual_amount=float(amount), valid_from=when
                    )
                )
        yield PullPage(
            "companies",
            _cursor(chunk),
            companies=tuple(companies),
            potentials=tuple(potentials),
            current=_current(chunk, [p for p in properties if p in visible]),
            deleted=tuple(str(r["Id"]) for r in chunk if r["IsDeleted"]),
        )


def _contacts(
    client: SalesforceClient,
    config: PullConfig,
    since: Cursor | None,
    properties: Sequence[str],
    size: int,
) -> Iterator[PullPage]:
    streams = []
    base = ["FirstName", "LastName", "Email", "OwnerId"]
    contact = config.contact_object
    visible = _visible(config, client, contact)
    fields = [*base, "AccountId", *_source_fields(config, client, "contact", contact)]
    streams.append(_rows(client, contact, fields + [p for p in properties if p in visible], since))
    if config.leads:
        lead_visible = _visible(config, client, "Lead")
        lead_fields = [
            *base,
            *[s for s in _source_fields(config, client, "contact", "Lead") if s in lead_visible],
        ]
        lead_fields += [p for p in properties if p in lead_visible]
        streams.append(_rows(client, "Lead", lead_fields, since, "IsConverted = false"))
    if config.person_accounts:
        acct = _visible(config, client, "Account")
        pc = [p[:-1] + "pc" for p in properties if p.endswith("__c") and p[:-1] + "pc" in acct]
        person = ["FirstName", "LastName", "PersonEmail", "OwnerId", "IsPersonAccount", *pc]
        streams.append(
            _rows(
                client,
                "Account",
                [f for f in person if f in acct] + ["IsPersonAccount"],
                since,
                "IsPersonAccount = true",
            )
        )
    for chunk in _pages(_merged(streams), size):
        live = [r for r in chunk if not r["IsDeleted"]]
        roles = _ocr_roles(
            client, config, [str(r["Id"]) for r in live if str(r["Id"]).startswith("003")]
        )
        people = [_contact(config, r, roles) for r in live]
        yield PullPage(
            "contacts",
            _cursor(chunk),
            contacts=tuple(people),
            current=_current(chunk, properties, suffix="pc" if config.person_accounts else ""),
            deleted=tuple(str(r["Id"]) for r in chunk if r["IsDeleted"]),
        )


def _contact(config: PullConfig, r: Row, roles: Mapping[str, str]) -> Contact:
    main, attrs = _split(_CONTACT_CORE, _mapped(config, "contact", r))
    main.setdefault("first_name", r.get("FirstName") or "")
    main.setdefault("last_name", r.get("LastName") or "")
    main.setdefault("email", r.get("Email") or r.get("PersonEmail"))
    main.setdefault("owner", r.get("OwnerId"))
    if r.get("AccountId"):
        main.setdefault("company_id", r["AccountId"])
    role = main.get("role") or roles.get(str(r["Id"]))
    main["role"] = role if role in {x.value for x in Role} else None
    return Contact.model_validate(
        {"id": r["Id"], **main, "attributes": attrs, "modified_at": r["_stamp"]}
    )


def _ocr_roles(client: SalesforceClient, config: PullConfig, ids: list[str]) -> dict[str, str]:
    """Buying roles from OpportunityContactRole (facts §7), translated by the pull map."""
    if not ids:
        return {}
    role_map = (config.pull.get("contact", {}).get("role") or ("", None))[1] or {}
    out: dict[str, str] = {}
    template = select(
        ["ContactId", "Role", "IsPrimary"], "OpportunityContactRole", "{in}", order_by_cursor=False
    )
    for q in chunked_in(template + " ORDER BY IsPrimary DESC, Id", "ContactId", ids):
        for row in client.query(q):
            mapped = role_map.get(str(row.get("Role")))
            if mapped and str(row["ContactId"]) not in out:
                out[str(row["ContactId"])] = mapped
    return out


def _activities(
    client: SalesforceClient, config: PullConfig, since: Cursor | None, size: int
) -> Iterator[PullPage]:
    streams = [
        _rows(client, "Task", ["WhoId", "AccountId", "Subject", "ActivityDate", "TaskSubtype", "Type", "Description", "CreatedDate"], since),
        _rows(client, "Event", ["WhoId", "AccountId", "Subject", "StartDateTime", "ActivityDate", "Type", "CreatedDate"], since),
        _rows(client, "CampaignMember", ["ContactId", "LeadId", "HasResponded", "FirstRespondedDate", "CreatedDate", "Campaign.Name", "Campaign.Type", "Campaign.Description"], since),
        _rows(client, "OpportunityLineItem", ["Opportunity.AccountId", "Opportunity.Type", "Opportunity.CloseDate", "Product2.Family", "Quantity", "ListPrice", "TotalPrice", "ServiceDate"], since, "Opportunity.IsWon = true"),
    ]  # fmt: skip
    if config.email_messages and "EmailMessage" in client.describe_global():
        streams.append(
            _rows(
                client,
                "EmailMessage",
                ["ActivityId", "RelatedToId", "MessageDate", "Incoming"],
                since,
            )
        )
    for chunk in _pages(_merged(streams), size):
        acts = [a for a in (_activity(r) for r in chunk if not r["IsDeleted"]) if a is not None]
        yield PullPage(
            "activities",
            _cursor(chunk),
            activities=tuple(acts),
            deleted=tuple(str(r["Id"]) for r in chunk if r["IsDeleted"]),
        )


def _at(value: Any, fallback: dt.datetime) -> dt.datetime:
    if not value:
        return fallback
    text = str(value)
    if "T" in text:
        return parse_stamp(text)
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)  # a date is UTC midnight


def _person(value: Any) -> str | None:
    text = str(value or "")
    return text if text.startswith(("003", "00Q", "001")) else None


def _activity(r: Row) -> Activity | None:
    kind = str(r["attributes"]["type"])
    data: dict[str, Any] = {
        "id": r["Id"],
        "company_id": r.get("AccountId"),
        "contact_id": _person(r.get("WhoId")),
    }
    created = _at(r.get("CreatedDate"), r["_stamp"])
    if kind == "Task":
        data.update(type=_task_type(r), occurred_at=_at(r.get("ActivityDate"), created))
        details = _DETAIL.findall(str(r.get("Description") or ""))
        data.update({key: value for key, value in details if value})
    elif kind == "Event":
        data.update(
            type="visit" if r.get("Type") == "Visit" else "meeting",
            occurred_at=_at(r.get("StartDateTime") or r.get("ActivityDate"), created),
        )
    elif kind == "CampaignMember":
        data.update(
            _member(r),
            contact_id=r.get("ContactId") or r.get("LeadId"),
            occurred_at=_at(r.get("FirstRespondedDate"), created),
        )
    elif kind == "OpportunityLineItem":
        quantity, list_price = r.get("Quantity"), r.get("ListPrice")
        family = _get(r, "Product2.Family")
        data.update(
            type="invoice" if _get(r, "Opportunity.Type") == "Invoice" else "order",
            occurred_at=_at(r.get("ServiceDate") or _get(r, "Opportunity.CloseDate"), r["_stamp"]),
            company_id=_get(r, "Opportunity.AccountId"),
            amount=r.get("TotalPrice"),
            list_amount=quantity * list_price
            if quantity is not None and list_price is not None
            else None,
            product_family=None if family in (None, "None") else family,
        )
    elif kind == "EmailMessage":
        if r.get("Incoming") or r.get("ActivityId"):
            return None  # incoming mail, or already counted through its Task
        data.update(
            type="email_sent",
            occurred_at=_at(r.get("MessageDate"), created),
            company_id=_person(r.get("RelatedToId")),
        )
    if not data.get("type") or (data.get("company_id") is None and data.get("contact_id") is None):
        return None
    allowed = ACTIVITY_DOCS[ActivityType(data["type"])][1]
    for attr in ("amount", "list_amount", "product_family", "event_code", "campaign", "score"):
        if attr in data and (attr not in allowed or data[attr] in ("", None)):
            data.pop(attr)
    return Activity.model_validate(data)


def _task_type(r: Row) -> str | None:
    subtype, kind = r.get("TaskSubtype"), r.get("Type")
    if subtype == "Call" or kind == "Call":
        return "call"
    if subtype in ("Email", "ListEmail") or kind == "Email":
        return "email_sent"
    if kind == "Meeting":
        return "meeting"
    prefix = str(r.get("Subject") or "").partition(":")[0].strip()
    return prefix if prefix in {t.value for t in ActivityType} else None


def _member(r: Row) -> dict[str, Any]:
    description = str(_get(r, "Campaign.Description") or "").strip()
    name = str(_get(r, "Campaign.Name") or "")
    code = description if _CODE.match(description) else name
    responded = bool(r.get("HasResponded"))
    if _get(r, "Campaign.Type") in _EVENT_CAMPAIGNS:
        return {
            "type": "event_attended" if responded else "event_registered",
            "event_code": code,
            "campaign": code,
        }
    return {"type": "campaign_response" if responded else None, "campaign": code}
