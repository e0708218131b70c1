"""Operational trust (domain-model §3, measures 14–15): freshness and push reconciliation.

A segmentation nobody trusts is one that is stale or that the CRM no longer shows. Formulas:

* segment age = now − computed_at of the latest run;
* source lag = computed_at − max(updated_at) per source (records, activities, potentials ...),
  i.e. how old the newest data was when the segments were computed; a source is *late* when its
  lag exceeds the SLA (default 26 h: a nightly run plus slack);
* reconciliation = share of CRM values equal to the computed ones (null == null counts as equal;
  multi-valued values compare as sorted ``;``-joined text), and manual overrides = values where
  crm_sync wrote something (``pushed`` not null) and the CRM now holds something else.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

__all__ = ["DEFAULT_SLA", "freshness", "reconciliation"]

DEFAULT_SLA = dt.timedelta(hours=26)


def _hours(delta: dt.timedelta | None) -> float | None:
    return None if delta is None else delta.total_seconds() / 3600.0


def freshness(
    runs: pl.DataFrame,
    sources: pl.DataFrame,
    now: dt.datetime,
    sla: dt.timedelta = DEFAULT_SLA,
) -> dict[str, object]:
    """Age of the latest run's segments and, per source, the lag of its newest change."""
    if runs.height == 0:
        return {"run": None, "computed_at": None, "age_hours": None, "sources": []}
    latest = runs.sort("run").row(-1, named=True)
    computed: dt.datetime | None = latest["computed_at"]
    rows = sources.filter(pl.col("run") == latest["run"]).sort("source")
    out = []
    for source, updated in rows.select("source", "updated_at").iter_rows():
        lag = computed - updated if computed is not None and updated is not None else None
        out.append(
            {
                "source": source,
                "updated_at": updated.isoformat() if updated else None,
                "lag_hours": _hours(lag),
                "late": bool(lag is not None and lag > sla),
            }
        )
    return {
        "run": int(latest["run"]),
        "computed_at": computed.isoformat() if computed else None,
        "age_hours": _hours(now - computed) if computed else None,
        "sla_hours": _hours(sla),
        "sources": out,
    }


def reconciliation(crm: pl.DataFrame) -> dict[str, object]:
    """Share of CRM values equal to the computed ones, and manual overrides, overall and per property."""
    if crm.height == 0:
        return {"values": 0, "equal": 0, "equal_share": None, "overrides": 0, "properties": []}
    marked = crm.with_columns(
        pl.col("crm").eq_missing(pl.col("computed")).alias("equal"),
        (pl.col("pushed").is_not_null() & pl.col("crm").ne_missing(pl.col("pushed"))).alias(
            "override"
        ),
    )
    per = (
        marked.group_by("entity", "property")
        .agg(
            pl.len().cast(pl.Int64).alias("values"),
            pl.col("equal").sum().cast(pl.Int64).alias("equal"),
            pl.col("override").sum().cast(pl.Int64).alias("overrides"),
        )
        .with_columns((pl.col("equal") / pl.col("values")).alias("equal_share"))
        .sort("entity", "property")
    )
    equal = int(marked["equal"].sum())
    return {
        "values": marked.height,
        "equal": equal,
        "equal_share": equal / marked.height,
        "overrides": int(marked["override"].sum()),
        "properties": per.to_dicts(),
    }
