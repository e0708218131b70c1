"""Population-level values: ABC classes, peer-group medians, chain roll-ups (pure Python).

These depend on every record, not one, so they are where nondeterminism usually creeps in
(row-order ties, float summation order). The rules here are explicit: ABC ranks by value
descending then id ascending and accumulates in that order; medians are the textbook middle
value (mean of the two middle values for even counts); chain sums accumulate members in id order.
The vectorised engine uses the same order (and this module's median) so both paths agree exactly.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from crm_sync.rules.schema import AbcSpec, ChainSpec

__all__ = ["abc_cutoffs", "abc_py", "chain_key", "chain_py", "median", "peer_median_py"]


def median(values: Iterable[float | None]) -> float | None:
    """Median of the non-null values, or None when there are none."""
    present = sorted(v for v in values if v is not None)
    return float(statistics.median(present)) if present else None


def abc_py(
    values: Mapping[str, float | None], spec: AbcSpec
) -> tuple[dict[str, str], dict[str, Any]]:
    """ABC class per id and the cut-offs used (total, per-class record count and lowest value)."""
    ranked = sorted(
        ((rid, float(v)) for rid, v in values.items() if v is not None and v > 0),
        key=lambda kv: (-kv[1], kv[0]),
    )
    running = 0.0
    befores: list[float] = []
    for _, v in ranked:
        befores.append(running)
        running += v
    total = running
    out = dict.fromkeys(values, spec.otherwise)
    for (rid, _), before in zip(ranked, befores, strict=True):
        share = before / total
        for name, limit in spec.classes.items():
            if share < limit:
                out[rid] = name
                break
    return out, abc_cutoffs(spec, total, [(out[rid], v) for rid, v in ranked])


def abc_cutoffs(spec: AbcSpec, total: float, classed: list[tuple[str, float]]) -> dict[str, Any]:
    """The stored description of an ABC run: total and, per class, limit, records, lowest value."""
    classes: dict[str, Any] = {}
    for name, limit in spec.classes.items():
        members = [v for c, v in classed if c == name]
        classes[name] = {
            "share_limit": limit,
            "records": len(members),
            "min_value": min(members) if members else None,
        }
    return {"by": spec.by, "total": total, "classes": classes}


def peer_median_py(
    values: Mapping[str, float | None], groups: Mapping[str, Any]
) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """Value ÷ median of its group, per id; and the median per group (keys as text)."""
    members: dict[Any, list[float]] = defaultdict(list)
    for rid, v in values.items():
        g = groups.get(rid)
        if g is not None and v is not None:
            members[g].append(v)
    medians = {g: median(vs) for g, vs in members.items()}
    out: dict[str, float | None] = {}
    for rid, v in values.items():
        g = groups.get(rid)
        m = medians.get(g) if g is not None else None
        out[rid] = v / m if v is not None and m is not None and m != 0 else None
    return out, {str(g): m for g, m in sorted(medians.items(), key=lambda kv: str(kv[0]))}


def chain_key(record_id: str, parent_id: str | None, heads: set[str]) -> str | None:
    """The chain a company belongs to: its parent, itself when it heads a chain, else None."""
    if parent_id is not None:
        return parent_id
    return record_id if record_id in heads else None


def chain_py(
    parents: Mapping[str, str | None],
    spec: ChainSpec,
    conditions: Mapping[str, Any] | None,
    numbers: Mapping[str, float | None] | None,
) -> dict[str, float | None]:
    """Chain value per company: share/count of members meeting the condition, or sum of ``of``."""
    heads = {p for p in parents.values() if p is not None}
    members: dict[str, list[str]] = defaultdict(list)
    for rid in sorted(parents):
        parent = parents[rid]
        if parent is not None:
            members[parent].append(rid)
    value: dict[str, float] = {}
    for head, ids in members.items():
        if spec.agg == "sum":
            assert numbers is not None
            total = 0.0
            for rid in ids:
                v = numbers.get(rid)
                if v is not None:
                    total += v
            value[head] = total
        else:
            true = sum(1 for rid in ids if conditions is None or conditions.get(rid) is True)
            value[head] = true / len(ids) if spec.agg == "share" else float(true)
    out: dict[str, float | None] = {}
    for rid, parent in parents.items():
        key = chain_key(rid, parent, heads)
        out[rid] = value.get(key) if key is not None else None
    return out
