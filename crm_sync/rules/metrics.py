"""Metrics: activities (and purchase potential) aggregated into one column per metric.

Two implementations with identical semantics live side by side on purpose:

* :func:`compute_metrics` — vectorised: one filtered ``group_by`` per metric (per distinct call
  argument for parametrised metrics), joined onto the entity's ids;
* :func:`metric_reference` / :func:`potential_reference` — plain loops over one record's
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

import polars as pl

from crm_sync.model.frames import Dataset
from crm_sync.rules.compiled import EntityPlan, call_column
from crm_sync.rules.schema import Entity, MetricSpec

__all__ = [
    "ActivityIndex",
    "compute_metrics",
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


# -- vectorised ----------------------------------------------------------------------------------


def _activities(dataset: Dataset, as_of: dt.date) -> pl.DataFrame:
    """Activities up to as_of with a ``day`` column and the company key rolled up from contacts."""
    acts = (
        dataset.activities.with_row_index("__row")
        .with_columns(pl.col("occurred_at").dt.date().alias("day"))
        .filter(pl.col("day") <= as_of)
    )
    owner = dataset.contacts.select(
        pl.col("id").alias("contact_id"), pl.col("company_id").alias("__contact_company")
    ).unique(subset="contact_id", keep="first")
    acts = acts.join(owner, on="contact_id", how="left").sort("__row")
    return acts.with_columns(
        pl.coalesce("company_id", "__contact_company").alias("__company_rollup")
    )


def _seq_sum(values: pl.Expr) -> pl.Expr:
    """Sum in activity order, one addition at a time, exactly like the reference loop.

    ``Expr.sum`` may add in a different order (pairwise/SIMD), which changes the last bit of a
    float total and could flip a threshold comparison between the two evaluators.
    """
    return values.cast(pl.Float64).fill_null(0.0).cum_sum().last().fill_null(0.0)


def _agg(spec: MetricSpec, as_of: dt.date) -> pl.Expr:
    match spec.agg:
        case "count":
            return pl.len().cast(pl.Float64)
        case "sum":
            assert spec.of is not None
            return _seq_sum(pl.col(spec.of))
        case "avg":
            assert spec.of is not None
            present = pl.col(spec.of).drop_nulls()
            return pl.when(present.len() > 0).then(_seq_sum(present) / present.len())
        case "exists":
            return pl.len() > 0
        case "min_date":
            return pl.col("day").min()
        case "max_date":
            return pl.col("day").max()
        case "days_since":
            return (pl.lit(as_of) - pl.col("day").max()).dt.total_days().cast(pl.Float64)
        case "ratio":
            assert spec.of is not None
            assert spec.over is not None
            both = pl.col(spec.of).is_not_null() & pl.col(spec.over).is_not_null()
            num = _seq_sum(pl.col(spec.of).filter(both))
            den = _seq_sum(pl.col(spec.over).filter(both))
            return pl.when(den != 0).then(num / den).otherwise(None).cast(pl.Float64)
    msg = f"unsupported agg {spec.agg}"  # pragma: no cover
    raise AssertionError(msg)


def _dtype(spec: MetricSpec) -> pl.DataType:
    if spec.agg == "exists":
        return pl.Boolean()
    if spec.agg in ("min_date", "max_date"):
        return pl.Date()
    return pl.Float64()


def _potential_frame(dataset: Dataset, as_of: dt.date, family: str | None) -> pl.DataFrame:
    """company_id, value: the annual potential valid at as_of (whole wallet or one family)."""
    pot = dataset.potentials.filter(pl.col("valid_from") <= as_of)

    def latest(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
        # Latest valid_from per key; several rows on that date: the largest amount.
        return (
            frame.sort([*keys, "valid_from", "annual_amount"])
            .group_by(keys, maintain_order=True)
            .agg(pl.col("annual_amount").last())
        )

    if family is not None:
        rows = pot.filter(pl.col("product_family") == family)
        return latest(rows, ["company_id"]).rename({"annual_amount": "value"})
    whole = pot.filter(pl.col("product_family").is_null() & pl.col("business_line").is_null())
    whole_v = latest(whole, ["company_id"]).rename({"annual_amount": "whole"})
    parts = pot.filter(
        pl.col("product_family").is_not_null() | pl.col("business_line").is_not_null()
    )
    parts_v = (
        latest(parts, ["company_id", "product_family", "business_line"])
        .sort(["company_id", "product_family", "business_line"], nulls_last=True)
        .group_by("company_id", maintain_order=True)
        .agg(_seq_sum(pl.col("annual_amount")).alias("parts"))
    )
    both = whole_v.join(parts_v, on="company_id", how="full", coalesce=True)
    return both.select("company_id", pl.coalesce("whole", "parts").cast(pl.Float64).alias("value"))


def compute_metrics(
    plan: EntityPlan, dataset: Dataset, ids: pl.DataFrame, as_of: dt.date
) -> pl.DataFrame:
    """``ids`` (one ``id`` column) plus one column per metric and per parametrised call."""
    acts = _activities(dataset, as_of)
    out = ids.select("id")
    for name, spec in plan.metrics.items():
        calls: Iterable[tuple[str, ...]] = (
            sorted(plan.calls.get(name, set())) if spec.params else [()]
        )
        for args in calls:
            column = call_column(name, args) if spec.params else name
            if spec.agg == "potential":
                frame = _potential_frame(dataset, as_of, args[0] if args else None).rename(
                    {"company_id": "id", "value": column}
                )
            else:
                frame = _vector_metric(
                    spec, acts=acts, entity=plan.entity, as_of=as_of, args=args, column=column
                )
            out = out.join(frame, on="id", how="left")
            fill = metric_fill(spec)
            col = pl.col(column).cast(_dtype(spec))
            out = out.with_columns(col.fill_null(fill) if fill is not None else col)
    return out


def _vector_metric(
    spec: MetricSpec,
    *,
    acts: pl.DataFrame,
    entity: Entity,
    as_of: dt.date,
    args: tuple[str, ...],
    column: str,
) -> pl.DataFrame:
    frame = acts.filter(pl.col("type").is_in([t.value for t in spec.types]))
    if spec.where is not None:
        for attr in ("product_family", "event_code", "campaign"):
            allowed = getattr(spec.where, attr)
            if allowed is not None:
                frame = frame.filter(pl.col(attr).is_in(allowed))
    start = window_start(as_of, spec.window)
    if start is not None:
        frame = frame.filter(pl.col("day") > start)
    for attr, value in zip(spec.params, args, strict=True):
        frame = frame.filter(pl.col(attr) == value)
    if entity == "contact":
        key = "contact_id"
    else:
        key = "__company_rollup" if spec.from_contacts else "company_id"
    return (
        frame.filter(pl.col(key).is_not_null())
        .group_by(key)
        .agg(_agg(spec, as_of).alias(column))
        .rename({key: "id"})
    )


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
