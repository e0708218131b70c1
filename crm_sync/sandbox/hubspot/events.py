"""Pull-side event feeds: marketing email events v1 (facts §4.2) and events v3 (facts §4.3).

Both are read-only here: events are seeded by :meth:`HubSpotSandbox.load_book` or appended to
``portal.email_events`` / ``portal.web_events`` by tests. Email events page with ``offset``
and ``hasMore``; events v3 with ``after`` cursors, oldest first unless ``sort=-occurredAt``.
"""

from __future__ import annotations

from typing import Any

from crm_sync.sandbox.http import Request, Response, Router
from crm_sync.sandbox.hubspot.errors import validation_error
from crm_sync.sandbox.hubspot.properties import epoch_ms
from crm_sync.sandbox.hubspot.state import Portal

__all__ = ["add_event_routes"]

EMAIL_PAGE_MAX = 1_000  # [UNVERIFIED] v1 page cap


def _int_arg(request: Request, name: str, default: int) -> int:
    raw = request.arg(name)
    try:
        return default if raw in (None, "") else int(raw)
    except ValueError as exc:
        raise validation_error(f"{name} must be an integer") from exc


def add_event_routes(router: Router, portal: Portal) -> None:
    """Register ``/email/public/v1/events`` and ``/events/v3/events``."""

    def email_events(request: Request) -> Response:
        limit = min(_int_arg(request, "limit", 100), EMAIL_PAGE_MAX)
        start = _int_arg(request, "startTimestamp", 0)
        end = _int_arg(request, "endTimestamp", 2**62)
        offset = _int_arg(request, "offset", 0)
        wanted = {
            k: request.arg(k) for k in ("recipient", "campaignId", "eventType") if request.arg(k)
        }
        with portal.lock:
            rows = [
                e
                for e in portal.email_events
                if start <= e["created"] <= end
                and (not wanted.get("recipient") or e["recipient"] == wanted["recipient"])
                and (
                    not wanted.get("campaignId")
                    or str(e["emailCampaignId"]) == wanted["campaignId"]
                )
                and (not wanted.get("eventType") or e["type"] == wanted["eventType"])
            ]
        rows.sort(key=lambda e: (e["created"], e["id"]))
        page = rows[offset : offset + limit]
        body: dict[str, Any] = {
            "events": page,
            "hasMore": offset + limit < len(rows),
            "offset": str(offset + len(page)),
        }
        return Response.json(200, body)

    def web_events(request: Request) -> Response:
        limit = min(_int_arg(request, "limit", 100), 1_000)
        after = _int_arg(request, "after", 0)
        filters = {
            k: request.arg(k) for k in ("objectType", "objectId", "eventType") if request.arg(k)
        }
        low = epoch_ms(request.arg("occurredAfter") or "0") or 0
        high = epoch_ms(request.arg("occurredBefore") or str(2**62)) or 2**62
        with portal.lock:
            rows = [
                e
                for e in portal.web_events
                if all(str(e[k]) == v for k, v in filters.items())
                and low <= (epoch_ms(e["occurredAt"]) or 0) <= high
            ]
        rows.sort(
            key=lambda e: (e["occurredAt"], e["id"]), reverse=request.arg("sort") == "-occurredAt"
        )
        page = rows[after : after + limit]
        body: dict[str, Any] = {"results": page}
        if after + limit < len(rows):
            body["paging"] = {"next": {"after": str(after + limit)}}
        return Response.json(200, body)

    def event_types(request: Request) -> Response:
        with portal.lock:
            names = sorted({e["eventType"] for e in portal.web_events})
        return Response.json(200, {"eventTypes": names})

    router.add("GET", "/email/public/v1/events", email_events)
    router.add("GET", "/events/v3/events", web_events)
    router.add("GET", "/events/v3/events/event-types", event_types)
