"""Vectorised evaluation: every record of an entity at once, in polars.

Order (DESIGN §2 "compute"): company fields → metrics → derived values and sets in dependency
order; then contacts, with every company value joined in as ``company.<name>``. Each rule
condition is one compiled polars expression (Kleene logic, nulls for unknown); a rule matches
only where its condition is true, so unknown never matches, and unknowns are counted per rule.

The working frame of each entity (all inputs and intermediate values) is kept in the result so
``explain`` can read one record's actual inputs without recomputing anything.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from crm_sync.model.frames import Dataset
from crm_sync.rules.aggregate import activity_rows, compute_metrics
from crm_sync.rules.compiled import (
    Derived,
    EntityPlan,
    Lifecycle,
    SegmentationModel,
    SegmentSet,
    TagSet,
)
from crm_sync.rules.derived import abc_column, chain_column, peer_median_column
from crm_sync.rules.expr import compile_expr
from crm_sync.rules.expr.compile import DTYPES
from crm_sync.rules.results import SAMPLE_IDS, Evaluation, RuleStats, SetStats, result_schema
from crm_sync.rules.schema import Entity
from crm_sync.rules.tagging import tag_lists

__all__ = ["base_frame", "evaluate", "row_select"]

_FIELD_DTYPES: dict[str, pl.DataType] = {
    "number": pl.Float64(),
    "string": pl.String(),
    "enum": pl.String(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
}


def base_frame(plan: EntityPlan, dataset: Dataset) -> pl.DataFrame:
    """id, the declared fields (cast to their type; missing columns are null) and link columns."""
    src = dataset.companies if plan.entity == "company" else dataset.contacts
    link = "parent_id" if plan.entity == "company" else "company_id"
    cols: list[pl.Expr] = [pl.col("id"), pl.col(link).alias(f"__{link}")]
    for name, spec in plan.fields.items():
        dtype = _FIELD_DTYPES[spec.type]
        if name in src.columns:
            cols.append(pl.col(name).cast(dtype, strict=False).alias(name))
        else:
            cols.append(pl.lit(None, dtype).alias(name))
    frame = src.select(cols)
    ids = frame["id"]
    if (
        len(ids) > 0
        and ids.null_count() == 0
        and ids.is_sorted()
        and not (ids.slice(1) == ids.slice(0, len(ids) - 1)).any()
    ):
        # Already unique and in id order (CRM exports and the store usually are): skip hashing
        # and re-sorting a million strings; the sorted flag lets later sorts and joins skip too.
        return frame.with_columns(pl.col("id").set_sorted())
    return frame.unique(subset="id", keep="first").sort("id")


class _Run:
    def __init__(self, model: SegmentationModel, as_of: dt.date) -> None:
        self.model = model
        self.as_of = as_of
        self.rule_stats: list[RuleStats] = []
        self.set_stats: dict[str, SetStats] = {}
        self.cutoffs: dict[str, Any] = {}

    def entity(self, plan: EntityPlan, frame: pl.DataFrame) -> pl.DataFrame:
        for node in plan.nodes:
            if isinstance(node, Derived):
                frame = self.derived(node, plan, frame)
            elif isinstance(node, SegmentSet):
                frame = self.segment(node, plan, frame)
            elif isinstance(node, TagSet):
                frame = self.tags(node, plan, frame)
            else:
                frame = self.lifecycle(node, plan, frame)
        return frame

    def cond(self, plan: EntityPlan, expr: Any) -> pl.Expr:
        return compile_expr(expr, plan.scope, as_of=self.as_of)

    # -- derived ----------------------------------------------------------------------------

    def derived(self, node: Derived, plan: EntityPlan, frame: pl.DataFrame) -> pl.DataFrame:
        spec = node.spec
        if spec.expr is not None:
            assert node.expr is not None
            value = self.cond(plan, node.expr).cast(DTYPES[node.type])
            return frame.with_columns(row_select(frame, [value.alias(node.name)]))
        if spec.abc is not None:
            frame, self.cutoffs[node.name] = abc_column(node.name, spec.abc, frame)
            self.set_stats[node.name] = SetStats(node.name, plan.entity, "abc", frame.height)
            return frame
        if spec.peer_median is not None:
            frame, self.cutoffs[node.name] = peer_median_column(node.name, spec.peer_median, frame)
            return frame
        assert spec.chain is not None
        hit = self.cond(plan, node.expr) if node.expr is not None else None
        return chain_column(node.name, spec.chain, frame, hit)

    # -- sets -------------------------------------------------------------------------------

    def _conditions(self, plan: EntityPlan, frame: pl.DataFrame, exprs: list[Any]) -> pl.DataFrame:
        conds = [self.cond(plan, e).alias(f"__r{i}") for i, e in enumerate(exprs)]
        return row_select(frame, [pl.col("id"), *conds])

    def segment(self, node: SegmentSet, plan: EntityPlan, frame: pl.DataFrame) -> pl.DataFrame:
        conds = self._conditions(plan, frame, [r.expr for r in node.rules])
        chain: Any = pl
        for i, rule in enumerate(node.rules):
            chain = chain.when(pl.col(f"__r{i}")).then(pl.lit(rule.id))
        otherwise = (
            pl.lit(node.otherwise, pl.String()) if node.otherwise else pl.lit(None, pl.String())
        )
        matches = pl.sum_horizontal(
            [pl.col(f"__r{i}").fill_null(False).cast(pl.Int32) for i in range(len(node.rules))]
        )
        conds = conds.with_columns(
            chain.otherwise(otherwise).alias("__value"), matches.alias("__n")
        )
        self._rule_stats(node.name, [r.id for r in node.rules], conds)
        multi = conds.filter(pl.col("__n") >= 2)["id"].sort()
        self.set_stats[node.name] = SetStats(
            node.name,
            plan.entity,
            "segment",
            conds.height,
            multi_match=multi.len(),
            multi_match_ids=tuple(multi.head(SAMPLE_IDS).to_list()),
            no_match=int((conds["__n"] == 0).sum()),
        )
        return frame.with_columns(conds["__value"].alias(node.name))

    def _rule_stats(self, set_name: str, ids: list[str], conds: pl.DataFrame) -> None:
        for i, rid in enumerate(ids):
            col = conds[f"__r{i}"]
            raw = int(col.fill_null(False).sum())
            kept = int((conds["__value"] == rid).sum()) if "__value" in conds.columns else raw
            self.rule_stats.append(RuleStats(set_name, rid, raw, kept, col.null_count()))

    def tags(self, node: TagSet, plan: EntityPlan, frame: pl.DataFrame) -> pl.DataFrame:
        conds = self._conditions(plan, frame, [r.expr for r in node.rules])
        self._rule_stats(node.name, [r.id for r in node.rules], conds)
        self.set_stats[node.name] = SetStats(node.name, plan.entity, "tag", conds.height)
        return frame.with_columns(tag_lists(conds, [r.id for r in node.rules]).alias(node.name))

    def lifecycle(self, node: Lifecycle, plan: EntityPlan, frame: pl.DataFrame) -> pl.DataFrame:
        conds = self._conditions(plan, frame, [t.rule.expr for t in node.transitions])
        if node.start_from:
            start = pl.col(node.start_from).cast(pl.String)
            conds = conds.with_columns(frame[node.start_from].alias("__start")).with_columns(
                pl.when(pl.col("__start").cast(pl.String).is_in(list(node.stages)))
                .then(pl.col("__start").cast(pl.String))
                .otherwise(pl.lit(node.initial))
                .alias("__stage")
            )
            _ = start
        else:
            conds = conds.with_columns(pl.lit(node.initial).alias("__stage"))
        fired_total = [0] * len(node.transitions)

        def step_exprs() -> tuple[pl.Expr, pl.Expr]:
            value: Any = pl
            which: Any = pl
            for i, t in enumerate(node.transitions):
                hit = pl.col("__stage").is_in(list(t.from_stages)) & pl.col(f"__r{i}").fill_null(
                    False
                )
                value = value.when(hit).then(pl.lit(t.to))
                which = which.when(hit).then(pl.lit(i))
            return value.otherwise(pl.col("__stage")), which.otherwise(pl.lit(None, pl.Int32))

        value_expr, which_expr = step_exprs()
        for _ in range(node.max_steps):
            step = conds.select(which_expr.alias("w"), value_expr.alias("v"))
            fired = step["w"].drop_nulls()
            if fired.len() == 0:
                break
            for i, n in fired.value_counts().iter_rows():
                fired_total[int(i)] += int(n)
            conds = conds.with_columns(step["v"].alias("__stage"))
        pending = conds.filter(conds.select(which_expr.is_not_null()).to_series())["id"].sort()
        for i, t in enumerate(node.transitions):
            col = conds[f"__r{i}"]
            self.rule_stats.append(
                RuleStats(
                    node.name,
                    t.id,
                    int(col.fill_null(False).sum()),
                    fired_total[i],
                    col.null_count(),
                )
            )
        self.set_stats[node.name] = SetStats(
            node.name,
            plan.entity,
            "lifecycle",
            conds.height,
            unsettled=pending.len(),
            unsettled_ids=tuple(pending.head(SAMPLE_IDS).to_list()),
        )
        return frame.with_columns(conds["__stage"].alias(node.name))


def row_select(frame: pl.DataFrame, exprs: list[pl.Expr]) -> pl.DataFrame:
    """``frame.select(exprs)`` with every result one value per row.

    Polars sometimes folds a compiled rule that does read columns into a single value (e.g.
    ``coalesce(0, x)`` becomes the literal ``0``) and then refuses to put that length-1 result
    next to full-length columns ("length 1 doesn't match the DataFrame height"). The value is
    the same on every row, so it is repeated to the frame's height. The fast path is one
    ``select``; only a frame that hits the polars quirk (or a select of nothing but scalars, which
    gives one row) evaluates expression by expression.
    """
    try:
        out = frame.select(exprs)
        if out.height == frame.height:
            return out
    except pl.exceptions.ShapeError:
        pass
    columns = []
    for expr in exprs:
        column = frame.select(expr).to_series()
        if column.len() == 1 and frame.height != 1:
            column = column.new_from_index(0, frame.height)
        columns.append(column)
    return pl.DataFrame(columns)


def _by_id(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame in id order. Every join keeps the left order, so this is usually a check."""
    if frame["id"].is_sorted():
        return frame
    return frame.sort("id")


def _company_columns(company: pl.DataFrame) -> pl.DataFrame:
    """Company values as ``company.<name>`` columns keyed by ``__company_id`` for the contact join."""
    keep = [c for c in company.columns if c != "id" and not c.startswith("__")]
    return company.select(
        pl.col("id").alias("__company_id"), *[pl.col(c).alias(f"company.{c}") for c in keep]
    )


def evaluate(model: SegmentationModel, dataset: Dataset, *, as_of: dt.date) -> Evaluation:
    """Evaluate every record of both entities at ``as_of``; deterministic for the same inputs."""
    run = _Run(model, as_of)
    frames: dict[Entity, pl.DataFrame] = {}
    acts = activity_rows(list(model.plans.values()), dataset, as_of)
    for entity in ("company", "contact"):
        plan = model.plans[entity]
        frame = base_frame(plan, dataset)
        metrics = compute_metrics(plan, dataset, acts, frame.select("id"), as_of)
        frame = frame.join(metrics, on="id", how="left", maintain_order="left")
        if entity == "contact":
            frame = frame.join(
                _company_columns(frames["company"]),
                on="__company_id",
                how="left",
                maintain_order="left",
            )
        frames[entity] = _by_id(run.entity(plan, frame))
    results: dict[Entity, pl.DataFrame] = {}
    for entity, frame in frames.items():
        schema = result_schema(model, entity)
        results[entity] = frame.select([pl.col(c).cast(t) for c, t in schema.items()])
    return Evaluation(
        as_of=as_of,
        ruleset=model.ruleset,
        fingerprint=model.fingerprint,
        results=results,
        frames=frames,
        rule_stats=run.rule_stats,
        set_stats=run.set_stats,
        cutoffs=run.cutoffs,
    )
