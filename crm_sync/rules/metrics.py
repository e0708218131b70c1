"""Metrics: activities (and purchase potential) aggregated into one column per metric.

Two implementations with identical semantics exist on purpose:

* :func:`crm_sync.rules.aggregate.compute_metrics` — vectorised: every metric of an entity in
  one conditional ``group_by`` over the activities any metric reads;
* :func:`metric_reference` / :func:`potential_reference` (here) — plain loops over one record's
  activities, the oracle of the property tests and the per-record baseline of the benchmark.

Determinism: every window is relative to ``as_of``. An activity counts when
``window_start < occurred_at.date() <= as_of``; activities after ``as_of`` are ignored, so
re-running an old ``as_of`` reproduces its result. ``12m`` means calendar months (2025-03-01
minus 12m is 2024-03-01). Company metrics with ``from_contacts`` also see activities logged only
on one of the company's contacts (``contact_id`` set, ``company_id`` empty).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from crm_sync.model.frames import Dataset
from crm_sync.rules.schema import Entity, MetricSpec

__all__ = [
    "ActivityIndex",
    "metric_fill",
    "metric_reference",
    "potential_reference",
    "window_start",
]

_WINDOW = re.compile(r"^(\d+)([dwmy])$")


def _minus_months(day: dt.date, months: int) -> dt.date:
    year, month0 = divmod(day.year * 12 + day.month - 1 - months, 12)
    month = month0 + 1
    next_first = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_first - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


def window_start(as_of: dt.date, window: str | None) -> dt.date | None:
    """The exclusive lower bound of a window ending at ``as_of`` (None: all history)."""
    if window is None:
        return None
    match = _WINDOW.match(window)
    if match is None:
        msg = f"invalid window {window!r}"
        raise ValueError(msg)
    n, unit = int(match.group(1)), match.group(2)
    if unit == "d":
        return as_of - dt.timedelta(days=n)
    if unit == "w":
        return as_of - dt.timedelta(weeks=n)
    if unit == "m":
        return _minus_months(as_of, n)
    return _minus_months(as_of, 12 * n)


def metric_fill(spec: MetricSpec) -> Any:
    """The value of a metric over no activities: 0 for count/sum, false for exists, else null."""
    if spec.agg in ("count", "sum"):
        return 0.0
    if spec.agg == "exists":
        return False
    return None


# -- reference (per record) ----------------------------------------------------------------------


@dataclass
class ActivityIndex:
    """Activities up to as_of grouped per record, for the per-record reference path."""

    by_contact: dict[str, list[dict[str, Any]]]
    by_company: dict[str, list[dict[str, Any]]]
    by_company_rollup: dict[str, list[dict[str, Any]]]
    potentials: dict[str, list[dict[str, Any]]]

    @classmethod
    def build(cls, dataset: Dataset, as_of: dt.date) -> ActivityIndex:
        """Group activities and potentials by owner with plain Python loops."""
        owner: dict[str, str | None] = {}
        for contact_id, company_id in dataset.contacts.select("id", "company_id").iter_rows():
            owner.setdefault(contact_id, company_id)
        by_contact: dict[str, list[dict[str, Any]]] = defaultdict(list)
        by_company: dict[str, list[dict[str, Any]]] = defaultdict(list)
        rollup: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for raw in dataset.activities.iter_rows(named=True):
            day = raw["occurred_at"].date()
            if day > as_of:
                continue
            row = {**raw, "day": day}
            if row["contact_id"] is not None:
                by_contact[row["contact_id"]].append(row)
            if row["company_id"] is not None:
                by_company[row["company_id"]].append(row)
            company = row["company_id"] or owner.get(row["contact_id"])
            if company is not None:
                rollup[company].append(row)
        potentials: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in dataset.potentials.iter_rows(named=True):
            if row["valid_from"] <= as_of:
                potentials[row["company_id"]].append(row)
        return cls(dict(by_contact), dict(by_company), dict(rollup), dict(potentials))

    def rows(self, entity: Entity, record_id: str, spec: MetricSpec) -> list[dict[str, Any]]:
        """The activities a metric of ``entity`` sees for one record."""
        if entity == "contact":
            return self.by_contact.get(record_id, [])
        source = self.by_company_rollup if spec.from_contacts else self.by_company
        return source.get(record_id, [])


def _sum(values: Iterable[float | None]) -> float:
    total = 0.0
    for v in values:
        if v is not None:
            total += float(v)
    return total


def metric_reference(
    spec: MetricSpec, rows: Iterable[Mapping[str, Any]], as_of: dt.date, args: tuple[str, ...]
) -> Any:
    """One record's metric value, computed with a plain loop (same semantics as the vector path)."""
    types = {t.value for t in spec.types}
    start = window_start(as_of, spec.window)
    kept: list[Mapping[str, Any]] = []
    for row in rows:
        if row["type"] not in types:
            continue
        if spec.where is not None and any(
            getattr(spec.where, attr) is not None and row[attr] not in getattr(spec.where, attr)
            for attr in ("product_family", "event_code", "campaign")
        ):
            continue
        if start is not None and not row["day"] > start:
            continue
        if any(row[attr] != value for attr, value in zip(spec.params, args, strict=True)):
            continue
        kept.append(row)
    of = spec.of or "amount"
    match spec.agg:
        case "count":
            return float(len(kept))
        case "exists":
            return bool(kept)
        case "sum":
            return _sum(r[of] for r in kept)
        case "avg":
            values = [r[of] for r in kept if r[of] is not None]
            return _sum(values) / len(values) if values else None
        case "min_date":
            return min((r["day"] for r in kept), default=None)
        case "max_date":
            return max((r["day"] for r in kept), default=None)
        case "days_since":
            last = max((r["day"] for r in kept), default=None)
            return None if last is None else float((as_of - last).days)
        case "ratio":
            pairs = [(r[of], r[spec.over or "list_amount"]) for r in kept]
            pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
            den = _sum(b for _, b in pairs)
            return _sum(a for a, _ in pairs) / den if pairs and den != 0 else None
    return None  # pragma: no cover


def potential_reference(rows: Iterable[Mapping[str, Any]], args: tuple[str, ...]) -> float | None:
    """The annual potential valid at as_of (rows already filtered to valid_from <= as_of)."""

    def latest(items: list[Mapping[str, Any]]) -> float | None:
        if not items:
            return None
        best = max(items, key=lambda r: (r["valid_from"], r["annual_amount"]))
        return float(best["annual_amount"])

    rows = list(rows)
    if args:
        return latest([r for r in rows if r["product_family"] == args[0]])
    whole = [r for r in rows if r["product_family"] is None and r["business_line"] is None]
    if whole:
        return latest(whole)
    parts: dict[tuple[Any, Any], list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["product_family"] is not None or r["business_line"] is not None:
            parts[(r["product_family"], r["business_line"])].append(r)
    if not parts:
        return None
    total = 0.0
    for _, items in sorted(parts.items(), key=lambda kv: [(k is None, k or "") for k in kv[0]]):
        value = latest(items)
        assert value is not None
        total += value
    return total
