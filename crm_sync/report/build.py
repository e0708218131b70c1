"""Assemble every metric into one JSON-ready report: what ``--json`` prints and the HTML draws.

The HTML renderer reads only this dictionary, so the charts and ``--json`` can never disagree.
Series over time are kept small (per run × set × value, never per record); the one per-record
section, the relationship map, is a deterministic sample of at most ``scatter_max`` companies:
companies with both coordinates known, ordered by id, every ⌈n / scatter_max⌉-th one taken.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from crm_sync.report import dynamics, metrics, ops
from crm_sync.report.frames import DEFAULT_CONVERSIONS, Conversion, Snapshots

__all__ = ["ReportOptions", "build_report"]


@dataclass(frozen=True)
class ReportOptions:
    """Knobs of the report; the defaults are the documented ones."""

    reference_run: int | None = None  # PSI reference; default: the first run
    flapping_window: int = 5  # k transitions (k + 1 runs)
    conversions: Sequence[Conversion] = DEFAULT_CONVERSIONS
    now: dt.datetime | None = None  # freshness "now"; default: the clock
    scatter_max: int = 2000
    sla: dt.timedelta = ops.DEFAULT_SLA
    extra: dict[str, Any] = field(default_factory=dict)


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Frame -> list of dicts with JSON-safe floats (NaN/inf become null)."""
    out = frame.to_dicts()
    for row in out:
        for k, v in row.items():
            if isinstance(v, float) and not math.isfinite(v):
                row[k] = None
            elif isinstance(v, dt.date | dt.datetime):
                row[k] = v.isoformat()
    return out


def _relationship_map(snap: Snapshots, run: int, limit: int) -> dict[str, Any]:
    facts = snap.facts.filter((pl.col("run") == run) & (pl.col("entity") == "company"))
    vals = snap.values.filter((pl.col("run") == run) & (pl.col("set") == snap.relationship_set))
    joined = facts.join(vals.select("id", "value"), on="id", how="left")
    known = joined.filter(
        pl.col("share_of_wallet").is_not_null() & pl.col("price_index").is_not_null()
    ).sort("id")
    step = max(1, math.ceil(known.height / limit)) if limit > 0 else 1
    sample = known.gather_every(step).head(limit)
    counts = joined.group_by("value").len().sort("value")
    return {
        "run": run,
        "set": snap.relationship_set,
        "thresholds": {"share_of_wallet": snap.thresholds[0], "price_index": snap.thresholds[1]},
        "companies": joined.height,
        "plotted_of": known.height,
        "unknown_coordinates": joined.height - known.height,
        "sampled": sample.height,
        "sample_rule": "all companies with both coordinates"
        if step == 1
        else f"companies with both coordinates, ordered by id, every {step}th",
        "counts": {str(v): int(n) for v, n in counts.iter_rows()},
        "points": [
            [round(float(x), 4), round(float(y), 4), v]
            for x, y, v in sample.select("share_of_wallet", "price_index", "value").iter_rows()
        ],
    }


def _set_dynamics(
    snap: Snapshots,
    runs: list[int],
    ref: int,
    opts: ReportOptions,
    *,
    tables: dict[str, pl.DataFrame],
    sizes: pl.DataFrame,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    transitions: list[dict[str, Any]] = []
    drift: list[dict[str, Any]] = []
    for info in snap.sets.values():
        if info.kind != "single":
            continue
        entry: dict[str, Any] = {
            "set": info.name,
            "entity": info.entity,
            "values": list(info.values),
        }
        table = tables[info.name]
        if len(runs) >= 2:
            matrix = dynamics.transition_matrix(table, runs[-2], runs[-1])
            stab, n = dynamics.stability_of(matrix)
            entry.update(
                {
                    "from_run": runs[-2],
                    "to_run": runs[-1],
                    "records": n,
                    "stability": stab,
                    "matrix": _rows(matrix),
                    "dwell_runs": dynamics.dwell_times(matrix),
                    "series": _rows(dynamics.stability_series(table, runs)),
                    "flapping": {
                        "k": opts.flapping_window,
                        **dynamics.flapping(table, runs, opts.flapping_window),
                    },
                }
            )
        transitions.append(entry)
        counts: dict[int, dict[str, int]] = {r: {} for r in runs}
        for r, v, n in (
            sizes.filter((pl.col("set") == info.name) & (pl.col("n") > 0))
            .select("run", "value", "n")
            .iter_rows()
        ):
            counts[int(r)][str(v)] = int(n)
        total, bins = dynamics.psi_counts(info, counts[ref], counts[runs[-1]])
        series = [
            {"run": r, "psi": dynamics.psi_counts(info, counts[ref], counts[r])[0]} for r in runs
        ]
        drift.append(
            {
                "set": info.name,
                "reference_run": ref,
                "current_run": runs[-1],
                "psi": total,
                "level": "act" if total >= 0.25 else "watch" if total >= 0.10 else "stable",
                "bins": _rows(bins),
                "series": series,
            }
        )
    return transitions, drift


def build_report(snap: Snapshots, opts: ReportOptions | None = None) -> dict[str, Any]:
    """Every metric of issue #7 over ``snap``, as one JSON-ready dictionary."""
    opts = opts or ReportOptions()
    runs = snap.run_ids()
    if not runs:
        return {"ok": False, "error": "no runs to report on", "runs": []}
    ref = opts.reference_run if opts.reference_run in runs else runs[0]
    last = runs[-1]
    sizes = metrics.segment_sizes(snap.values, snap.facts, snap.sets, runs)
    per_field, per_owner = metrics.completeness(snap.fields)
    overlap_share, jaccard = metrics.overlap(snap.multi, snap.pairs)
    quality = metrics.rule_quality(snap.rules)
    tables = {
        s.name: dynamics.wide(snap.values, s.name, runs)
        for s in snap.sets.values()
        if s.kind == "single"
    }
    transitions, drift = _set_dynamics(snap, runs, ref, opts, tables=tables, sizes=sizes)
    lifts = []
    for conv in opts.conversions:
        if conv.set not in snap.sets:
            continue
        overall, table = dynamics.lift(tables, conv, snap.sets, runs)
        lifts.append(
            {
                "conversion": conv.describe(),
                "entity": conv.entity,
                "set": conv.set,
                **overall,
                "segments": _rows(table),
            }
        )
    now = opts.now or dt.datetime.now(dt.UTC)
    tag_names = [s.name for s in snap.sets.values() if s.kind == "multi"]
    return {
        "ok": True,
        "origin": snap.origin,
        "runs": _rows(snap.runs.sort("run")),
        "current_run": last,
        "reference_run": ref,
        "sets": {
            name: {
                "entity": s.entity,
                "kind": s.kind,
                "values": list(s.values),
                "catch_all": s.catch_all,
                "label": s.label,
            }
            for name, s in snap.sets.items()
        },
        "coverage": _rows(metrics.coverage(snap.values, snap.sets)),
        "tag_prevalence": _rows(
            sizes.filter(pl.col("set").is_in(tag_names)).select(
                "run", "set", "value", "n", "records", "share"
            )
        ),
        "overlap": {
            "multi_match": _rows(overlap_share),
            "pairs": _rows(jaccard.filter(pl.col("run") == last)),
        },
        "rules": _rows(quality),
        "completeness": {
            "fields": _rows(per_field),
            "owners": _rows(per_owner),
        },
        "sizes": _rows(sizes),
        "transitions": transitions,
        "drift": drift,
        "lift": lifts,
        "freshness": ops.freshness(snap.runs, snap.sources, now, opts.sla),
        "reconciliation": ops.reconciliation(snap.crm),
        "relationship_map": _relationship_map(snap, last, opts.scatter_max),
    }
