"""How segments move between runs (domain-model §3, measures 8–10 and 12), as pure functions.

Only single-valued sets have transitions; "no value" is the segment ``(none)``. Records present
in only one of two runs (created or deleted in between) are left out of transitions and
stability: they did not move, they appeared or disappeared. Formulas:

* transition matrix between runs t−1 → t: P_ij = n_ij / n_i· (maximum-likelihood Markov estimate);
* stability = Σ_i n_ii / N over records present in both runs; dwell time 1/(1 − P_ii) runs
  (null when P_ii = 1: nobody leaves);
* flapping over the last k transitions (k+1 runs) = share of the last run's records whose value
  changed ≥ 2 times in that window; *bounce* = share with a return A→B→A on consecutive runs;
* PSI = Σ_i (p_i − q_i) · ln(p_i / q_i), p current, q reference, every share floored at ε = 1e-4
  (ε-smoothing, so an empty bin gives a large but finite term); bins = declared values ∪ observed
  values of both runs; folklore thresholds 0.10 (watch) and 0.25 (act);
* Wilson 95 % interval of a rate k/n: (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n), z = 1.96;
* lift(s) = (conv_s / n_s) / (conv / N) over eligible records pooled over consecutive run pairs;
  its interval is the Wilson interval of conv_s / n_s divided by the overall rate conv / N
  (which is treated as known: N is much larger than n_s).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import polars as pl

from crm_sync.report.frames import Conversion, SetInfo
from crm_sync.report.metrics import NONE

__all__ = [
    "PSI_EPSILON",
    "Z95",
    "flapping",
    "lift",
    "psi",
    "psi_counts",
    "stability_series",
    "transition_matrix",
    "wide",
    "wilson",
]

Z95 = 1.959963984540054
PSI_EPSILON = 1e-4


def _set_values(values: pl.DataFrame, set_name: str) -> pl.DataFrame:
    return values.filter(pl.col("set") == set_name).select(
        "run", "id", pl.col("value").fill_null(NONE)
    )


def wide(values: pl.DataFrame, set_name: str, runs: Sequence[int]) -> pl.DataFrame:
    """One row per record, one column per run (named by the run number); null = not present.

    Every dynamic measure compares a record's values at different runs; with one column per run
    that is a column comparison instead of a join of the long frame with itself.
    """
    vals = _set_values(values, set_name).filter(pl.col("run").is_in(list(runs)))
    frame = (
        vals.pivot(on="run", index="id", values="value")
        if vals.height
        else pl.DataFrame({"id": []}, schema={"id": pl.String()})
    )
    missing = [pl.lit(None, pl.String).alias(str(r)) for r in runs if str(r) not in frame.columns]
    return frame.with_columns(missing).select("id", *[str(r) for r in runs])


def transition_matrix(table: pl.DataFrame, run_from: int, run_to: int) -> pl.DataFrame:
    """Long matrix ``from, to, n, row_total, p`` of records present in both runs (n > 0 only)."""
    a, b = str(run_from), str(run_to)
    counts = (
        table.select(pl.col(a).alias("from"), pl.col(b).alias("to"))
        .drop_nulls()
        .group_by("from", "to")
        .agg(pl.len().cast(pl.Int64).alias("n"))
    )
    counts = counts.with_columns(pl.col("n").sum().over("from").alias("row_total"))
    return counts.with_columns((pl.col("n") / pl.col("row_total")).alias("p")).sort("from", "to")


def stability_of(matrix: pl.DataFrame) -> tuple[float | None, int]:
    """Σ n_ii / N of a long matrix, and N."""
    total = int(matrix["n"].sum()) if matrix.height else 0
    if total == 0:
        return None, 0
    diag = int(matrix.filter(pl.col("from") == pl.col("to"))["n"].sum())
    return diag / total, total


def dwell_times(matrix: pl.DataFrame) -> dict[str, float | None]:
    """Expected runs in a segment before leaving it: 1 / (1 − P_ii); null when P_ii = 1."""
    out: dict[str, float | None] = {}
    for value in sorted(set(matrix["from"].to_list())):
        rows = matrix.filter((pl.col("from") == value) & (pl.col("to") == value))
        p = float(rows["p"][0]) if rows.height else 0.0
        out[value] = None if p >= 1.0 else 1.0 / (1.0 - p)
    return out


def stability_series(table: pl.DataFrame, runs: Sequence[int]) -> pl.DataFrame:
    """Stability and moved records for each consecutive pair of runs (run = the later one)."""
    exprs = []
    for prev, cur in itertools.pairwise(runs):
        a, b = pl.col(str(prev)), pl.col(str(cur))
        both = a.is_not_null() & b.is_not_null()
        exprs += [both.sum().alias(f"n{cur}"), (both & (a == b)).sum().alias(f"s{cur}")]
    got = table.select(exprs).row(0, named=True) if exprs else {}
    rows = [(cur, int(got[f"n{cur}"]), int(got[f"s{cur}"])) for _, cur in itertools.pairwise(runs)]
    out = pl.DataFrame(
        rows, schema={"run": pl.Int64(), "records": pl.Int64(), "stayed": pl.Int64()}, orient="row"
    )
    return out.with_columns(
        (pl.col("stayed") / pl.col("records")).alias("stability"),
        (pl.col("records") - pl.col("stayed")).alias("moved"),
    )


def flapping(table: pl.DataFrame, runs: Sequence[int], k: int) -> dict[str, float]:
    """Flapping and bounce shares over the last ``k`` transitions (records of the last run).

    A change is counted between consecutive runs where the record is present in both; a bounce
    is A→B→A over three consecutive runs.
    """
    window = [str(r) for r in list(runs)[-(k + 1) :]]
    if not window:
        return {
            "records": 0,
            "flapping": 0,
            "flapping_share": 0.0,
            "bounce": 0,
            "bounce_share": 0.0,
        }
    present = table.filter(pl.col(window[-1]).is_not_null())
    cols = [pl.col(c) for c in window]
    changes = pl.sum_horizontal(
        [(a != b).fill_null(False).cast(pl.Int32) for a, b in itertools.pairwise(cols)]
        or [pl.lit(0)]
    )
    bounces = pl.any_horizontal(
        [
            ((a == c) & (a != b)).fill_null(False)
            for a, b, c in zip(cols, cols[1:], cols[2:], strict=False)
        ]
        or [pl.lit(False)]
    )
    got = present.select(
        (changes >= 2).sum().alias("flap"), bounces.sum().alias("bounce"), pl.len().alias("n")
    ).row(0, named=True)
    n, flap, bounce = int(got["n"]), int(got["flap"]), int(got["bounce"])
    return {
        "records": n,
        "window_runs": len(window),
        "flapping": flap,
        "flapping_share": flap / n if n else 0.0,
        "bounce": bounce,
        "bounce_share": bounce / n if n else 0.0,
    }


def psi_counts(
    info: SetInfo,
    reference: Mapping[str, int],
    current: Mapping[str, int],
    eps: float = PSI_EPSILON,
) -> tuple[float, pl.DataFrame]:
    """PSI from value counts of the reference and the current run (bins: declared + observed)."""
    observed = sorted((set(reference) | set(current)) - set(info.values))
    n_ref, n_cur = sum(reference.values()), sum(current.values())
    out = []
    total = 0.0
    for b in [*info.values, *observed]:
        q = max(reference.get(b, 0) / n_ref, eps) if n_ref else eps
        p = max(current.get(b, 0) / n_cur, eps) if n_cur else eps
        term = (p - q) * math.log(p / q)
        total += term
        out.append((b, q, p, term))
    schema = {
        "value": pl.String(),
        "reference": pl.Float64(),
        "current": pl.Float64(),
        "term": pl.Float64(),
    }
    return total, pl.DataFrame(out, schema=schema, orient="row")


def psi(
    values: pl.DataFrame,
    info: SetInfo,
    ref_run: int,
    cur_run: int,
    eps: float = PSI_EPSILON,
) -> tuple[float, pl.DataFrame]:
    """Population stability index of ``info``'s distribution, current vs. reference run."""
    vals = _set_values(values, info.name).filter(pl.col("run").is_in([ref_run, cur_run]))
    counts: dict[int, dict[str, int]] = {ref_run: {}, cur_run: {}}
    for r, v, n in vals.group_by("run", "value").len().rows():
        counts[int(r)][str(v)] = int(n)
    return psi_counts(info, counts[ref_run], counts[cur_run], eps)


def wilson(k: int, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """Wilson score interval of the rate k/n (None, None when n = 0)."""
    if n <= 0:
        return None, None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _eligible(conv_table: pl.DataFrame, conv: Conversion, runs: Sequence[int]) -> pl.DataFrame:
    """(run, id, converted) for every record eligible at run t that also exists at t+1."""
    parts = []
    for now, nxt in itertools.pairwise(runs):
        cur, after = pl.col(str(now)), pl.col(str(nxt))
        if conv.to_values is None:
            hit = ~after.is_in(list(conv.from_values)) & (after != NONE)
        else:
            hit = after.is_in(list(conv.to_values))
        parts.append(
            conv_table.filter(cur.is_in(list(conv.from_values)) & after.is_not_null()).select(
                pl.lit(now, pl.Int64).alias("run"), "id", hit.fill_null(False).alias("converted")
            )
        )
    schema = {"run": pl.Int64(), "id": pl.String(), "converted": pl.Boolean()}
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


def lift(
    tables: dict[str, pl.DataFrame],
    conv: Conversion,
    sets: dict[str, SetInfo],
    runs: Sequence[int],
) -> tuple[dict[str, int | float | None], pl.DataFrame]:
    """Overall conversion and, per single-valued set of the entity and value, lift with its CI.

    ``tables`` are the :func:`wide` frames of the single-valued sets (at least the conversion's).
    """
    elig = _eligible(tables[conv.set], conv, runs)
    total_n = elig.height
    total_k = int(elig["converted"].sum()) if total_n else 0
    base = total_k / total_n if total_n else None
    overall = {"eligible": total_n, "converted": total_k, "rate": base}
    names = [
        s.name
        for s in sets.values()
        if s.kind == "single" and s.entity == conv.entity and s.name in tables
    ]
    parts = []
    for name in names:
        picks: list[pl.Expr] = [pl.when(pl.col("run") == r).then(pl.col(str(r))) for r in runs[:-1]]
        at_run = pl.coalesce(picks or [pl.lit(None, pl.String)])
        parts.append(
            elig.join(tables[name], on="id", how="inner").select(
                pl.lit(name).alias("set"), at_run.alias("value"), "converted"
            )
        )
    schema = {"set": pl.String(), "value": pl.String(), "converted": pl.Boolean()}
    grouped = (
        (pl.concat(parts) if parts else pl.DataFrame(schema=schema))
        .drop_nulls("value")
        .group_by("set", "value")
        .agg(
            pl.len().cast(pl.Int64).alias("n"), pl.col("converted").sum().cast(pl.Int64).alias("k")
        )
        .sort("set", "value")
    )
    rows = []
    for set_name, value, n, k in grouped.iter_rows():
        lo, hi = wilson(int(k), int(n))
        rate = k / n
        lifted = rate / base if base else None
        rows.append(
            (
                set_name,
                value,
                n,
                k,
                rate,
                lo,
                hi,
                lifted,
                lo / base if base and lo is not None else None,
                hi / base if base and hi is not None else None,
            )
        )
    schema = {
        "set": pl.String(),
        "value": pl.String(),
        "n": pl.Int64(),
        "converted": pl.Int64(),
        "rate": pl.Float64(),
        "rate_lo": pl.Float64(),
        "rate_hi": pl.Float64(),
        "lift": pl.Float64(),
        "lift_lo": pl.Float64(),
        "lift_hi": pl.Float64(),
    }
    return overall, pl.DataFrame(rows, schema=schema, orient="row")
