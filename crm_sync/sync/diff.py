"""Diff computed values against what the CRM holds, under each property's write policy.

The diff is against the CRM's current value (refreshed by every pull), not only against what was
pushed last, so a value already there is never written again (DESIGN §6) and a re-run after a crash
converges without duplicate writes. ``pushed`` (what crm_sync itself last wrote) tells a manual
edit from our own value.

Policies, for single values:

* ``overwrite`` — crm_sync's value wins; an empty model value clears only a value crm_sync wrote;
* ``if_empty`` — write only into an empty property;
* ``respect_manual_edits`` — write unless the CRM value differs from what crm_sync last wrote (a
  person changed or cleared it).

Multi-valued properties are diffed per value, and only values crm_sync owns (the mapping's
options) are ever added or removed; under ``respect_manual_edits`` an owned value a person removed
is not re-added and one a person added is not removed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from crm_sync.adapters.base import PropertyUpdate, TagUpdate
from crm_sync.mapping.load import MappedProperty
from crm_sync.sync.computer import Value

__all__ = ["Plan", "diff_record", "join_tags", "split_tags"]

CrmValues = Mapping[str, tuple[str | None, str | None]]


def split_tags(raw: str | None) -> frozenset[str]:
    """A ``;``-joined multi value as a set (HubSpot checkbox, Salesforce multipicklist)."""
    return frozenset(v for v in (raw or "").split(";") if v)


def join_tags(values: frozenset[str]) -> str | None:
    """Canonical ``;``-joined form (sorted, no spaces); None for the empty set."""
    return ";".join(sorted(values)) or None


def _single(target: MappedProperty, value: Value, crm: CrmValues) -> PropertyUpdate | None:
    new = target.to_crm(str(value)) if value is not None else None
    current, pushed = crm.get(target.name, (None, None))
    current = current or None
    if new == current:
        return None
    policy = target.write_policy
    if policy == "if_empty" and current is not None:
        return None
    if policy == "respect_manual_edits" and current != (pushed or None):
        return None
    if new is None and current is not None and current != pushed:
        return None  # never clear a value someone else set
    return PropertyUpdate(target.name, current, new)


def _multi(target: MappedProperty, value: Value, crm: CrmValues) -> TagUpdate | None:
    wanted = frozenset(target.to_crm(v) for v in (value or ())) & target.owned
    raw, pushed_raw = crm.get(target.name, (None, None))
    have = split_tags(raw)
    pushed = split_tags(pushed_raw)
    policy = target.write_policy
    if policy == "if_empty" and have:
        return None
    add = wanted - have
    remove = (have & target.owned) - wanted
    if policy == "respect_manual_edits" and pushed_raw is not None:
        add -= pushed - have  # ours, removed by a person
        remove &= pushed  # only what we put there
    if not add and not remove:
        return None
    return TagUpdate(target.name, frozenset(add), frozenset(remove), (have | add) - remove)


def diff_record(
    targets: Sequence[MappedProperty], desired: Mapping[str, Value], crm: CrmValues
) -> tuple[PropertyUpdate | TagUpdate, ...]:
    """Every change one record needs; empty when the CRM already holds the wanted values."""
    changes: list[PropertyUpdate | TagUpdate] = []
    for target in targets:
        if target.output not in desired:
            continue
        value = desired[target.output]
        change = _multi(target, value, crm) if target.multi else _single(target, value, crm)
        if change is not None:
            changes.append(change)
    return tuple(changes)


@dataclass
class Plan:
    """What a run would write, per property: creates (empty before), updates, and samples."""

    properties: dict[str, dict[str, object]] = field(default_factory=dict)

    def add(self, entity: str, record_id: str, change: PropertyUpdate | TagUpdate) -> None:
        """Count one change and keep up to five samples per property."""
        key = f"{entity}.{change.property}"
        entry = self.properties.setdefault(key, {"creates": 0, "updates": 0, "samples": []})
        sample: dict[str, object]
        if isinstance(change, PropertyUpdate):
            kind = "creates" if change.old is None else "updates"
            sample = {"id": record_id, "old": change.old, "new": change.new}
        else:
            kind = "creates" if not (change.result - change.add) else "updates"
            sample = {"id": record_id, "add": sorted(change.add), "remove": sorted(change.remove)}
        entry[kind] = int(entry[kind]) + 1  # type: ignore[call-overload]
        samples = entry["samples"]
        assert isinstance(samples, list)
        if len(samples) < 5:
            samples.append(sample)
