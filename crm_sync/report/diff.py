"""Impact of a model change before it is published (domain-model §3, measure 11).

Both model files are evaluated on the same data at the same ``as_of``, so every difference is
caused by the change and not by new data. Per output set present in both models: how many
records change value, the confusion matrix old × new (single-valued sets; ``(none)`` for no
value), the Adjusted Rand Index of the two partitions, and a few sample ids per changed cell
(sorted, so the same change always shows the same samples). Tag sets report, per tag, how many
records gain or lose it. Sets only in one model are listed as added or removed.

ARI = (Σ_ij C(n_ij,2) − E) / (½(Σ_i C(a_i,2) + Σ_j C(b_j,2)) − E), E = Σ_i C(a_i,2)·Σ_j C(b_j,2)
/ C(n,2); 1 = the same partition (also when both partitions are trivial).
"""

from __future__ import annotations

import datetime as dt
from math import comb
from typing import Any

import polars as pl

from crm_sync.model.frames import Dataset
from crm_sync.report.metrics import NONE
from crm_sync.rules.compiled import SegmentationModel
from crm_sync.rules.engine import evaluate

__all__ = ["SAMPLES", "adjusted_rand_index", "diff_models"]

SAMPLES = 5


def adjusted_rand_index(cells: dict[tuple[str, str], int]) -> float:
    """ARI of the confusion matrix ``{(old, new): n}``."""
    n = sum(cells.values())
    rows: dict[str, int] = {}
    cols: dict[str, int] = {}
    for (a, b), k in cells.items():
        rows[a] = rows.get(a, 0) + k
        cols[b] = cols.get(b, 0) + k
    index = sum(comb(k, 2) for k in cells.values())
    sum_a = sum(comb(k, 2) for k in rows.values())
    sum_b = sum(comb(k, 2) for k in cols.values())
    total = comb(n, 2)
    expected = sum_a * sum_b / total if total else 0.0
    maximum = (sum_a + sum_b) / 2
    if maximum == expected:
        return 1.0
    return (index - expected) / (maximum - expected)


def _single(name: str, old: pl.DataFrame, new: pl.DataFrame) -> dict[str, Any]:
    joined = old.select("id", pl.col(name).fill_null(NONE).alias("old")).join(
        new.select("id", pl.col(name).fill_null(NONE).alias("new")), on="id", how="inner"
    )
    grouped = (
        joined.sort("id")
        .group_by("old", "new", maintain_order=False)
        .agg(pl.len().alias("n"), pl.col("id").head(SAMPLES).alias("samples"))
        .sort("old", "new")
    )
    cells = {(str(a), str(b)): int(k) for a, b, k, _ in grouped.iter_rows()}
    changed = sum(k for (a, b), k in cells.items() if a != b)
    return {
        "kind": "single",
        "records": joined.height,
        "changed": changed,
        "changed_share": changed / joined.height if joined.height else 0.0,
        "ari": adjusted_rand_index(cells),
        "confusion": [{"old": a, "new": b, "n": int(k)} for a, b, k, _ in grouped.iter_rows()],
        "samples": [
            {"old": a, "new": b, "ids": list(s)} for a, b, _, s in grouped.iter_rows() if a != b
        ],
    }


def _multi(name: str, old: pl.DataFrame, new: pl.DataFrame) -> dict[str, Any]:
    joined = old.select("id", pl.col(name).list.sort().alias("old")).join(
        new.select("id", pl.col(name).list.sort().alias("new")), on="id", how="inner"
    )
    changed_ids = joined.filter(pl.col("old") != pl.col("new"))["id"].sort()
    tags: dict[str, dict[str, Any]] = {}
    for rid, before, after in joined.sort("id").iter_rows():
        b, a = set(before or []), set(after or [])
        for tag, kind in [*((t, "added") for t in a - b), *((t, "removed") for t in b - a)]:
            entry = tags.setdefault(tag, {"tag": tag, "added": 0, "removed": 0, "samples": []})
            entry[kind] += 1
            if len(entry["samples"]) < SAMPLES:
                entry["samples"].append(rid)
    return {
        "kind": "multi",
        "records": joined.height,
        "changed": changed_ids.len(),
        "changed_share": changed_ids.len() / joined.height if joined.height else 0.0,
        "tags": [tags[t] for t in sorted(tags)],
        "samples": changed_ids.head(SAMPLES).to_list(),
    }


def diff_models(
    old: SegmentationModel, new: SegmentationModel, dataset: Dataset, as_of: dt.date
) -> dict[str, Any]:
    """Per output set: records that change, confusion matrix, ARI and samples."""
    ev_old = evaluate(old, dataset, as_of=as_of)
    ev_new = evaluate(new, dataset, as_of=as_of)
    outs_old = {o.name: o for o in old.outputs()}
    outs_new = {o.name: o for o in new.outputs()}
    sets: dict[str, Any] = {}
    for name in sorted(outs_old.keys() & outs_new.keys()):
        o, n = outs_old[name], outs_new[name]
        if (o.entity, o.kind) != (n.entity, n.kind):
            sets[name] = {
                "kind": "changed_shape",
                "old": [o.entity, o.kind],
                "new": [n.entity, n.kind],
            }
            continue
        frame_old, frame_new = ev_old.results[o.entity], ev_new.results[o.entity]
        body = (
            _single(name, frame_old, frame_new)
            if o.kind == "single"
            else _multi(name, frame_old, frame_new)
        )
        sets[name] = {"entity": o.entity, **body}
    return {
        "ok": True,
        "as_of": as_of.isoformat(),
        "old": {"path": str(old.path), "ruleset": old.ruleset, "fingerprint": old.fingerprint},
        "new": {"path": str(new.path), "ruleset": new.ruleset, "fingerprint": new.fingerprint},
        "sets": sets,
        "added_sets": sorted(outs_new.keys() - outs_old.keys()),
        "removed_sets": sorted(outs_old.keys() - outs_new.keys()),
        "changed_records": sum(int(s.get("changed", 0)) for s in sets.values()),
    }
