"""Population-level derived values over a whole entity frame: ABC classes, peer medians, chains.

Split out of :mod:`crm_sync.rules.engine`, which calls these for ``abc``, ``peer_median`` and
``chain`` nodes and keeps the statistics. Each must equal its pure-Python counterpart in
:mod:`crm_sync.rules.population` exactly (the reference evaluator's), hence the choices below:
ranking ties broken by id, sums accumulated one value at a time in a fixed order, medians from
:func:`~crm_sync.rules.population.median`, and no polars division by a scalar (polars multiplies
by the reciprocal, which is not always the same float).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from crm_sync.rules.population import abc_cutoffs, median
from crm_sync.rules.schema import AbcSpec, ChainSpec, PeerMedianSpec

__all__ = ["abc_column", "chain_column", "peer_median_column"]


def _abc_class(abc: AbcSpec, share: float) -> str:
    """The first class whose share limit is above ``share`` (as ``abc_py`` assigns it)."""
    for name, limit in abc.classes.items():
        if share < limit:
            return name
    return abc.otherwise


def abc_column(name: str, abc: AbcSpec, frame: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, Any]]:
    """``frame`` with the ABC class column ``name``, and the cut-offs of the run."""
    ranked = (
        frame.select("id", pl.col(abc.by).cast(pl.Float64).alias("v"))
        .filter(pl.col("v").is_not_null() & (pl.col("v") > 0))
        .sort(["v", "id"], descending=[True, False])
    )
    # Shares in Python, as the reference does: polars divides a column by a scalar as a
    # multiplication by its reciprocal (4400 / 5500 gave 0.7999999999999999, which put a
    # record on the wrong side of an 80 % limit). One loop over the ranked records.
    values = ranked["v"].to_list()
    total, befores = 0.0, []
    for v in values:
        befores.append(total)
        total += v
    names = [_abc_class(abc, before / total) for before in befores]
    classes = ranked.select("id").with_columns(pl.Series(name, names, pl.String()))
    cutoffs = abc_cutoffs(abc, total, list(zip(names, values, strict=True)))
    frame = frame.join(classes, on="id", how="left", maintain_order="left")
    return frame.with_columns(pl.col(name).fill_null(abc.otherwise)), cutoffs


def peer_median_column(
    name: str, pm: PeerMedianSpec, frame: pl.DataFrame
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """``frame`` with ``name`` = value / median of its group, and the medians per group."""
    group = pl.col(pm.group_by) if pm.group_by else pl.lit("all")
    pairs = frame.select(group.alias("g"), pl.col(pm.of).cast(pl.Float64).alias("v"))
    grouped = (
        pairs.filter(pl.col("g").is_not_null() & pl.col("v").is_not_null())
        .group_by("g")
        .agg(pl.col("v"))
    )
    medians = {g: median(vs) for g, vs in grouped.iter_rows()}
    cutoffs = {
        "of": pm.of,
        "group_by": pm.group_by,
        "medians": {str(g): m for g, m in sorted(medians.items(), key=lambda kv: str(kv[0]))},
    }
    table = pl.DataFrame(
        {"__g": list(medians), "__median": list(medians.values())},
        schema={"__g": pairs.schema["g"], "__median": pl.Float64()},
    )
    frame = frame.with_columns(group.alias("__g")).join(
        table, on="__g", how="left", maintain_order="left"
    )
    v = pl.col(pm.of).cast(pl.Float64)
    value = pl.when(pl.col("__median") != 0).then(v / pl.col("__median"))
    return frame.with_columns(value.alias(name)).drop("__g", "__median"), cutoffs


def chain_column(
    name: str, ch: ChainSpec, frame: pl.DataFrame, hit: pl.Expr | None
) -> pl.DataFrame:
    """``frame`` with ``name`` = the chain aggregate over members (in id order), per member and head.

    ``hit`` is the compiled member condition (share and count), None for a plain count or a sum.
    """
    if ch.agg == "sum":
        assert ch.of is not None
        member_value = pl.col(ch.of).cast(pl.Float64).fill_null(0.0)
        agg = member_value.cum_sum().last()
    else:
        assert hit is not None or ch.agg == "count"
        member = hit.fill_null(False) if hit is not None else pl.lit(True)
        agg = (
            member.cast(pl.Float64).sum() / pl.len()
            if ch.agg == "share"
            else member.cast(pl.Float64).sum()
        )
    per_chain = (
        frame.filter(pl.col("__parent_id").is_not_null())
        .sort("id")
        .group_by("__parent_id", maintain_order=True)
        .agg(agg.cast(pl.Float64).alias(name))
        .rename({"__parent_id": "__chain"})
    )
    heads = per_chain["__chain"]
    key = pl.coalesce(
        pl.col("__parent_id"), pl.when(pl.col("id").is_in(heads.implode())).then(pl.col("id"))
    )
    return (
        frame.with_columns(key.alias("__chain"))
        .join(per_chain, on="__chain", how="left", maintain_order="left")
        .drop("__chain")
    )
