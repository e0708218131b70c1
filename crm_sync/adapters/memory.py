"""``InMemoryAdapter``: the reference fake CRM, with a deterministic failure script.

It behaves like a real CRM where the engine can tell the difference: pages in ``(modified_at,
id)`` order with a closed start, writes that bump the record's modified time (so crm_sync's own
writes come back as echoes on the next pull), per-endpoint call counting, an optional daily
quota, and value-level merges for multi-valued properties. Time is a logical clock (one second per
write) so runs are reproducible.

``script`` makes failures deterministic (dlt's "dummy" destination without randomness): each API
call consumes the next item — ``"ok"``, or an exception instance that is raised
(:class:`~crm_sync.errors.RecordRejected` instead rejects that record in the current push). With
``script_on`` limits the script to some endpoints (e.g. ``{"push:company"}``). With
``path`` the whole CRM state is saved after every write, so a crash test can SIGKILL a worker and
re-run against the same CRM.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from crm_sync.adapters.base import (
    Cursor,
    EnsureResult,
    EntityName,
    PropertySpec,
    PropertyUpdate,
    PullPage,
    PushResult,
    RecordRejection,
    RecordUpdate,
    RemoteProperty,
    RequestHook,
    Stream,
    TagUpdate,
)
from crm_sync.errors import QuotaExhausted, RecordRejected
from crm_sync.model import Activity, Company, Contact, PurchasePotential

__all__ = ["InMemoryAdapter", "ScriptItem"]

ScriptItem = Literal["ok"] | Exception
EPOCH = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


class InMemoryAdapter:
    """A fake CRM account held in dictionaries (optionally persisted to a JSON file)."""

    crm = "memory"
    max_batch = 100

    def __init__(
        self,
        account: str = "memory-1",
        *,
        script: Sequence[ScriptItem] = (),
        daily_quota: int | None = None,
        path: Path | None = None,
        script_on: frozenset[str] | None = None,
    ) -> None:
        self.account = account
        self.script: list[ScriptItem] = list(script)
        self.script_on = script_on
        self.daily_quota = daily_quota
        self.path = path
        self.calls: Counter[str] = Counter()
        self.request_hook: RequestHook | None = None
        self.quota_used = 0
        self.clock = 0
        self.records: dict[str, dict[str, dict[str, Any]]] = {"company": {}, "contact": {}}
        self.values: dict[str, dict[str, dict[str, str]]] = {"company": {}, "contact": {}}
        self.modified: dict[str, dict[str, int]] = {"company": {}, "contact": {}, "activity": {}}
        # Archived records keep a tombstone stamp so incremental pulls report them in ``deleted``.
        self.archived: dict[str, dict[str, int]] = {"company": {}, "contact": {}}
        self.activities: dict[str, dict[str, Any]] = {}
        self.potentials: list[dict[str, Any]] = []
        self.properties: dict[str, RemoteProperty] = {}
        self.writes: list[tuple[str, str, str, str | None, str | None]] = []
        # Lists: entity → pull field name → member ids (like HubSpot lists, no modified bump).
        self.lists: dict[str, dict[str, list[str]]] = {"company": {}, "contact": {}}
        if path is not None and path.exists():
            self._load(path)

    # -- seeding and test helpers ------------------------------------------------------------

    def _tick(self) -> int:
        self.clock += 1
        return self.clock

    def seed(
        self,
        companies: Iterable[Company] = (),
        contacts: Iterable[Contact] = (),
        activities: Iterable[Activity] = (),
        potentials: Iterable[PurchasePotential] = (),
    ) -> None:
        """Create or change records as a CRM user would (bumping their modified time)."""
        for entity, recs in (("company", companies), ("contact", contacts)):
            for rec in recs:
                self.records[entity][rec.id] = rec.model_dump(mode="json", exclude={"modified_at"})
                self.modified[entity][rec.id] = self._tick()
        for act in activities:
            self.activities[act.id] = act.model_dump(mode="json")
            self.modified["activity"][act.id] = self._tick()
        for pot in potentials:
            self.potentials.append(pot.model_dump(mode="json"))
        self._save()

    def archive(self, entity: EntityName, record_id: str) -> None:
        """Archive (soft-delete) a record as a CRM user would; later pulls report it as deleted."""
        self.records[entity].pop(record_id)
        self.values[entity].pop(record_id, None)
        self.modified[entity].pop(record_id, None)
        self.archived[entity][record_id] = self._tick()
        self._save()

    def set_value(self, entity: EntityName, record_id: str, prop: str, value: str | None) -> None:
        """A manual edit in the CRM UI: sets a property and bumps the modified time."""
        self._write(entity, record_id, prop, value, by="user")
        self._save()

    def set_list_members(
        self, field: str, ids: Iterable[str], *, entity: EntityName = "contact"
    ) -> None:
        """Set the members of the list feeding pull field ``field``, as a CRM user would.

        Like a HubSpot list membership change it does not bump the records' modified time;
        every later pull of the entity's stream ends with a snapshot page of the members.
        """
        self.lists[entity][field] = sorted(set(ids))
        self._save()

    def value(self, entity: EntityName, record_id: str, prop: str) -> str | None:
        """Current value of one property."""
        return self.values[entity].get(record_id, {}).get(prop)

    def reset_quota(self) -> None:
        """A new day: the daily allocation is available again."""
        self.quota_used = 0
        self._save()

    # -- protocol ----------------------------------------------------------------------------

    def set_request_hook(self, hook: RequestHook | None) -> None:
        """Called before every call (the distributed rate budget charges per request)."""
        self.request_hook = hook

    def _call(self, endpoint: str) -> ScriptItem:
        if self.request_hook is not None:
            self.request_hook(endpoint)
        return self._serve(endpoint)

    def _serve(self, endpoint: str) -> ScriptItem:
        """What the CRM does with one request: quota, scripted failures (subclasses add latency)."""
        self.calls[endpoint] += 1
        if self.daily_quota is not None:
            if self.quota_used >= self.daily_quota:
                msg = f"daily API quota of {self.daily_quota} calls is spent; try again tomorrow"
                raise QuotaExhausted(msg, crm="memory", operation=endpoint, status=429)
            self.quota_used += 1
        scripted = self.script_on is None or endpoint in self.script_on
        item: ScriptItem = self.script.pop(0) if self.script and scripted else "ok"
        if isinstance(item, Exception) and not isinstance(item, RecordRejected):
            self._save()
            raise item
        return item

    def api_calls(self) -> Mapping[str, int]:
        """Calls made so far, by endpoint."""
        return dict(self.calls)

    def describe(self, entity: EntityName) -> Sequence[RemoteProperty]:
        """Properties created so far."""
        self._call("describe")
        return list(self.properties.values())

    def ensure_properties(self, specs: Sequence[PropertySpec]) -> EnsureResult:
        """Create missing properties/options; idempotent."""
        self._call("ensure_properties")
        created: list[str] = []
        for spec in specs:
            if spec.name not in self.properties:
                created.append(spec.name)
            self.properties[spec.name] = RemoteProperty(
                spec.name, spec.type, tuple(v for v, _ in spec.options), spec.label
            )
        return EnsureResult(created=tuple(created))

    def pull(
        self, stream: Stream, since: Cursor | None, *, properties: Sequence[str], page_size: int
    ) -> Iterator[PullPage]:
        """Pages in (modified_at, id) order from ``since`` inclusive."""
        kind = {"companies": "company", "contacts": "contact", "activities": "activity"}[stream]
        stamps = {**self.modified[kind], **self.archived.get(kind, {})}
        order = sorted(((self._at(s), rid) for rid, s in stamps.items()))
        if since is not None:
            order = [o for o in order if o >= (since.modified_at, since.record_id)]
        for start in range(0, len(order), page_size):
            self._call(f"pull:{stream}")
            chunk = order[start : start + page_size]
            yield self._page(stream, kind, chunk, properties)
        for name, members in sorted(self.lists.get(kind, {}).items()):
            self._call(f"lists:{stream}")
            yield PullPage(stream, None, memberships={name: frozenset(members)})

    def _page(
        self, stream: Stream, kind: str, chunk: list[tuple[dt.datetime, str]], props: Sequence[str]
    ) -> PullPage:
        cursor = Cursor(*chunk[-1]) if chunk else None
        if kind == "activity":
            acts = tuple(Activity.model_validate(self.activities[rid]) for _, rid in chunk)
            return PullPage(stream, cursor, activities=acts)
        gone = tuple(rid for _, rid in chunk if rid in self.archived[kind])
        chunk = [(at, rid) for at, rid in chunk if rid not in self.archived[kind]]
        current = {
            rid: {p: self.values[kind].get(rid, {}).get(p) for p in props} for _, rid in chunk
        }
        if kind == "company":
            ids = {rid for _, rid in chunk}
            comps = tuple(
                Company.model_validate({**self.records["company"][rid], "modified_at": at})
                for at, rid in chunk
            )
            pots = tuple(
                PurchasePotential.model_validate(p)
                for p in self.potentials
                if p["company_id"] in ids
            )
            return PullPage(
                stream, cursor, companies=comps, potentials=pots, current=current, deleted=gone
            )
        people = tuple(
            Contact.model_validate({**self.records["contact"][rid], "modified_at": at})
            for at, rid in chunk
        )
        return PullPage(stream, cursor, contacts=people, current=current, deleted=gone)

    def push(self, updates: Sequence[RecordUpdate]) -> PushResult:
        """Apply a batch; scripted RecordRejected items reject their record in this batch."""
        if not updates:
            return PushResult()
        item = self._call(f"push:{updates[0].entity}")
        rejected_id = item.record_id if isinstance(item, RecordRejected) else None
        accepted: list[str] = []
        rejected: list[RecordRejection] = []
        for upd in updates:
            if upd.record_id == rejected_id or upd.record_id not in self.records[upd.entity]:
                reason = str(item) if upd.record_id == rejected_id else "record does not exist"
                rejected.append(RecordRejection(upd.record_id, reason, "INVALID"))
                continue
            for change in upd.changes:
                if isinstance(change, PropertyUpdate):
                    self._write(upd.entity, upd.record_id, change.property, change.new, by="sync")
                else:
                    self._merge(upd.entity, upd.record_id, change)
            accepted.append(upd.record_id)
        self._save()
        return PushResult(tuple(accepted), tuple(rejected))

    # -- internals ---------------------------------------------------------------------------

    def _merge(self, entity: EntityName, rid: str, change: TagUpdate) -> None:
        raw = self.values[entity].get(rid, {}).get(change.property)
        have = set(raw.split(";")) if raw else set()
        new = sorted((have | change.add) - change.remove)
        self._write(entity, rid, change.property, ";".join(new) or None, by="sync")

    def _write(self, entity: str, rid: str, prop: str, value: str | None, *, by: str) -> None:
        old = self.values[entity].setdefault(rid, {}).get(prop)
        if value is None:
            self.values[entity][rid].pop(prop, None)
        else:
            self.values[entity][rid][prop] = value
        self.modified[entity][rid] = self._tick()
        self.writes.append((by, f"{entity}:{rid}", prop, old, value))

    @staticmethod
    def _at(stamp: int) -> dt.datetime:
        return EPOCH + dt.timedelta(seconds=stamp)

    def _state(self) -> dict[str, Any]:
        keys = (
            "calls",
            "quota_used",
            "clock",
            "records",
            "values",
            "modified",
            "archived",
            "lists",
        )
        state = {k: getattr(self, k) for k in keys}
        state.update(activities=self.activities, potentials=self.potentials, writes=self.writes)
        return state

    def _save(self) -> None:
        if self.path is None:
            return
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._state()))
        os.replace(tmp, self.path)

    def _load(self, path: Path) -> None:
        state = json.loads(path.read_text())
        self.calls = Counter(state["calls"])
        self.quota_used = state["quota_used"]
        self.clock = state["clock"]
        self.records = state["records"]
        self.values = state["values"]
        self.modified = state["modified"]
        self.archived = state.get("archived", {"company": {}, "contact": {}})
        self.lists = state.get("lists", {"company": {}, "contact": {}})
        self.activities = state["activities"]
        self.potentials = state["potentials"]
        self.writes = [tuple(w) for w in state["writes"]]
