"""Translate a generated :class:`~crm_sync.sandbox.seed.Book` into what a real portal would hold.

Why a translation and not a dump: the adapter must find the book's facts where a HubSpot customer
keeps them — companies (parent via the company↔company parent association), contacts associated
to their company, deals with line items for money events, engagement objects for sales touches,
marketing email events (v1) for email opens/clicks, and events v3 for web and event activity.
Fields HubSpot has no standard home for (role, department, potential, product family, list price)
live in custom properties of a ``crm_sync_seed`` group, as an admin would have created them.

Every seeded company and contact carries ``crm_sync_seed_id`` (a unique property) holding its book
id; :attr:`SeededPortal.ids` maps book ids to HubSpot ids. Writes go straight to the portal state
(seeding is not API traffic: it costs no rate limit and is not subject to lifecycle ordering).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from crm_sync.model.activities import ActivityType
from crm_sync.model.records import Activity, Company, Contact, PurchasePotential
from crm_sync.sandbox.hubspot.associations import link_default
from crm_sync.sandbox.hubspot.errors import PORTAL_ID
from crm_sync.sandbox.hubspot.properties import LIFECYCLE_STAGES, PropertyDef, iso_ms
from crm_sync.sandbox.hubspot.state import Portal

__all__ = ["BookLike", "load_book"]

GROUP = "crm_sync_seed"
MONEY = {
    ActivityType.ORDER: "closedwon",
    ActivityType.INVOICE: "closedwon",
    ActivityType.SHIPMENT: "closedwon",
    ActivityType.PAYMENT_OVERDUE: "closedwon",
    ActivityType.QUOTE_SENT: "contractsent",
}
ENGAGEMENT = {
    ActivityType.CALL: ("calls", "hs_call_title"),
    ActivityType.MEETING: ("meetings", "hs_meeting_title"),
    ActivityType.VISIT: ("notes", "hs_note_body"),
    ActivityType.MATERIAL_SENT: ("tasks", "hs_task_subject"),
}
EMAIL_EVENTS = {
    ActivityType.EMAIL_SENT: "SENT",
    ActivityType.EMAIL_OPENED: "OPEN",
    ActivityType.EMAIL_CLICKED: "CLICK",
}
WEB_EVENTS = {
    ActivityType.WEB_VISIT: "e_visited_page",
    ActivityType.FORM_SUBMISSION: "e_submitted_form",
    ActivityType.EVENT_REGISTERED: f"pe{PORTAL_ID}_event_registered",
    ActivityType.EVENT_ATTENDED: f"pe{PORTAL_ID}_event_attended",
    ActivityType.SURVEY_RESPONSE: f"pe{PORTAL_ID}_survey_response",
    ActivityType.CAMPAIGN_RESPONSE: f"pe{PORTAL_ID}_campaign_response",
}
SOURCES = {
    "organic_search": "ORGANIC_SEARCH",
    "paid_search": "PAID_SEARCH",
    "referral": "REFERRALS",
    "partner": "REFERRALS",
    "email_campaign": "EMAIL_MARKETING",
    "social_media": "SOCIAL_MEDIA",
    "direct": "DIRECT_TRAFFIC",
    "trade_fair": "OFFLINE",
    "webinar": "OFFLINE",
}


class BookLike(Protocol):
    """What :func:`load_book` reads (``crm_sync.sandbox.seed.Book`` satisfies it)."""

    companies: Sequence[Company]
    contacts: Sequence[Contact]
    potentials: Sequence[PurchasePotential]
    activities: Sequence[Activity]


# crm_sync role -> HubSpot's standard hs_buying_role option (hubspot-facts; domain-model §2.6).
_BUYING_ROLES = {
    "decision_maker": "DECISION_MAKER",
    "influencer": "INFLUENCER",
    "non_decision_maker": "END_USER",
}


def _ms(value: dt.datetime | dt.date) -> int:
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp() * 1000)


def _define(
    portal: Portal,
    object_type: str,
    name: str,
    ptype: str,
    ftype: str,
    *,
    options: Sequence[str] = (),
    unique: bool = False,
) -> None:
    portal.groups[object_type].setdefault(
        GROUP, {"name": GROUP, "label": "crm_sync seed", "displayOrder": -1, "archived": False}
    )
    defn = portal.properties[object_type].get(name)
    if defn is None:
        defn = PropertyDef(
            name, name.replace("_", " ").title(), ptype, ftype, GROUP, has_unique_value=unique
        )
        portal.properties[object_type][name] = defn
    known = defn.option_values()
    for value in options:
        if value and value not in known:
            defn.options.append(
                {
                    "label": value.replace("_", " ").title(),
                    "value": value,
                    "displayOrder": len(defn.options),
                    "hidden": False,
                }
            )
            known.add(value)


def _clean(props: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in props.items() if v not in (None, "")}


def load_book(portal: Portal, book: BookLike) -> dict[str, str]:
    """Write ``book`` into ``portal``; return book id → HubSpot id for companies and contacts."""
    ids: dict[str, str] = {}
    with portal.lock:
        families = sorted(
            {a.product_family for a in book.activities if a.product_family}
            | {p.product_family for p in book.potentials if p.product_family}
        )
        for object_type in ("companies", "contacts"):
            _define(portal, object_type, "crm_sync_seed_id", "string", "text", unique=True)
        _define(
            portal,
            "contacts",
            "crm_department",
            "enumeration",
            "select",
            options=sorted({c.department for c in book.contacts if c.department}),
        )
        _define(portal, "companies", "crm_purchase_potential", "number", "number")
        _define(portal, "companies", "crm_potential_valid_from", "date", "date")
        _define(portal, "companies", "crm_first_touch_source", "string", "text")
        _define(portal, "contacts", "crm_first_touch_source", "string", "text")
        _define(
            portal,
            "deals",
            "crm_activity_type",
            "enumeration",
            "select",
            options=sorted(t.value for t in MONEY),
        )
        _define(portal, "deals", "crm_product_family", "enumeration", "select", options=families)
        _define(
            portal, "line_items", "crm_product_family", "enumeration", "select", options=families
        )
        _define(portal, "line_items", "crm_list_price", "number", "number")
        industries = portal.properties["companies"]["industry"]
        latest: dict[str, PurchasePotential] = {}
        for pot in book.potentials:
            whole = pot.product_family is None and pot.business_line is None
            if whole and (
                pot.company_id not in latest or pot.valid_from > latest[pot.company_id].valid_from
            ):
                latest[pot.company_id] = pot

        for company in book.companies:
            industry = company.industry.upper().replace(" ", "_") if company.industry else None
            if industry and industry not in industries.option_values():
                industries.options.append(
                    {
                        "label": company.industry,
                        "value": industry,
                        "displayOrder": len(industries.options),
                        "hidden": False,
                    }
                )
            potential = latest.get(company.id)
            obj = portal.create(
                "companies",
                _clean(
                    {
                        "name": company.name,
                        "industry": industry,
                        "country": company.country,
                        "hubspot_owner_id": company.owner,
                        "lifecyclestage": company.lifecycle_stage
                        if company.lifecycle_stage in LIFECYCLE_STAGES
                        else None,
                        "hs_analytics_source": SOURCES.get(
                            company.first_touch_source or "",
                            "OTHER_CAMPAIGNS" if company.first_touch_source else None,
                        ),
                        "crm_first_touch_source": company.first_touch_source,
                        "crm_purchase_potential": potential.annual_amount if potential else None,
                        "crm_potential_valid_from": potential.valid_from.isoformat()
                        if potential
                        else None,
                        "crm_sync_seed_id": company.id,
                    }
                ),
            )
            ids[company.id] = obj.id
        for company in book.companies:
            if company.parent_id and company.parent_id in ids:
                parent, child = (
                    ("companies", ids[company.parent_id]),
                    ("companies", ids[company.id]),
                )
                portal.associate(parent, child, ("HUBSPOT_DEFINED", 13), ("HUBSPOT_DEFINED", 14))
                portal.objects["companies"][child[1]].props["hs_parent_company_id"] = parent[1]

        for contact in book.contacts:
            obj = portal.create(
                "contacts",
                _clean(
                    {
                        "email": contact.email,
                        "firstname": contact.first_name,
                        "lastname": contact.last_name,
                        "hubspot_owner_id": contact.owner,
                        # The standard buying-role property, with HubSpot's own option values.
                        "hs_buying_role": _BUYING_ROLES[contact.role.value]
                        if contact.role
                        else None,
                        "crm_department": contact.department,
                        "lifecyclestage": contact.lifecycle_stage
                        if contact.lifecycle_stage in LIFECYCLE_STAGES
                        else None,
                        "hs_analytics_source": SOURCES.get(
                            contact.first_touch_source or "",
                            "OTHER_CAMPAIGNS" if contact.first_touch_source else None,
                        ),
                        "crm_first_touch_source": contact.first_touch_source,
                        "crm_sync_seed_id": contact.id,
                    }
                ),
            )
            ids[contact.id] = obj.id
            if contact.company_id in ids:
                link_default(portal, ("contacts", obj.id), ("companies", ids[contact.company_id]))

        emails = {c.id: c.email for c in book.contacts}
        for activity in book.activities:
            _activity(portal, activity, ids, emails)
    return ids


def _activity(
    portal: Portal, activity: Activity, ids: dict[str, str], emails: dict[str, str | None]
) -> None:
    company = ids.get(activity.company_id or "")
    contact = ids.get(activity.contact_id or "")
    when = _ms(activity.occurred_at)
    targets = [t for t in (("companies", company), ("contacts", contact)) if t[1]]
    if activity.type in MONEY:
        deal = portal.create(
            "deals",
            _clean(
                {
                    "dealname": f"{activity.type.value} {activity.id}",
                    "amount": activity.amount,
                    "dealstage": MONEY[activity.type],
                    "pipeline": "default",
                    "closedate": iso_ms(when),
                    "crm_activity_type": activity.type.value,
                    "crm_product_family": activity.product_family,
                }
            ),
        )
        item = portal.create(
            "line_items",
            _clean(
                {
                    "name": activity.product_family or activity.type.value,
                    "quantity": "1",
                    "price": activity.amount,
                    "amount": activity.amount,
                    "crm_list_price": activity.list_amount,
                    "crm_product_family": activity.product_family,
                }
            ),
        )
        link_default(portal, ("line_items", item.id), ("deals", deal.id))
        for target in targets:
            link_default(portal, ("deals", deal.id), (target[0], str(target[1])))
        return
    if activity.type in ENGAGEMENT or (
        activity.type is ActivityType.EMAIL_SENT and not activity.campaign
    ):
        object_type, title = ENGAGEMENT.get(activity.type, ("emails", "hs_email_subject"))
        label = "[visit] " if activity.type is ActivityType.VISIT else ""
        props = {"hs_timestamp": iso_ms(when), title: f"{label}{activity.type.value} {activity.id}"}
        if object_type == "emails":
            props |= {"hs_email_direction": "EMAIL", "hs_email_status": "SENT"}
        if object_type == "tasks":
            props |= {"hs_task_status": "COMPLETED", "hs_task_type": "TODO"}
        engagement = portal.create(object_type, props)
        for target in targets:
            link_default(portal, (object_type, engagement.id), (target[0], str(target[1])))
        return
    if activity.type in EMAIL_EVENTS:
        recipient = emails.get(activity.contact_id or "")
        if recipient:
            portal.email_events.append(
                {
                    "id": activity.id,
                    "created": when,
                    "type": EMAIL_EVENTS[activity.type],
                    "recipient": recipient,
                    "portalId": PORTAL_ID,
                    "appId": 113,
                    "appName": "BatchEmail",
                    "emailCampaignId": _campaign_id(activity.campaign),
                    "sentBy": {"id": f"sent-{activity.id}", "created": when},
                }
            )
        return
    if activity.type in WEB_EVENTS and targets:
        object_type, object_id = ("contact", contact) if contact else ("company", company)
        props = _clean(
            {
                "event_code": activity.event_code,
                "campaign": activity.campaign,
                "score": activity.score,
                "source": activity.source,
            }
        )
        portal.web_events.append(
            {
                "id": activity.id,
                "eventType": WEB_EVENTS[activity.type],
                "objectType": object_type,
                "objectId": object_id,
                "occurredAt": iso_ms(when),
                "properties": props,
            }
        )


def _campaign_id(campaign: str | None) -> int:
    """A stable numeric campaign id (Python's ``hash`` is salted per process, so not that)."""
    return sum((i + 1) * ord(ch) for i, ch in enumerate(campaign or "")) % 10**8
