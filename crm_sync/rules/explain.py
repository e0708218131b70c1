"""Explain one record: every value, the rule that decided it, and each clause with its inputs.

DESIGN §4 "Explain": an admin (or a salesperson asking "why is this account a stranger?") must
see, for one record, every set's value, the deciding rule (or ``otherwise``), and every clause
of every rule with the actual values it read and whether it was true, false or unknown. The
values come from the vectorised run (so they are exactly what would be pushed); the clause
traces come from the reference evaluator, which the property tests keep in agreement with it.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import polars as pl

from crm_sync.errors import ConfigError
from crm_sync.model.frames import Dataset
from crm_sync.rules.compiled import (
    CompiledRule,
    Derived,
    EntityPlan,
    Lifecycle,
    SegmentationModel,
    SegmentSet,
    TagSet,
    call_column,
)
from crm_sync.rules.engine import evaluate
from crm_sync.rules.expr import ClauseTrace
from crm_sync.rules.expr import evaluate as evaluate_expr
from crm_sync.rules.reference import run_lifecycle
from crm_sync.rules.results import Evaluation

__all__ = ["explain", "explain_record", "render_explanation"]


def _json(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    return value


def _truth(value: Any) -> str:
    return "unknown" if value is None else ("true" if value is True else "false")


def _rule(
    plan: EntityPlan, rule: CompiledRule, row: dict[str, Any], as_of: dt.date
) -> dict[str, Any]:
    trace: list[ClauseTrace] = []
    result = evaluate_expr(rule.expr, row, plan.scope, as_of=as_of, trace=trace)
    return {
        "id": rule.id,
        "when": rule.text,
        "at": str(rule.position),
        "result": _truth(result),
        "clauses": [
            {
                "clause": t.text,
                "at": str(t.position),
                "inputs": _json(t.inputs),
                "result": _truth(t.result)
                if t.result is None or isinstance(t.result, bool)
                else _json(t.result),
            }
            for t in trace
        ],
    }


def _derived(
    node: Derived, plan: EntityPlan, row: dict[str, Any], ev: Evaluation
) -> dict[str, Any]:
    out: dict[str, Any] = {"name": node.name, "kind": node.kind, "value": _json(row.get(node.name))}
    spec = node.spec
    if spec.expr is not None and node.expr is not None:
        trace: list[ClauseTrace] = []
        evaluate_expr(node.expr, row, plan.scope, as_of=ev.as_of, trace=trace)
        out["expr"] = spec.expr
        out["inputs"] = _json({k: v for t in trace for k, v in t.inputs.items()})
    elif spec.abc is not None:
        out["by"] = {spec.abc.by: _json(row.get(spec.abc.by))}
        out["cutoffs"] = _json(ev.cutoffs.get(node.name))
    elif spec.peer_median is not None:
        pm = spec.peer_median
        group = row.get(pm.group_by) if pm.group_by else "all"
        medians = ev.cutoffs.get(node.name, {}).get("medians", {})
        out["of"] = {pm.of: _json(row.get(pm.of))}
        out["group"] = {pm.group_by or "all": _json(group)}
        out["group_median"] = _json(medians.get(str(group)) if group is not None else None)
    else:
        out["chain"] = row.get("__parent_id") or row.get("id")
    return out


def explain_record(
    model: SegmentationModel, ev: Evaluation, entity: str, record_id: str
) -> dict[str, Any]:
    """The explanation of one record from an existing vectorised evaluation."""
    if entity not in ("company", "contact"):
        msg = f"unknown entity '{entity}'; use company or contact"
        raise ConfigError(msg)
    frame = ev.frames[entity].filter(pl.col("id") == record_id)  # type: ignore[index]
    if frame.height == 0:
        sample = ", ".join(ev.frames[entity]["id"].head(3).to_list())  # type: ignore[index]
        msg = f"no {entity} with id '{record_id}' in the data (ids look like: {sample}); check the id and --data"
        raise ConfigError(msg)
    row = frame.row(0, named=True)
    plan = model.plans[entity]  # type: ignore[index]
    inputs: dict[str, Any] = {name: row.get(name) for name in plan.fields}
    for name, spec in plan.metrics.items():
        if spec.params:
            for args in sorted(plan.calls.get(name, set())):
                column = call_column(name, args)
                inputs[column] = row.get(column)
        else:
            inputs[name] = row.get(name)
    out: dict[str, Any] = {
        "entity": entity,
        "id": record_id,
        "as_of": ev.as_of.isoformat(),
        "ruleset": ev.ruleset,
        "fingerprint": ev.fingerprint,
        "inputs": _json(inputs),
    }
    if entity == "contact":
        company_id = row.get("__company_id")
        out["company"] = {
            "id": company_id,
            **{
                o.name: _json(row.get(f"company.{o.name}"))
                for o in model.outputs()
                if o.entity == "company"
            },
        }
    derived: list[dict[str, Any]] = []
    sets: list[dict[str, Any]] = []
    for node in plan.nodes:
        if isinstance(node, Derived):
            derived.append(_derived(node, plan, row, ev))
        elif isinstance(node, SegmentSet):
            rules = [_rule(plan, r, row, ev.as_of) for r in node.rules]
            decided = next((r["id"] for r in rules if r["result"] == "true"), None)
            sets.append(
                {
                    "set": node.name,
                    "kind": "segment",
                    "hit_policy": node.hit_policy,
                    "value": row.get(node.name),
                    "decided_by": decided or ("otherwise" if node.otherwise else None),
                    "rules": rules,
                }
            )
        elif isinstance(node, TagSet):
            rules = [_rule(plan, r, row, ev.as_of) for r in node.rules]
            sets.append(
                {
                    "set": node.name,
                    "kind": "tags",
                    "value": list(row.get(node.name) or []),
                    "rules": rules,
                }
            )
        else:
            sets.append(_lifecycle(node, plan, row, ev.as_of))
    out["derived"] = derived
    out["sets"] = sets
    return out


def _lifecycle(
    node: Lifecycle, plan: EntityPlan, row: dict[str, Any], as_of: dt.date
) -> dict[str, Any]:
    rules = [_rule(plan, t.rule, row, as_of) for t in node.transitions]
    results = [evaluate_expr(t.rule.expr, row, plan.scope, as_of=as_of) for t in node.transitions]
    _stage, path = run_lifecycle(node, row, results)
    start = row.get(node.start_from) if node.start_from else None
    begin = str(start) if start is not None and str(start) in node.stages else node.initial
    steps: list[dict[str, Any]] = []
    current = begin
    for i in path:
        t = node.transitions[i]
        steps.append({"transition": t.id, "from": current, "to": t.to, "backward": t.backward})
        current = t.to
    for r, t in zip(rules, node.transitions, strict=True):
        r["from"] = list(t.from_stages)
        r["to"] = t.to
    return {
        "set": node.name,
        "kind": "lifecycle",
        "start": begin,
        "start_from": {node.start_from: _json(start)} if node.start_from else None,
        "value": row.get(node.name),
        "path": steps,
        "decided_by": " > ".join(s["transition"] for s in steps) or "no transition",
        "rules": rules,
    }


def explain(
    model: SegmentationModel, dataset: Dataset, entity: str, record_id: str, *, as_of: dt.date
) -> dict[str, Any]:
    """Evaluate the dataset and explain one record (JSON-ready)."""
    if entity not in ("company", "contact"):
        msg = f"unknown entity '{entity}'; use company or contact"
        raise ConfigError(msg)
    return explain_record(model, evaluate(model, dataset, as_of=as_of), entity, record_id)


def render_explanation(data: dict[str, Any]) -> str:
    """A readable text version of :func:`explain`'s output."""
    lines = [f"{data['entity']} {data['id']}  (as of {data['as_of']}, ruleset {data['ruleset']})"]
    if "company" in data:
        company = data["company"]
        lines.append(
            f"  company {company['id']}: "
            + ", ".join(f"{k}={v}" for k, v in company.items() if k != "id")
        )
    lines.append("  inputs: " + ", ".join(f"{k}={v}" for k, v in data["inputs"].items()))
    for d in data["derived"]:
        extra = {k: v for k, v in d.items() if k not in ("name", "kind", "value", "cutoffs")}
        lines.append(f"  {d['name']} = {d['value']}  ({d['kind']} {extra})")
    for s in data["sets"]:
        lines.append(f"  {s['set']} = {s['value']}  [decided by: {s.get('decided_by', 'collect')}]")
        for r in s["rules"]:
            lines.append(f"    {r['result']:>7}  {r['id']}: {r['when']}")
            if len(r["clauses"]) > 1 or r["result"] == "unknown":
                for c in r["clauses"]:
                    lines.append(f"             {c['result']:>7}  {c['clause']}  {c['inputs']}")
        if s["kind"] == "lifecycle":
            lines.append(
                "    path: "
                + (
                    " > ".join(f"{p['from']}->{p['to']}" for p in s["path"])
                    or f"stays {s['start']}"
                )
            )
    return "\n".join(lines)
