"""Build report snapshots from evaluations: a data file at several ``as_of`` dates, no CRM needed.

``crm-sync report --data FILE --runs N --step 30`` evaluates the model at N dates ``step`` days
apart ending at the latest activity, and treats each evaluation as one run. That is how an admin
sees how segments would have developed, and it is the reference path the store-backed history
(:mod:`crm_sync.report.store_source`) must agree with.

``computed_at`` of an evaluated run is the end of its ``as_of`` day (UTC), because activities of
that whole day count. Source freshness is the newest activity and potential row on or before
``as_of`` (records carry no modification time in a data file).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from crm_sync.model.frames import Dataset
from crm_sync.report.frames import (
    FACT_SCHEMA,
    FIELD_SCHEMA,
    MULTI_SCHEMA,
    PAIR_SCHEMA,
    RULE_SCHEMA,
    RUN_SCHEMA,
    SOURCE_SCHEMA,
    VALUE_SCHEMA,
    Snapshots,
)
from crm_sync.report.metrics import rule_match_stats
from crm_sync.report.modelinfo import required_fields, sets_from_model, thresholds
from crm_sync.rules.compiled import SegmentationModel
from crm_sync.rules.engine import evaluate
from crm_sync.rules.expr import compile_expr
from crm_sync.rules.results import Evaluation

__all__ = ["FACT_COLUMNS", "as_of_dates", "snapshots_from_data", "snapshots_from_evaluations"]

FACT_COLUMNS = {
    "revenue": "revenue_12m",
    "potential": "potential_annual",
    "share_of_wallet": "share_of_wallet",
    "price_index": "price_index",
}
"""Report fact -> model column (companies). Missing columns give null facts, not errors."""

EXTRA_FIELDS = {"company": ["potential_annual"]}
"""Tracked for completeness besides ``required: true`` fields: potential is the weak link (§1.3)."""


def as_of_dates(latest: dt.date, runs: int, step_days: int) -> list[dt.date]:
    """``runs`` dates ``step_days`` apart, oldest first, ending at ``latest``."""
    return [latest - dt.timedelta(days=step_days * (runs - 1 - i)) for i in range(runs)]


def _values(run: int, ev: Evaluation, model: SegmentationModel) -> pl.DataFrame:
    parts: list[pl.DataFrame] = []
    for out in model.outputs():
        frame = ev.results[out.entity]
        col = frame.select("id", pl.col(out.name).alias("value"))
        if out.kind == "multi":
            col = col.explode("value").drop_nulls("value")
        parts.append(
            col.select(
                pl.lit(run, pl.Int64).alias("run"),
                pl.lit(out.entity).alias("entity"),
                "id",
                pl.lit(out.name).alias("set"),
                pl.col("value").cast(pl.String),
            )
        )
    return pl.concat(parts) if parts else pl.DataFrame(schema=VALUE_SCHEMA)


def _owners(dataset: Dataset, entity: str) -> pl.DataFrame:
    src = dataset.companies if entity == "company" else dataset.contacts
    return src.select("id", pl.col("owner").cast(pl.String)).unique("id", keep="first")


def _facts(run: int, ev: Evaluation, dataset: Dataset) -> pl.DataFrame:
    parts = []
    for entity, frame in ev.frames.items():
        cols = [
            (
                pl.col(src).cast(pl.Float64)
                if entity == "company" and src in frame.columns
                else pl.lit(None, pl.Float64)
            ).alias(name)
            for name, src in FACT_COLUMNS.items()
        ]
        facts = frame.select("id", *cols).join(_owners(dataset, entity), on="id", how="left")
        parts.append(
            facts.with_columns(
                pl.lit(run, pl.Int64).alias("run"), pl.lit(str(entity)).alias("entity")
            )
        )
    return pl.concat(parts).select(list(FACT_SCHEMA))


def _fields(run: int, ev: Evaluation, dataset: Dataset, model: SegmentationModel) -> pl.DataFrame:
    required = required_fields(model)
    parts = []
    for entity, frame in ev.frames.items():
        names = [*required.get(str(entity), []), *EXTRA_FIELDS.get(str(entity), [])]
        owners = _owners(dataset, entity)
        for name in names:
            known = pl.col(name).is_not_null() if name in frame.columns else pl.lit(False)
            part = frame.select("id", known.alias("known")).join(owners, on="id", how="left")
            parts.append(
                part.with_columns(
                    pl.lit(run, pl.Int64).alias("run"),
                    pl.lit(str(entity)).alias("entity"),
                    pl.lit(name).alias("field"),
                )
            )
    return (
        pl.concat(parts).select(list(FIELD_SCHEMA)) if parts else pl.DataFrame(schema=FIELD_SCHEMA)
    )


def _rule_frames(
    run: int, ev: Evaluation, model: SegmentationModel
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    rules = [
        (run, s.set, s.rule, s.raw, s.kept, s.unknown, ev.set_stats[s.set].records)
        for s in ev.rule_stats
    ]
    pairs: list[pl.DataFrame] = []
    multi: list[pl.DataFrame] = []
    for seg in model.segments.values():
        frame = ev.frames[seg.entity]
        plan = model.plans[seg.entity]
        matrix = frame.select(
            [compile_expr(r.expr, plan.scope, as_of=ev.as_of).alias(r.id) for r in seg.rules]
        )
        _, p, m = rule_match_stats(
            run, seg.name, matrix, [r.id for r in seg.rules], frame[seg.name]
        )
        pairs.append(p)
        multi.append(m)
    return (
        pl.DataFrame(rules, schema=RULE_SCHEMA, orient="row"),
        pl.concat(pairs) if pairs else pl.DataFrame(schema=PAIR_SCHEMA),
        pl.concat(multi) if multi else pl.DataFrame(schema=MULTI_SCHEMA),
    )


def _sources(run: int, dataset: Dataset, as_of: dt.date) -> pl.DataFrame:
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC)
    rows: list[tuple[int, str, dt.datetime | None]] = []
    acts = dataset.activities.filter(pl.col("occurred_at") < end.replace(tzinfo=None))
    latest = acts["occurred_at"].max() if acts.height else None
    rows.append(
        (
            run,
            "activities",
            latest.replace(tzinfo=dt.UTC) if isinstance(latest, dt.datetime) else None,
        )
    )
    pots = dataset.potentials.filter(pl.col("valid_from") <= as_of)
    newest = pots["valid_from"].max() if pots.height else None
    rows.append(
        (
            run,
            "potentials",
            dt.datetime.combine(newest, dt.time(), dt.UTC) if isinstance(newest, dt.date) else None,
        )
    )
    return pl.DataFrame(rows, schema=SOURCE_SCHEMA, orient="row")


def snapshots_from_evaluations(
    model: SegmentationModel,
    evaluations: Sequence[Evaluation],
    dataset: Dataset,
    *,
    origin: str = "evaluations",
) -> Snapshots:
    """One run per evaluation (in the given order); ``dataset`` supplies owners and sources."""
    runs, values, facts, fields, rules, pairs, multi, sources = ([] for _ in range(8))
    for run, ev in enumerate(evaluations, start=1):
        computed = dt.datetime.combine(ev.as_of + dt.timedelta(days=1), dt.time(), dt.UTC)
        runs.append((run, ev.as_of, computed, ev.fingerprint))
        values.append(_values(run, ev, model))
        facts.append(_facts(run, ev, dataset))
        fields.append(_fields(run, ev, dataset, model))
        r, p, m = _rule_frames(run, ev, model)
        rules.append(r)
        pairs.append(p)
        multi.append(m)
        sources.append(_sources(run, dataset, ev.as_of))
    return Snapshots(
        sets=sets_from_model(model),
        runs=pl.DataFrame(runs, schema=RUN_SCHEMA, orient="row"),
        values=pl.concat(values),
        facts=pl.concat(facts),
        fields=pl.concat(fields),
        rules=pl.concat(rules),
        pairs=pl.concat(pairs),
        multi=pl.concat(multi),
        sources=pl.concat(sources),
        thresholds=thresholds(model),
        origin=origin,
    )


def snapshots_from_data(
    model: SegmentationModel, dataset: Dataset, dates: Sequence[dt.date], *, origin: str = ""
) -> Snapshots:
    """Evaluate ``model`` on ``dataset`` at each date and turn the evaluations into snapshots."""
    evaluations = [evaluate(model, dataset, as_of=day) for day in dates]
    return snapshots_from_evaluations(model, evaluations, dataset, origin=origin or "data file")
