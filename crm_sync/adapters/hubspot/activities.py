"""The ``activities`` stream: engagements, deals with line items, email events and web events.

HubSpot keeps what the model counts in several places (facts §4), so this stream merges five
sources, each read in ascending time order, into one ``(time, id)``-ordered stream (``heapq.merge``)
whose cursor the engine can store after every page:

========================  ==================================  =================================
source                    read with                           becomes
========================  ==================================  =================================
calls, meetings, emails,  search on ``hs_lastmodifieddate``   call, meeting, email_sent;
notes, tasks              + associations v4 to contacts and   notes starting ``[visit]`` → visit;
                          companies                           completed tasks → material_sent
deals (+ line items)      search + associations v4 to         ``crm_activity_type`` when set,
                          companies, contacts, line items      else closedwon → order,
                                                              contractsent → quote_sent
marketing email events    ``GET /email/public/v1/events``     SENT/OPEN/CLICK → email_sent/
                          (recipient → contact by email)      email_opened/email_clicked
web and custom events     ``GET /events/v3/events``           e_visited_page → web_visit,
                                                              e_submitted_form → form_submission,
                                                              pe<portal>_event_attended → …
========================  ==================================  =================================

Form submissions arrive as the ``e_submitted_form`` event of events v3 (one feed for all forms);
the legacy per-form v1 submissions endpoint is not read. Ids are prefixed by source
(``call-123``, ``web-…``) so the merged stream never confuses two records.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from crm_sync.adapters.base import Cursor, PullPage
from crm_sync.adapters.hubspot.client import HubSpotClient
from crm_sync.adapters.hubspot.paging import (
    AfterCursor,
    inline_links,
    iso_to_ms,
    walk_list,
    walk_search,
)
from crm_sync.adapters.hubspot.pull import SEARCH_PAGE, ms_to_dt
from crm_sync.model import Activity
from crm_sync.model.activities import ACTIVITY_DOCS, ActivityType

__all__ = ["ActivityPuller"]

ENGAGEMENTS = {
    "calls": ("hs_call_title", ActivityType.CALL),
    "meetings": ("hs_meeting_title", ActivityType.MEETING),
    "emails": ("hs_email_subject", ActivityType.EMAIL_SENT),
    "notes": ("hs_note_body", ActivityType.VISIT),
    "tasks": ("hs_task_status", ActivityType.MATERIAL_SENT),
}
DEAL_STAGES = {"closedwon": ActivityType.ORDER, "contractsent": ActivityType.QUOTE_SENT}
EMAIL_TYPES = {
    "SENT": ActivityType.EMAIL_SENT,
    "OPEN": ActivityType.EMAIL_OPENED,
    "CLICK": ActivityType.EMAIL_CLICKED,
}
EVENT_NAMES = {
    "visited_page": ActivityType.WEB_VISIT,
    "submitted_form": ActivityType.FORM_SUBMISSION,
    "event_registered": ActivityType.EVENT_REGISTERED,
    "event_attended": ActivityType.EVENT_ATTENDED,
    "survey_response": ActivityType.SURVEY_RESPONSE,
    "campaign_response": ActivityType.CAMPAIGN_RESPONSE,
}
_EVENT_PREFIX = re.compile(r"^(?:e_|pe\d+_|ae\d+_)")

Item = tuple[int, str, Activity]


def _activity(data: dict[str, Any]) -> Activity | None:
    """Build an Activity, dropping attributes its type may not carry; None without an owner."""
    if not data.get("company_id") and not data.get("contact_id"):
        return None
    allowed = ACTIVITY_DOCS[data["type"]][1]
    for attr in ("amount", "list_amount", "product_family", "event_code", "campaign", "score"):
        if attr not in allowed or data.get(attr) in (None, ""):
            data.pop(attr, None)
    return Activity.model_validate(data)


def _first(ids: list[str]) -> str | None:
    return min(ids, key=int) if ids else None


class ActivityPuller:
    """Builds the merged activity stream; ``emails`` resolves recipients to contact ids."""

    def __init__(self, client: HubSpotClient, emails: dict[str, str]) -> None:
        self.client = client
        self.emails = emails

    def pull(self, since: Cursor | None, page_size: int) -> Iterator[PullPage]:
        """Pages of activities in ``(time, id)`` order from ``since`` inclusive.

        A first pull (``since`` None) reads listings in id order instead of searches, so its
        pages carry no cursor until the last one, which carries the latest ``(time, id)`` seen.
        """
        start = int(since.modified_at.timestamp() * 1000) if since is not None else 0
        sources = [self._engagements(t, start) for t in ENGAGEMENTS]
        sources += [self._deals(start), self._email_events(start), self._web_events(start)]
        if since is None:
            yield from self._unordered(itertools.chain(*sources), page_size)
            return
        page: list[Item] = []
        for item in heapq.merge(*sources, key=lambda i: (i[0], i[1])):
            page.append(item)
            if len(page) >= page_size:
                yield self._page(page)
                page = []
        if page:
            yield self._page(page)

    def _unordered(self, items: Iterator[Item], page_size: int) -> Iterator[PullPage]:
        best: tuple[int, str] | None = None
        page: list[Item] = []
        for item in items:
            best = (item[0], item[1]) if best is None or (item[0], item[1]) > best else best
            page.append(item)
            if len(page) >= page_size:
                yield PullPage("activities", None, activities=tuple(i[2] for i in page))
                page = []
        if best is not None:
            cursor = Cursor(ms_to_dt(best[0]), best[1])
            yield PullPage("activities", cursor, activities=tuple(i[2] for i in page))

    @staticmethod
    def _page(items: list[Item]) -> PullPage:
        last = items[-1]
        acts = tuple(i[2] for i in items)
        return PullPage("activities", Cursor(ms_to_dt(last[0]), last[1]), activities=acts)

    def _links(self, from_type: str, to_type: str, ids: list[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for start in range(0, len(ids), 1000):
            data = self.client.associations(from_type, to_type, ids[start : start + 1000]).data
            for item in (data or {}).get("results") or []:
                out[str(item["from"]["id"])] = [str(t["toObjectId"]) for t in item.get("to") or []]
        return out

    def _rows(
        self, object_type: str, start: int, props: list[str], assoc: list[str]
    ) -> Iterator[tuple[list[dict[str, Any]], dict[str, dict[str, list[str]]]]]:
        """Pages of records with their associations: listings on a first pull, else searches."""
        props = [*props, "hs_lastmodifieddate"]
        if start == 0:
            pages = walk_list(
                lambda after: (
                    self.client.list_page(
                        object_type, properties=props, after=after, associations=assoc
                    ).data
                    or {}
                ),
                f"GET /crm/v3/objects/{object_type}",
            )
            for rows in pages:
                links = {
                    to: {str(r["id"]): inline_links(r, to) or [] for r in rows} for to in assoc
                }
                yield rows, links
            return
        searched = walk_search(
            lambda body: self.client.search(object_type, body).data or {},
            modified_prop="hs_lastmodifieddate",
            since_ms=start,
            properties=props,
            page_size=SEARCH_PAGE,
        )
        for rows in searched:
            ids = [str(r["id"]) for r in rows]
            yield rows, {to: self._links(object_type, to, ids) for to in assoc}

    def _engagements(self, object_type: str, start: int) -> Iterator[Item]:
        title, kind = ENGAGEMENTS[object_type]
        props = ["hs_timestamp", title, "hs_task_status"]
        for rows, links in self._rows(object_type, start, props, ["contacts", "companies"]):
            contacts, companies = links["contacts"], links["companies"]
            for row in rows:
                props, rid = row["properties"], str(row["id"])
                if object_type == "notes" and not str(props.get(title) or "").startswith("[visit]"):
                    continue  # only notes tagged as field visits count
                if object_type == "tasks" and props.get("hs_task_status") != "COMPLETED":
                    continue
                when = iso_to_ms(props.get("hs_timestamp")) or iso_to_ms(row.get("createdAt"))
                act = _activity(
                    {
                        "id": f"{object_type[:-1]}-{rid}",
                        "type": kind,
                        "occurred_at": ms_to_dt(when or 0),
                        "contact_id": _first(contacts.get(rid, [])),
                        "company_id": _first(companies.get(rid, [])),
                    }
                )
                if act is not None:
                    key = iso_to_ms(props.get("hs_lastmodifieddate")) or 0
                    yield key, act.id, act

    def _deals(self, start: int) -> Iterator[Item]:
        props = ["amount", "dealstage", "closedate", "crm_activity_type", "crm_product_family"]
        assoc = ["contacts", "companies", "line_items"]
        for rows, links in self._rows("deals", start, props, assoc):
            contacts, companies = links["contacts"], links["companies"]
            items = self._line_items(links["line_items"])
            for row in rows:
                p, rid = row["properties"], str(row["id"])
                kind = p.get("crm_activity_type")
                kind = (
                    kind
                    if kind in {t.value for t in ActivityType}
                    else DEAL_STAGES.get(p.get("dealstage"))
                )
                if kind is None:
                    continue
                lines = items.get(rid, [])
                list_total = [float(x["crm_list_price"]) for x in lines if x.get("crm_list_price")]
                family = p.get("crm_product_family") or next(
                    (x["crm_product_family"] for x in lines if x.get("crm_product_family")), None
                )
                when = iso_to_ms(p.get("closedate")) or iso_to_ms(row.get("createdAt")) or 0
                act = _activity(
                    {
                        "id": f"deal-{rid}",
                        "type": ActivityType(kind),
                        "occurred_at": ms_to_dt(when),
                        "contact_id": _first(contacts.get(rid, [])),
                        "company_id": _first(companies.get(rid, [])),
                        "amount": float(p["amount"]) if p.get("amount") else None,
                        "list_amount": sum(list_total) if list_total else None,
                        "product_family": family,
                    }
                )
                if act is not None:
                    yield iso_to_ms(p.get("hs_lastmodifieddate")) or 0, act.id, act

    def _line_items(self, links: Mapping[str, list[str]]) -> dict[str, list[dict[str, Any]]]:
        wanted = sorted({i for ids in links.values() for i in ids}, key=int)
        props: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), 100):
            chunk = wanted[start : start + 100]
            data = self.client.batch_read(
                "line_items", chunk, ["amount", "crm_list_price", "crm_product_family"]
            ).data
            for row in (data or {}).get("results") or []:
                props[str(row["id"])] = row.get("properties") or {}
        return {deal: [props[i] for i in ids if i in props] for deal, ids in links.items()}

    def _resolve(self, emails: set[str]) -> None:
        missing = sorted(e for e in emails if e not in self.emails)
        for start in range(0, len(missing), 100):
            chunk = missing[start : start + 100]
            data = self.client.batch_read("contacts", chunk, ["email"], id_property="email").data
            for row in (data or {}).get("results") or []:
                email = (row.get("properties") or {}).get("email")
                if email:
                    self.emails[str(email).lower()] = str(row["id"])

    def _email_events(self, start: int) -> Iterator[Item]:
        offset = 0
        while True:
            data = (
                self.client.email_events(
                    {"startTimestamp": start, "limit": 1000, "offset": offset}
                ).data
                or {}
            )
            events = [e for e in data.get("events") or [] if e.get("type") in EMAIL_TYPES]
            self._resolve(
                {str(e.get("recipient", "")).lower() for e in events if e.get("recipient")}
            )
            for e in sorted(events, key=lambda e: (int(e["created"]), str(e["id"]))):
                act = _activity(
                    {
                        "id": f"email-{e['id']}",
                        "type": EMAIL_TYPES[e["type"]],
                        "occurred_at": ms_to_dt(int(e["created"])),
                        "contact_id": self.emails.get(str(e.get("recipient", "")).lower()),
                        "campaign": str(e["emailCampaignId"]) if e.get("emailCampaignId") else None,
                    }
                )
                if act is not None:
                    yield int(e["created"]), act.id, act
            if not data.get("hasMore"):
                return
            offset = int(data.get("offset") or offset + len(data.get("events") or []))

    def _web_events(self, start: int) -> Iterator[Item]:
        pager = AfterCursor("GET /events/v3/events")
        params: dict[str, Any] = {"occurredAfter": ms_to_dt(start).isoformat(), "limit": 1000}
        while True:
            data = self.client.web_events(params).data or {}
            for e in data.get("results") or []:
                kind = EVENT_NAMES.get(_EVENT_PREFIX.sub("", str(e.get("eventType", ""))))
                when = iso_to_ms(e.get("occurredAt"))
                if kind is None or when is None:
                    continue
                props = e.get("properties") or {}
                owner = str(e.get("objectId") or "")
                score = props.get("score")
                act = _activity(
                    {
                        "id": f"web-{e['id']}",
                        "type": kind,
                        "occurred_at": ms_to_dt(when),
                        "contact_id": owner if e.get("objectType") == "contact" else None,
                        "company_id": owner if e.get("objectType") == "company" else None,
                        "event_code": props.get("event_code"),
                        "campaign": props.get("campaign"),
                        "score": float(score) if score not in (None, "") else None,
                        "source": props.get("source"),
                    }
                )
                if act is not None:
                    yield when, act.id, act
            if not pager.advance(data):
                return
            params["after"] = pager.token
