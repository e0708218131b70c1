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

import math
from collections.abc import Sequence

import polars as pl

from crm_sync.report.frames import Conversion, SetInfo
from crm_sync.report.metrics import NONE

__all__ = [
    "PSI_EPSILON",
    "Z95",
    "flapping",
    "lift",
    "psi",
    "stability_series",
    "transition_matrix",
    "wilson",
]

Z95 = 1.959963984540054
PSI_EPSILON = 1e-4


def _set_values(values: pl.DataFrame, set_name: str) -> pl.DataFrame:
    return values.filter(pl.col("set") == set_name).select(
        "run", "id", pl.col("value").fill_null(NONE)
    )


def transition_matrix(
    values: pl.DataFrame, set_name: str, run_from: int, run_to: int
) -> pl.DataFrame:
    """Long matrix ``from, to, n, row_total, p`` of records present in both runs (n > 0 only)."""
    vals = _set_values(values, set_name)
    a = vals.filter(pl.col("run") == run_from).select("id", pl.col("value").alias("from"))
    b = vals.filter(pl.col("run") == run_to).select("id", pl.col("value").alias("to"))
    counts = (
        a.join(b, on="id", how="inner")
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


def stability_series(values: pl.DataFrame, set_name: str, runs: Sequence[int]) -> pl.DataFrame:
    """Stability and moved records for each consecutive pair of runs (run = the later one)."""
    vals = _set_values(values, set_name)
    order = pl.DataFrame(
        {"run": list(runs), "prev_run": [None, *runs[:-1]]},
        schema={"run": pl.Int64(), "prev_run": pl.Int64()},
    )
    cur = vals.join(order, on="run", how="inner").filter(pl.col("prev_run").is_not_null())
    prev = vals.select(pl.col("run").alias("prev_run"), "id", pl.col("value").alias("prev"))
    joined = cur.join(prev, on=["prev_run", "id"], how="inner")
    out = joined.group_by("run").agg(
        pl.len().cast(pl.Int64).alias("records"),
        (pl.col("value") == pl.col("prev")).sum().cast(pl.Int64).alias("stayed"),
    )
    return out.with_columns(
        (pl.col("stayed") / pl.col("records")).alias("stability"),
        (pl.col("records") - pl.col("stayed")).alias("moved"),
    ).sort("run")


def flapping(values: pl.DataFrame, set_name: str, runs: Sequence[int], k: int) -> dict[str, float]:
    """Flapping and bounce shares over the last ``k`` transitions (records of the last run)."""
    window = list(runs)[-(k + 1) :]
    if not window:
        return {
            "records": 0,
            "flapping": 0,
            "flapping_share": 0.0,
            "bounce": 0,
            "bounce_share": 0.0,
        }
    vals = _set_values(values, set_name).filter(pl.col("run").is_in(window))
    last_ids = vals.filter(pl.col("run") == window[-1]).select("id")
    seq = vals.join(last_ids, on="id", how="semi").sort("id", "run")
    prev = pl.col("value").shift(1).over("id")
    prev2 = pl.col("value").shift(2).over("id")
    per_id = (
        seq.with_columns(
            (prev.is_not_null() & (pl.col("value") != prev)).alias("changed"),
            (prev2.is_not_null() & (pl.col("value") == prev2) & (pl.col("value") != prev)).alias(
                "bounced"
            ),
        )
        .group_by("id")
        .agg(pl.col("changed").sum().alias("changes"), pl.col("bounced").any().alias("bounce"))
    )
    n = last_ids.height
    flap = int((per_id["changes"] >= 2).sum())
    bounce = int(per_id["bounce"].sum())
    return {
        "records": n,
        "window_runs": len(window),
        "flapping": flap,
        "flapping_share": flap / n if n else 0.0,
        "bounce": bounce,
        "bounce_share": bounce / n if n else 0.0,
    }


def psi(
    values: pl.DataFrame,
    info: SetInfo,
    ref_run: int,
    cur_run: int,
    eps: float = PSI_EPSILON,
) -> tuple[float, pl.DataFrame]:
    """Population stability index of ``info``'s distribution, current vs. reference run."""
    vals = _set_values(values, info.name).filter(pl.col("run").is_in([ref_run, cur_run]))
    rows = vals.group_by("run", "value").len().rows()
    counts = {(int(r), str(v)): int(n) for r, v, n in rows}
    observed = sorted({v for _, v in counts} - set(info.values))
    bins = [*info.values, *observed]
    n_ref = sum(n for (r, _), n in counts.items() if r == ref_run)
    n_cur = sum(n for (r, _), n in counts.items() if r == cur_run)
    out = []
    total = 0.0
    for b in bins:
        q = max(counts.get((ref_run, b), 0) / n_ref, eps) if n_ref else eps
        p = max(counts.get((cur_run, b), 0) / n_cur, eps) if n_cur else eps
        term = (p - q) * math.log(p / q)
        total += term
        out.append((b, q, p, term))
    frame = pl.DataFrame(
        out,
        schema={
            "value": pl.String(),
            "reference": pl.Float64(),
            "current": pl.Float64(),
            "term": pl.Float64(),
        },
        orient="row",
    )
    return total, frame


def wilson(k: int, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """Wilson score interval of the rate k/n (None, None when n = 0)."""
    if n <= 0:
        return None, None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _eligible(values: pl.DataFrame, conv: Conversion, runs: Sequence[int]) -> pl.DataFrame:
    """(run, id, converted) for every record eligible at run t that also exists at t+1."""
    order = pl.DataFrame(
        {"run": list(runs[:-1]), "next_run": list(runs[1:])},
        schema={"run": pl.Int64(), "next_run": pl.Int64()},
    )
    vals = values.filter((pl.col("set") == conv.set) & (pl.col("entity") == conv.entity))
    now = vals.filter(pl.col("value").is_in(list(conv.from_values))).join(order, on="run")
    nxt = vals.select(pl.col("run").alias("next_run"), "id", pl.col("value").alias("next"))
    joined = now.join(nxt, on=["next_run", "id"], how="inner")
    if conv.to_values is None:
        hit = pl.col("next").is_not_null() & ~pl.col("next").is_in(list(conv.from_values))
    else:
        hit = pl.col("next").is_in(list(conv.to_values))
    return joined.select("run", "id", hit.fill_null(False).alias("converted"))


def lift(
    values: pl.DataFrame,
    conv: Conversion,
    sets: dict[str, SetInfo],
    runs: Sequence[int],
) -> tuple[dict[str, int | float | None], pl.DataFrame]:
    """Overall conversion and, per single-valued set of the entity and value, lift with its CI."""
    elig = _eligible(values, conv, runs)
    total_n = elig.height
    total_k = int(elig["converted"].sum()) if total_n else 0
    base = total_k / total_n if total_n else None
    overall = {"eligible": total_n, "converted": total_k, "rate": base}
    names = [s.name for s in sets.values() if s.kind == "single" and s.entity == conv.entity]
    segs = values.filter(pl.col("set").is_in(names) & (pl.col("entity") == conv.entity))
    grouped = (
        elig.join(
            segs.select("run", "id", "set", pl.col("value").fill_null(NONE)), on=["run", "id"]
        )
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
