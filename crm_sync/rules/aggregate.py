"""Vectorised metrics: every metric of an entity in one pass over the activities that matter.

Why it is shaped this way (the benchmark of issue #2, 10M activities):

* :func:`activity_rows` reads the activity frame once per evaluation, keeping only rows of a type
  some metric reads, dated up to ``as_of``, and only the columns metrics read. In the default
  model that is ~14 % of the rows, so nothing later touches 10M rows again.
* The company a contact belongs to is looked up only for activities without a ``company_id``,
  and only when a metric uses ``from_contacts``.
* :func:`compute_metrics` computes all count/exists/date metrics of one entity (per grouping
  key) in ONE ``group_by`` with conditional aggregations: each metric is a boolean mask (types,
  ``where``, window, call argument) over the shared rows instead of its own filter + group-by +
  join. Sums (sum, avg, ratio) filter their own rows first (see :func:`_money`). All of these
  queries run in one ``collect_all``.

Semantics are those of :func:`crm_sync.rules.metrics.metric_reference`, the per-record oracle.
Sums add one value at a time in activity order, as the reference loop does (``cum_sum`` within
each group; polars' ``sum`` adds pairwise and differed by one ulp on the example data, which can
flip a threshold). Rows a metric does not see add ``0.0`` instead of being filtered out, which
leaves a running total unchanged except for the sign of a zero; the reference's
``total = 0.0; total += v`` never yields ``-0.0``, and the final ``+ 0.0`` guarantees the same here
whatever ``cum_sum`` starts from. A scratch fuzz test (all aggregates, from_contacts, where,
windows, amounts like 0.1, 1e16, -0.0) compared both paths bit for bit over 600 examples.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import reduce

import polars as pl

from crm_sync.model.frames import Dataset
from crm_sync.rules.compiled import EntityPlan, call_column
from crm_sync.rules.metrics import metric_fill, window_start
from crm_sync.rules.schema import MetricSpec

__all__ = ["activity_rows", "compute_metrics"]

_ROLLUP = "__company_rollup"
_FILTERS = ("product_family", "event_code", "campaign")


def _activity_metrics(plans: list[EntityPlan]) -> list[MetricSpec]:
    return [s for p in plans for s in p.metrics.values() if s.agg != "potential"]


def activity_rows(plans: list[EntityPlan], dataset: Dataset, as_of: dt.date) -> pl.DataFrame:
    """Activities any metric of ``plans`` can see, in their original order, with a ``day``.

    Only the columns the metrics read are kept; ``__company_rollup`` (the activity's company, or
    its contact's company when it has none) is added only if a metric rolls up from contacts.
    """
    specs = _activity_metrics(plans)
    types = sorted({t.value for s in specs for t in s.types})
    columns = {"contact_id", "company_id", "occurred_at"}
    for s in specs:
        columns.update(s.params)
        if s.where is not None:
            columns.update(a for a in _FILTERS if getattr(s.where, a) is not None)
        if s.agg in ("sum", "avg", "ratio"):
            columns.add(s.of or "amount")
        if s.agg == "ratio":
            columns.add(s.over or "list_amount")
    frame = (
        dataset.activities.lazy()
        .select("type", *sorted(columns))
        .filter(pl.col("type").is_in(types))
        .with_columns(pl.col("occurred_at").dt.date().alias("day"))
        .filter(pl.col("day") <= as_of)
        .drop("occurred_at")
        .collect()
    )
    if any(s.from_contacts for s in specs):
        frame = frame.with_columns(_rollup(frame, dataset).alias(_ROLLUP))
    return frame


def _rollup(frame: pl.DataFrame, dataset: Dataset) -> pl.Series:
    """Each row's company, or its contact's company when it has none (first contact row wins).

    Few activities lack a company, so only those rows look their contact up (a gather, a small
    join and a scatter) instead of joining every row on ``contact_id``.
    """
    orphan = pl.col("company_id").is_null() & pl.col("contact_id").is_not_null()
    at = frame.select(pl.arg_where(orphan))[:, 0]
    contacts = frame["contact_id"].gather(at)
    owner = (
        dataset.contacts.filter(pl.col("id").is_in(contacts.unique().implode()))
        .select(pl.col("id").alias("contact_id"), pl.col("company_id").alias("owner"))
        .unique(subset="contact_id", keep="first", maintain_order=True)
    )
    owners = contacts.to_frame().join(owner, on="contact_id", how="left", maintain_order="left")
    return frame["company_id"].clone().scatter(at, owners["owner"])


def _seq_sum(values: pl.Expr) -> pl.Expr:
    """Sum in row order, one addition at a time (see the module docstring)."""
    return values.cast(pl.Float64).fill_null(0.0).cum_sum().last().fill_null(0.0) + 0.0


def _mask(spec: MetricSpec, as_of: dt.date, args: tuple[str, ...]) -> pl.Expr:
    """Which rows a metric (with its call arguments) sees: never null."""
    parts = [pl.col("type").is_in([t.value for t in spec.types])]
    if spec.where is not None:
        for attr in _FILTERS:
            allowed = getattr(spec.where, attr)
            if allowed is not None:
                parts.append(pl.col(attr).is_in(allowed))
    start = window_start(as_of, spec.window)
    if start is not None:
        parts.append(pl.col("day") > start)
    for attr, value in zip(spec.params, args, strict=True):
        parts.append(pl.col(attr) == value)
    return reduce(lambda a, b: a & b, parts).fill_null(False)


_MONEY = frozenset({"sum", "avg", "ratio"})


def _conditional(spec: MetricSpec, mask: pl.Expr, as_of: dt.date) -> pl.Expr:
    """A count/exists/date metric over one group's rows where ``mask`` holds."""
    match spec.agg:
        case "count":
            return mask.sum().cast(pl.Float64)
        case "exists":
            return mask.any()
        case "min_date":
            return pl.when(mask).then(pl.col("day")).min()
        case "max_date":
            return pl.when(mask).then(pl.col("day")).max()
        case "days_since":
            last = pl.when(mask).then(pl.col("day")).max()
            return (pl.lit(as_of) - last).dt.total_days().cast(pl.Float64)
    msg = f"unsupported agg {spec.agg}"  # pragma: no cover
    raise AssertionError(msg)


def _money(spec: MetricSpec, mask: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(rows to keep, aggregate over a group of kept rows) of a sum/avg/ratio metric.

    Sums run only over the rows they add: a sequential ``cum_sum`` costs per row of the group, so
    filtering first (instead of adding 0.0 for every other row) is ~4x cheaper.
    """
    of = pl.col(spec.of or "amount")
    if spec.agg == "sum":
        return mask, _seq_sum(of)
    if spec.agg == "avg":
        return mask & of.is_not_null(), _seq_sum(of) / pl.len()
    over = pl.col(spec.over or "list_amount")
    den = _seq_sum(over)
    return mask & of.is_not_null() & over.is_not_null(), pl.when(den != 0).then(_seq_sum(of) / den)


def _dtype(spec: MetricSpec) -> pl.DataType:
    if spec.agg == "exists":
        return pl.Boolean()
    if spec.agg in ("min_date", "max_date"):
        return pl.Date()
    return pl.Float64()


def _calls(plan: EntityPlan) -> Iterator[tuple[str, MetricSpec, tuple[str, ...]]]:
    """(column, spec, args) of every metric column, in the plan's order."""
    for name, spec in plan.metrics.items():
        if spec.params:
            for args in sorted(plan.calls.get(name, set())):
                yield call_column(name, args), spec, args
        else:
            yield name, spec, ()


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
    plan: EntityPlan, dataset: Dataset, acts: pl.DataFrame, ids: pl.DataFrame, as_of: dt.date
) -> pl.DataFrame:
    """``ids`` (one ``id`` column) plus one column per metric and per parametrised call.

    ``acts`` comes from :func:`activity_rows` over (at least) this plan.
    """
    queries: list[pl.LazyFrame] = []
    conditional: dict[str, list[tuple[list[str], pl.Expr]]] = {}
    potentials: list[tuple[str, str | None]] = []
    columns: list[tuple[str, MetricSpec]] = []
    for column, spec, args in _calls(plan):
        columns.append((column, spec))
        if spec.agg == "potential":
            potentials.append((column, args[0] if args else None))
            continue
        if plan.entity == "contact":
            key = "contact_id"
        else:
            key = _ROLLUP if spec.from_contacts else "company_id"
        mask = _mask(spec, as_of, args)
        if spec.agg in _MONEY:
            keep, agg = _money(spec, mask)
            rows = acts.lazy().filter(keep & pl.col(key).is_not_null())
            queries.append(rows.group_by(key).agg(agg.alias(column)).rename({key: "id"}))
        else:
            types = [t.value for t in spec.types]
            conditional.setdefault(key, []).append(
                (types, _conditional(spec, mask, as_of).alias(column))
            )
    for key, parts in conditional.items():
        types = sorted({t for ts, _ in parts for t in ts})
        rows = acts.lazy().filter(pl.col("type").is_in(types) & pl.col(key).is_not_null())
        queries.append(rows.group_by(key).agg([e for _, e in parts]).rename({key: "id"}))
    out = ids.select("id")
    for per_key in pl.collect_all(queries):
        out = out.join(per_key, on="id", how="left", maintain_order="left")
    for column, family in potentials:
        frame = _potential_frame(dataset, as_of, family).rename(
            {"company_id": "id", "value": column}
        )
        out = out.join(frame, on="id", how="left", maintain_order="left")
    fills: list[pl.Expr] = []
    for column, spec in columns:
        fill = metric_fill(spec)
        col = pl.col(column).cast(_dtype(spec))
        fills.append(col.fill_null(fill) if fill is not None else col)
    return out.select("id", *fills)
