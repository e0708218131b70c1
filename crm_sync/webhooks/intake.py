"""From verified events to targeted recompute: route, de-duplicate, queue, wake a worker.

Each event is routed to its account by portal/org id, recorded in ``webhook_events`` (insert-if-new
is the de-duplication: HubSpot and Salesforce deliver at least once, out of order, and retry for a
day) and its record queued in the store's durable ``work`` list (kind ``recompute``) — the same
list the pull fills, so the next run of that account recomputes exactly those records (plus
whatever else the incremental pull finds) and pushes only what changed. All of one delivery is
stored in one transaction, then ``notify(account)`` asks a worker to run that account soon.

Echoes of crm_sync's own writes are dropped: a ``propertyChange`` on a property crm_sync writes
would otherwise recompute the record that was just pushed (DESIGN §6: echoes must not re-trigger
work).

.. versionadded:: 0.2
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete

from crm_sync.distributed.accounts import AccountSpec
from crm_sync.distributed.sqlutil import insert_new
from crm_sync.store.distributed_schema import webhook_events
from crm_sync.store.sql import Store
from crm_sync.webhooks.events import ChangeEvent

__all__ = ["IntakeResult", "Route", "WebhookIntake"]

KEEP_EVENT_IDS = dt.timedelta(days=3)  # longer than HubSpot's and Salesforce's 24 h of retries


@dataclass(frozen=True, slots=True)
class Route:
    """Where events of one CRM account go: its name (tasks) and store key (work rows)."""

    name: str
    key: str
    own_properties: frozenset[str] = frozenset()


@dataclass
class IntakeResult:
    """What a delivery did; returned to the sender as JSON (no secrets, no record data)."""

    accepted: int = 0
    duplicates: int = 0
    echoes: int = 0
    unrouted: int = 0
    accounts: list[str] = field(default_factory=list)


def routes_for(
    accounts: Iterable[AccountSpec], own: Callable[[AccountSpec], frozenset[str]]
) -> dict[tuple[str, str], Route]:
    """``(crm, crm_id) → Route``; the memory target answers HubSpot-shaped events (tests)."""
    out: dict[tuple[str, str], Route] = {}
    for spec in accounts:
        if not spec.crm_id:
            continue
        crm = "hubspot" if spec.target == "memory" else spec.target
        key = f"{spec.target}:{spec.crm_id}"
        out[(crm, spec.crm_id[:15] if crm == "salesforce" else spec.crm_id)] = Route(
            spec.name, key, own(spec)
        )
    return out


class WebhookIntake:
    """Stores verified events as recompute work, once each, and wakes the affected accounts."""

    def __init__(
        self,
        store: Store,
        routes: dict[tuple[str, str], Route],
        notify: Callable[[str], None],
    ) -> None:
        self.store = store
        self.routes = routes
        self.notify = notify

    def route(self, source: str, crm_id: str) -> Route | None:
        """The account for a portal/org id, or None when this deployment does not serve it."""
        return self.routes.get((source, crm_id[:15] if source == "salesforce" else crm_id))

    def accept(self, events: Sequence[ChangeEvent]) -> IntakeResult:
        """De-duplicate and queue ``events`` atomically, then notify each affected account."""
        result = IntakeResult()
        now = dt.datetime.now(dt.UTC)
        todo: dict[tuple[Route, str], set[str]] = defaultdict(set)
        with self.store.begin() as conn:
            for ev in events:
                route = self.route(ev.source, ev.crm_id)
                if route is None:
                    result.unrouted += 1
                    continue
                row = {
                    "source": ev.source,
                    "event_id": ev.event_id,
                    "account": route.key,
                    "received_at": now,
                }
                if not insert_new(conn, webhook_events, row, ["source", "event_id"]):
                    result.duplicates += 1
                    continue
                if ev.property is not None and ev.property in route.own_properties:
                    result.echoes += 1
                    continue
                todo[(route, ev.entity)].add(ev.record_id)
                result.accepted += 1
            for (route, entity), ids in todo.items():
                self.store.add_work(conn, route.key, "recompute", entity, sorted(ids))
            conn.execute(
                delete(webhook_events).where(webhook_events.c.received_at < now - KEEP_EVENT_IDS)
            )
        names = sorted({route.name for route, _ in todo})
        for name in names:
            self.notify(name)
        result.accounts = names
        return result
