"""The per-record reference evaluator: plain Python loops, the oracle for the vectorised engine.

It computes the same :class:`~crm_sync.rules.results.Evaluation` as
:func:`crm_sync.rules.engine.evaluate` the slow, obvious way: metrics by looping over one
record's activities, rules through the expression language's reference evaluator. Property tests
assert both agree on random data; the benchmark uses this as the per-record baseline.

Population-level values (ABC classes, peer medians, chain roll-ups) need every record. With
``ids=None`` they are computed here in pure Python over the whole population. With a sample
(``ids={"company": [...], "contact": [...]}``) they are taken from a vectorised run for the
sampled records, as are the cut-offs; everything else (metrics, expressions, sets, lifecycles)
is still computed per record. Statistics then cover the sample only. Contacts in the sample
bring their companies into the company sample, since contact rules read ``company.<name>``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from crm_sync.model.frames import Dataset
from crm_sync.rules.compiled import (
    Derived,
    EntityPlan,
    Lifecycle,
    SegmentationModel,
    SegmentSet,
    TagSet,
    call_column,
)
from crm_sync.rules.engine import base_frame
from crm_sync.rules.engine import evaluate as evaluate_vectorised
from crm_sync.rules.expr import evaluate as evaluate_expr
from crm_sync.rules.metrics import ActivityIndex, metric_reference, potential_reference
from crm_sync.rules.population import abc_py, chain_py, peer_median_py
from crm_sync.rules.results import SAMPLE_IDS, Evaluation, RuleStats, SetStats, result_schema
from crm_sync.rules.schema import Entity

__all__ = ["evaluate_reference"]

Row = dict[str, Any]


class _RefRun:
    def __init__(self, model: SegmentationModel, as_of: dt.date, vector: Evaluation | None) -> None:
        self.model = model
        self.as_of = as_of
        self.vector = vector
        self.rule_stats: list[RuleStats] = []
        self.set_stats: dict[str, SetStats] = {}
        self.cutoffs: dict[str, Any] = {}

    def cond(self, plan: EntityPlan, expr: Any, row: Row) -> Any:
        return evaluate_expr(expr, row, plan.scope, as_of=self.as_of)

    def metrics(self, plan: EntityPlan, rows: list[Row], index: ActivityIndex) -> None:
        for row in rows:
            for name, spec in plan.metrics.items():
                calls = sorted(plan.calls.get(name, set())) if spec.params else [()]
                for args in calls:
                    column = call_column(name, args) if spec.params else name
                    if spec.agg == "potential":
                        row[column] = potential_reference(index.potentials.get(row["id"], []), args)
                    else:
                        acts = index.rows(plan.entity, row["id"], spec)
                        row[column] = metric_reference(spec, acts, self.as_of, args)

    def nodes(self, plan: EntityPlan, rows: list[Row]) -> None:
        for node in plan.nodes:
            if isinstance(node, Derived):
                self.derived(node, plan, rows)
            elif isinstance(node, SegmentSet):
                self.segment(node, plan, rows)
            elif isinstance(node, TagSet):
                self.tags(node, plan, rows)
            else:
                self.lifecycle(node, plan, rows)

    def _from_vector(self, node: Derived, rows: list[Row]) -> None:
        assert self.vector is not None
        frame = self.vector.frames[node.entity].select("id", node.name)
        values = dict(frame.iter_rows())
        for row in rows:
            row[node.name] = values.get(row["id"])
        if node.name in self.vector.cutoffs:
            self.cutoffs[node.name] = self.vector.cutoffs[node.name]

    def derived(self, node: Derived, plan: EntityPlan, rows: list[Row]) -> None:
        spec = node.spec
        if spec.expr is not None:
            for row in rows:
                row[node.name] = self.cond(plan, node.expr, row)
            return
        if spec.abc is not None:
            self.set_stats[node.name] = SetStats(node.name, plan.entity, "abc", len(rows))
        if self.vector is not None:
            self._from_vector(node, rows)
            return
        ids = [r["id"] for r in rows]
        if spec.abc is not None:
            by = {r["id"]: _num(r[spec.abc.by]) for r in rows}
            classes, self.cutoffs[node.name] = abc_py(by, spec.abc)
            for row in rows:
                row[node.name] = classes[row["id"]]
        elif spec.peer_median is not None:
            pm = spec.peer_median
            values = {r["id"]: _num(r[pm.of]) for r in rows}
            groups = {r["id"]: (r[pm.group_by] if pm.group_by else "all") for r in rows}
            out, medians = peer_median_py(values, groups)
            self.cutoffs[node.name] = {"of": pm.of, "group_by": pm.group_by, "medians": medians}
            for row in rows:
                row[node.name] = out[row["id"]]
        else:
            ch = spec.chain
            assert ch is not None
            parents = {r["id"]: r["__parent_id"] for r in rows}
            conditions = (
                {r["id"]: self.cond(plan, node.expr, r) for r in rows}
                if node.expr is not None
                else None
            )
            numbers = {r["id"]: _num(r[ch.of]) for r in rows} if ch.of else None
            out_chain = chain_py(parents, ch, conditions, numbers)
            for rid, row in zip(ids, rows, strict=True):
                row[node.name] = out_chain[rid]

    def segment(self, node: SegmentSet, plan: EntityPlan, rows: list[Row]) -> None:
        raw = [0] * len(node.rules)
        unknown = [0] * len(node.rules)
        kept = [0] * len(node.rules)
        multi: list[str] = []
        no_match = 0
        for row in rows:
            results = [self.cond(plan, r.expr, row) for r in node.rules]
            hits = [i for i, v in enumerate(results) if v is True]
            for i, v in enumerate(results):
                raw[i] += v is True
                unknown[i] += v is None
            if hits:
                kept[hits[0]] += 1
                row[node.name] = node.rules[hits[0]].id
            else:
                no_match += 1
                row[node.name] = node.otherwise
            if len(hits) >= 2:
                multi.append(row["id"])
        for i, r in enumerate(node.rules):
            self.rule_stats.append(RuleStats(node.name, r.id, raw[i], kept[i], unknown[i]))
        multi.sort()
        self.set_stats[node.name] = SetStats(
            node.name,
            plan.entity,
            "segment",
            len(rows),
            multi_match=len(multi),
            multi_match_ids=tuple(multi[:SAMPLE_IDS]),
            no_match=no_match,
        )

    def tags(self, node: TagSet, plan: EntityPlan, rows: list[Row]) -> None:
        raw = [0] * len(node.rules)
        unknown = [0] * len(node.rules)
        for row in rows:
            values: list[str] = []
            for i, r in enumerate(node.rules):
                v = self.cond(plan, r.expr, row)
                raw[i] += v is True
                unknown[i] += v is None
                if v is True:
                    values.append(r.id)
            row[node.name] = sorted(values)
        for i, r in enumerate(node.rules):
            self.rule_stats.append(RuleStats(node.name, r.id, raw[i], raw[i], unknown[i]))
        self.set_stats[node.name] = SetStats(node.name, plan.entity, "tag", len(rows))

    def lifecycle(self, node: Lifecycle, plan: EntityPlan, rows: list[Row]) -> None:
        n = len(node.transitions)
        raw, unknown, fired = [0] * n, [0] * n, [0] * n
        pending: list[str] = []
        for row in rows:
            results = [self.cond(plan, t.rule.expr, row) for t in node.transitions]
            for i, v in enumerate(results):
                raw[i] += v is True
                unknown[i] += v is None
            stage, path = run_lifecycle(node, row, results)
            for i in path:
                fired[i] += 1
            row[node.name] = stage
            if _next(node, stage, results) is not None:
                pending.append(row["id"])
        for i, t in enumerate(node.transitions):
            self.rule_stats.append(RuleStats(node.name, t.id, raw[i], fired[i], unknown[i]))
        pending.sort()
        self.set_stats[node.name] = SetStats(
            node.name,
            plan.entity,
            "lifecycle",
            len(rows),
            unsettled=len(pending),
            unsettled_ids=tuple(pending[:SAMPLE_IDS]),
        )


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _next(node: Lifecycle, stage: str, results: list[Any]) -> int | None:
    for i, t in enumerate(node.transitions):
        if stage in t.from_stages and results[i] is True:
            return i
    return None


def run_lifecycle(node: Lifecycle, row: Row, results: list[Any]) -> tuple[str, list[int]]:
    """The final stage of one record and the indexes of the transitions taken, in order."""
    start = row.get(node.start_from) if node.start_from else None
    stage = str(start) if start is not None and str(start) in node.stages else node.initial
    path: list[int] = []
    for _ in range(node.max_steps):
        i = _next(node, stage, results)
        if i is None:
            break
        path.append(i)
        stage = node.transitions[i].to
    return stage, path


def _rows(plan: EntityPlan, dataset: Dataset, ids: set[str] | None) -> list[Row]:
    frame = base_frame(plan, dataset)
    if ids is not None:
        frame = frame.filter(pl.col("id").is_in(sorted(ids)))
    return list(frame.iter_rows(named=True))


def evaluate_reference(
    model: SegmentationModel,
    dataset: Dataset,
    *,
    as_of: dt.date,
    ids: dict[str, list[str]] | None = None,
) -> Evaluation:
    """Evaluate record by record; with ``ids``, only those records (see the module docstring)."""
    index = ActivityIndex.build(dataset, as_of)
    vector = evaluate_vectorised(model, dataset, as_of=as_of) if ids is not None else None
    run = _RefRun(model, as_of, vector)
    contact_ids: set[str] | None = None
    company_ids: set[str] | None = None
    if ids is not None:
        contact_ids = set(ids.get("contact", []))
        owners = dataset.contacts.filter(pl.col("id").is_in(sorted(contact_ids)))["company_id"]
        company_ids = set(ids.get("company", [])) | {c for c in owners.to_list() if c is not None}
    rows: dict[Entity, list[Row]] = {}
    company_rows = _rows(model.plans["company"], dataset, company_ids)
    run.metrics(model.plans["company"], company_rows, index)
    run.nodes(model.plans["company"], company_rows)
    rows["company"] = company_rows
    by_company = {r["id"]: r for r in company_rows}
    contact_rows = _rows(model.plans["contact"], dataset, contact_ids)
    run.metrics(model.plans["contact"], contact_rows, index)
    for row in contact_rows:
        company = by_company.get(row["__company_id"], {})
        for key, value in company.items():
            if key != "id" and not key.startswith("__"):
                row[f"company.{key}"] = value
    run.nodes(model.plans["contact"], contact_rows)
    rows["contact"] = contact_rows
    results: dict[Entity, pl.DataFrame] = {}
    frames: dict[Entity, pl.DataFrame] = {}
    for entity, entity_rows in rows.items():
        schema = result_schema(model, entity)
        data = {c: [r.get(c) for r in entity_rows] for c in schema}
        results[entity] = pl.DataFrame(data, schema=schema).sort("id")
        frames[entity] = (
            pl.DataFrame(entity_rows, infer_schema_length=None) if entity_rows else results[entity]
        )
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
