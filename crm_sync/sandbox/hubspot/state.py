"""The in-memory portal: records, property definitions, associations, lists, workflows, events.

Why one object behind one lock: HubSpot requests are small and the official clients pool
connections across threads; a single re-entrant lock keeps every batch atomic (a whole-batch
400 must leave nothing half-written) at far more than the throughput the benchmark needs.

Timestamps come from an injectable clock (epoch seconds) so tests can pin ``createdate``,
``lastmodifieddate``/``hs_lastmodifieddate`` (facts Gotcha 9), the search lag and the rate
limiter without sleeping. Written timestamps never go backwards even if the clock does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from crm_sync.sandbox.hubspot.properties import (
    LIFECYCLE_STAGES,
    OBJECT_TYPES,
    PropertyDef,
    created_property,
    iso_ms,
    modified_property,
    standard_groups,
    standard_properties,
)

__all__ = ["HsObject", "Portal"]

Clock = Callable[[], float]

# Default properties returned when a read names none (facts §4.6 for contacts; [UNVERIFIED] others).
DEFAULT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "contacts": (
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    ),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "deals": (
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ),
}


@dataclass
class HsObject:
    """One CRM record. ``props`` holds stored string values; absent means never set."""

    id: str
    object_type: str
    props: dict[str, str]
    created_ms: int
    updated_ms: int
    written_at: float
    archived: bool = False
    archived_ms: int | None = None

    def to_json(self, properties: Iterable[str] | None = None) -> dict[str, Any]:
        """``SimplePublicObject``: requested (or default) properties, always as strings or null."""
        names = (
            list(properties)
            if properties is not None
            else list(default_properties(self.object_type))
        )
        body: dict[str, Any] = {
            "id": self.id,
            "properties": {n: self.props.get(n) for n in names},
            "createdAt": iso_ms(self.created_ms),
            "updatedAt": iso_ms(self.updated_ms),
            "archived": self.archived,
        }
        if self.archived and self.archived_ms is not None:
            body["archivedAt"] = iso_ms(self.archived_ms)
        return body


def default_properties(object_type: str) -> tuple[str, ...]:
    """Properties a read returns when none are asked for."""
    if object_type in DEFAULT_PROPERTIES:
        return DEFAULT_PROPERTIES[object_type]
    return (created_property(object_type), "hs_lastmodifieddate", "hs_object_id")


@dataclass
class Portal:
    """All state of one sandbox portal. Hold :attr:`lock` around multi-step operations."""

    clock: Clock = time.time
    lock: threading.RLock = field(default_factory=threading.RLock)
    objects: dict[str, dict[str, HsObject]] = field(default_factory=dict)
    properties: dict[str, dict[str, PropertyDef]] = field(default_factory=dict)
    groups: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # (type, id) -> (to_type, to_id) -> {(category, typeId)}
    associations: dict[tuple[str, str], dict[tuple[str, str], set[tuple[str, int]]]] = field(
        default_factory=dict
    )
    lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    list_members: dict[str, dict[str, int]] = field(default_factory=dict)  # listId -> id -> ms
    workflows: dict[str, dict[str, Any]] = field(default_factory=dict)
    enrollments: dict[str, set[str]] = field(default_factory=dict)  # workflowId -> contact ids
    # user-defined association labels: (from, to, typeId, reverse typeId, label)
    assoc_labels: list[tuple[str, str, int, int, str]] = field(default_factory=list)
    email_events: list[dict[str, Any]] = field(default_factory=list)
    web_events: list[dict[str, Any]] = field(default_factory=list)
    _next_id: int = 100_001
    _last_ms: int = 0
    _unique: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for object_type in OBJECT_TYPES:
            self.objects[object_type] = {}
            self.properties[object_type] = standard_properties(object_type)
            self.groups[object_type] = {g["name"]: g for g in standard_groups(object_type)}

    # -- time and ids -------------------------------------------------------------------------
    def now_ms(self) -> int:
        """Clock in epoch ms, never earlier than the last value handed out."""
        with self.lock:
            self._last_ms = max(self._last_ms, int(self.clock() * 1000))
            return self._last_ms

    def new_id(self) -> str:
        """The next record, list or workflow id (one portal-wide sequence)."""
        with self.lock:
            self._next_id += 1
            return str(self._next_id)

    # -- unique values ------------------------------------------------------------------------
    def unique_properties(self, object_type: str) -> list[str]:
        """Properties usable as ``idProperty``: ``hasUniqueValue`` ones, plus contact ``email``."""
        names = [p.name for p in self.properties[object_type].values() if p.has_unique_value]
        return (["email"] if object_type == "contacts" else []) + names

    def find_unique(self, object_type: str, prop: str, value: str) -> HsObject | None:
        """The live record holding ``value`` in unique property ``prop`` (emails match case-insensitively)."""
        key = value.lower() if prop == "email" else value
        found = self._unique.get((object_type, prop), {}).get(key)
        obj = self.objects[object_type].get(found) if found else None
        return obj if obj is not None and not obj.archived else None

    def _index(self, obj: HsObject, prop: str, old: str | None, new: str | None) -> None:
        if prop not in self.unique_properties(obj.object_type):
            return
        index = self._unique.setdefault((obj.object_type, prop), {})

        def fold(value: str) -> str:
            return value.lower() if prop == "email" else value

        if old and index.get(fold(old)) == obj.id:
            del index[fold(old)]
        if new:
            index[fold(new)] = obj.id

    # -- writes -------------------------------------------------------------------------------
    def create(self, object_type: str, props: dict[str, str]) -> HsObject:
        """Create a record from validated props; maintains create/modified dates and ``hs_object_id``."""
        with self.lock:
            now = self.now_ms()
            obj = HsObject(self.new_id(), object_type, {}, now, now, self.clock())
            self.objects[object_type][obj.id] = obj
            obj.props["hs_object_id"] = obj.id
            obj.props[created_property(object_type)] = iso_ms(now)
            self.write(obj, props)
            obj.updated_ms = now
            obj.props[modified_property(object_type)] = iso_ms(now)
            return obj

    def write(self, obj: HsObject, props: dict[str, str]) -> None:
        """Apply validated props to ``obj``.

        ``lifecyclestage`` only moves forward: a backward write is silently ignored and ``""``
        clears it (facts §7, Gotcha 11). Every write bumps the modified date, even when no value
        changed: the stricter assumption for echo-suppression logic ([UNVERIFIED] in HubSpot).
        """
        with self.lock:
            for name, value in props.items():
                if name == "lifecyclestage" and value and not _forward(obj.props.get(name), value):
                    continue
                old = obj.props.get(name)
                if value == "":
                    obj.props.pop(name, None)
                else:
                    obj.props[name] = value
                self._index(obj, name, old, value or None)
            now = self.now_ms()
            obj.updated_ms = now
            obj.written_at = self.clock()
            obj.props[modified_property(obj.object_type)] = iso_ms(now)

    def archive(self, obj: HsObject) -> None:
        """Soft-delete: hidden from reads and search, listed with ``archived=true`` (facts §4.7)."""
        with self.lock:
            if obj.archived:
                return
            obj.archived = True
            obj.archived_ms = self.now_ms()
            obj.written_at = self.clock()
            for prop in self.unique_properties(obj.object_type):
                self._index(obj, prop, obj.props.get(prop), None)

    def live(self, object_type: str, object_id: str) -> HsObject | None:
        """A non-archived record by id."""
        obj = self.objects[object_type].get(object_id)
        return obj if obj is not None and not obj.archived else None

    # -- associations -------------------------------------------------------------------------
    def associate(
        self, a: tuple[str, str], b: tuple[str, str], ab: tuple[str, int], ba: tuple[str, int]
    ) -> None:
        """Record an association in both directions, each with its own type id."""
        with self.lock:
            self.associations.setdefault(a, {}).setdefault(b, set()).add(ab)
            self.associations.setdefault(b, {}).setdefault(a, set()).add(ba)

    def associated(self, a: tuple[str, str], to_type: str) -> dict[str, set[tuple[str, int]]]:
        """``to_id -> {(category, typeId)}`` for every live record of ``to_type`` associated with ``a``."""
        with self.lock:
            return {
                to_id: set(types)
                for (t, to_id), types in self.associations.get(a, {}).items()
                if t == to_type and types and self.live(t, to_id) is not None
            }

    def dissociate(
        self,
        a: tuple[str, str],
        b: tuple[str, str],
        ab: set[int] | None = None,
        ba: set[int] | None = None,
    ) -> None:
        """Remove associations between ``a`` and ``b``: all of them, or the given type ids each way."""
        with self.lock:
            for x, y, ids in ((a, b, ab), (b, a, ba)):
                types = self.associations.get(x, {}).get(y)
                if types is None:
                    continue
                if ids is None:
                    types.clear()
                else:
                    types -= {t for t in types if t[1] in ids}

    # -- workflows ----------------------------------------------------------------------------
    def add_workflow(self, name: str, *, enabled: bool = True) -> str:
        """Create a contact-based (v2) workflow and return its legacy id (facts §5.2)."""
        with self.lock:
            workflow_id = self.new_id()
            now = self.now_ms()
            self.workflows[workflow_id] = {
                "id": int(workflow_id),
                "name": name,
                "type": "DRIP_DELAY",
                "enabled": enabled,
                "insertedAt": now,
                "updatedAt": now,
            }
            self.enrollments[workflow_id] = set()
            return workflow_id


def _forward(current: str | None, new: str) -> bool:
    """Whether writing ``new`` over ``current`` moves the lifecycle stage forward (or sets it)."""
    if not current or current == new:
        return True
    if current in LIFECYCLE_STAGES and new in LIFECYCLE_STAGES:
        return LIFECYCLE_STAGES.index(new) > LIFECYCLE_STAGES.index(current)
    return True
