"""Per-run segment quality metrics (domain-model §3, measures 1–3 and 5–7), as pure functions.

Each function takes the long frames of :mod:`crm_sync.report.frames` and returns a small frame
with one row per run and set (or value, field, rule), so the report can show the latest run and
the trend from the same table. Formulas, with N = records of the set's entity in the run:

* coverage = 1 − n(catch_all)/N; without a catch-all, the share with any value;
  tag prevalence = n(tag)/N (0 % or 100 % tags are useless);
* overlap = records matching ≥ 2 rules before priority / N; pairwise Jaccard = |A∩B| / |A∪B|
  of the raw (before priority) matches;
* shadowed rule: raw > 0 and kept = 0; dead rule: raw = 0;
* completeness = known(field)/N per required field, per owner and per run;
* evaluability of a rule = 1 − unknown/N (its three-valued result was not *unknown*);
* size n(s,t), share n(s,t)/N(t), Σ revenue(s,t), Σ potential(s,t),
  growth = n(s,t)/n(s,t−1) − 1 (null when n(s,t−1) = 0 or t is the first run).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from crm_sync.report.frames import MULTI_SCHEMA, PAIR_SCHEMA, RULE_SCHEMA, SetInfo

__all__ = [
    "NONE",
    "completeness",
    "coverage",
    "overlap",
    "record_counts",
    "rule_match_stats",
    "rule_quality",
    "segment_sizes",
]

NONE = "(none)"
"""Label of "no value" in single-valued sets (a null value is a segment of its own)."""


def record_counts(facts: pl.DataFrame) -> pl.DataFrame:
    """Records in scope per run and entity: the N of every share."""
    return facts.group_by("run", "entity").agg(pl.len().cast(pl.Int64).alias("records"))


def _single(values: pl.DataFrame, sets: dict[str, SetInfo]) -> pl.DataFrame:
    names = [s.name for s in sets.values() if s.kind == "single"]
    return values.filter(pl.col("set").is_in(names)).with_columns(pl.col("value").fill_null(NONE))


def coverage(values: pl.DataFrame, sets: dict[str, SetInfo]) -> pl.DataFrame:
    """Per run and single-valued set: records, catch-all count and share, coverage."""
    catch = pl.DataFrame(
        {
            "set": [s.name for s in sets.values() if s.kind == "single"],
            "catch_all_value": [s.catch_all for s in sets.values() if s.kind == "single"],
        },
        schema={"set": pl.String(), "catch_all_value": pl.String()},
    )
    counts = _single(values, sets).group_by("run", "set", "value").agg(pl.len().alias("n"))
    is_catch = (
        pl.when(pl.col("catch_all_value").is_not_null())
        .then(pl.col("value") == pl.col("catch_all_value"))
        .otherwise(pl.col("value") == NONE)
    )
    out = (
        counts.join(catch, on="set", how="left")
        .group_by("run", "set")
        .agg(
            pl.col("n").sum().cast(pl.Int64).alias("records"),
            pl.col("n").filter(is_catch).sum().cast(pl.Int64).alias("catch_all"),
        )
    )
    share = pl.col("catch_all") / pl.col("records")
    return out.with_columns(share.alias("catch_all_share"), (1 - share).alias("coverage")).sort(
        "set", "run"
    )


def _grid(values: pl.DataFrame, runs: Sequence[int], sets: dict[str, SetInfo]) -> pl.DataFrame:
    """Every (run, set, value): declared values plus observed ones (e.g. ``(none)``), zeros shown."""
    declared = [(s.name, v) for s in sets.values() for v in s.values]
    observed = values.select("set", "value").unique().rows()
    pairs = sorted(set(declared) | {(s, v) for s, v in observed if s in sets})
    keys = pl.DataFrame(
        {"set": [p[0] for p in pairs], "value": [p[1] for p in pairs]},
        schema={"set": pl.String(), "value": pl.String()},
    )
    run_frame = pl.DataFrame({"run": list(runs)}, schema={"run": pl.Int64()})
    return run_frame.join(keys, how="cross")


def segment_sizes(
    values: pl.DataFrame,
    facts: pl.DataFrame,
    sets: dict[str, SetInfo],
    runs: Sequence[int],
) -> pl.DataFrame:
    """n, share, Σ revenue, Σ potential and growth per run, set and value (zeros included).

    Revenue and potential come from ``facts`` of the same record and run (company sets; for
    contact sets they are null). Shares divide by the entity's records in the run, so tag
    shares are prevalences and may add up to more than 100 %.
    """
    entity_of = pl.DataFrame(
        {"set": list(sets), "entity": [s.entity for s in sets.values()]},
        schema={"set": pl.String(), "entity": pl.String()},
    )
    vals = values.filter(pl.col("set").is_in(list(sets))).with_columns(
        pl.col("value").fill_null(NONE)
    )
    # Money needs the record's facts (one join of the long frames, the costliest step), and
    # only for the entities whose facts carry any revenue or potential.
    money = facts.filter(pl.col("revenue").is_not_null() | pl.col("potential").is_not_null())
    with_money = set(money["entity"].unique().to_list())
    counted = (
        vals.filter(~pl.col("entity").is_in(list(with_money)))
        .group_by("run", "set", "value")
        .agg(pl.len().cast(pl.Int64).alias("n"))
        .with_columns(
            pl.lit(None, pl.Float64).alias("revenue"),
            pl.lit(None, pl.Float64).alias("potential"),
            pl.lit(False).alias("_has_money"),
        )
    )
    joined = (
        vals.filter(pl.col("entity").is_in(list(with_money)))
        .join(
            money.select("run", "entity", "id", "revenue", "potential"),
            on=["run", "entity", "id"],
            how="left",
        )
        .group_by("run", "set", "value")
        .agg(
            pl.len().cast(pl.Int64).alias("n"),
            pl.col("revenue").sum().alias("revenue"),
            pl.col("potential").sum().alias("potential"),
            pl.lit(True).alias("_has_money"),
        )
    )
    sized = pl.concat([joined, counted], how="vertical_relaxed")
    counts = record_counts(facts)
    out = (
        _grid(vals, runs, sets)
        .join(entity_of, on="set", how="left")
        .join(sized, on=["run", "set", "value"], how="left")
        .join(counts, on=["run", "entity"], how="left")
        .with_columns(pl.col("n").fill_null(0))
        .sort("set", "value", "run")
    )
    money_known = out.group_by("set").agg(pl.col("_has_money").fill_null(False).any().alias("_m"))
    prev = pl.col("n").shift(1).over("set", "value")
    out = out.join(money_known, on="set", how="left").with_columns(
        (pl.col("n") / pl.col("records")).alias("share"),
        pl.when(pl.col("_m")).then(pl.col("revenue").fill_null(0.0)).alias("revenue"),
        pl.when(pl.col("_m")).then(pl.col("potential").fill_null(0.0)).alias("potential"),
        pl.when(prev > 0).then(pl.col("n") / prev - 1).alias("growth"),
    )
    return out.select(
        "run", "set", "entity", "value", "n", "records", "share", "revenue", "potential", "growth"
    )


def completeness(fields: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """known/N per (run, entity, field), and per (run, entity, field, owner)."""
    agg = [
        pl.len().cast(pl.Int64).alias("records"),
        pl.col("known").sum().cast(pl.Int64).alias("known"),
    ]
    per_field = fields.group_by("run", "entity", "field").agg(agg)
    per_owner = fields.with_columns(pl.col("owner").fill_null(NONE)).group_by(
        "run", "entity", "field", "owner"
    )
    rate = (pl.col("known") / pl.col("records")).alias("completeness")
    return (
        per_field.with_columns(rate).sort("entity", "field", "run"),
        per_owner.agg(agg).with_columns(rate).sort("entity", "field", "owner", "run"),
    )


def rule_quality(rules: pl.DataFrame) -> pl.DataFrame:
    """Per run and rule: evaluability = 1 − unknown/N and status dead / shadowed / ok."""
    status = (
        pl.when(pl.col("raw") == 0)
        .then(pl.lit("dead"))
        .when(pl.col("kept") == 0)
        .then(pl.lit("shadowed"))
        .otherwise(pl.lit("ok"))
    )
    return rules.with_columns(
        (1 - pl.col("unknown") / pl.col("records")).alias("evaluability"),
        (pl.col("unknown") / pl.col("records")).alias("unknown_share"),
        status.alias("status"),
    ).sort("set", "run")


def overlap(multi: pl.DataFrame, pairs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Share matching ≥ 2 rules before priority; pairwise Jaccard of raw matches (null if A∪B=∅)."""
    shares = multi.with_columns((pl.col("multi") / pl.col("records")).alias("overlap_share"))
    jac = pairs.with_columns(
        pl.when(pl.col("either") > 0).then(pl.col("both") / pl.col("either")).alias("jaccard")
    )
    return shares.sort("set", "run"), jac.sort("set", "a", "b", "run")


def rule_match_stats(
    run: int,
    set_name: str,
    matches: pl.DataFrame,
    rules: Sequence[str],
    kept: pl.Series,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Rule, pair and multi-match rows of one set in one run from its raw condition matrix.

    ``matches`` has one Boolean column per rule id (null = unknown) and one row per record;
    ``kept`` is the value each record finally got (for tags, pass the rule's own column: a tag
    keeps every raw match). Returns frames with :data:`RULE_SCHEMA`, :data:`PAIR_SCHEMA` and
    :data:`MULTI_SCHEMA`.
    """
    n = matches.height
    hit = matches.select([pl.col(r).fill_null(False).alias(r) for r in rules])
    rule_rows = []
    for r in rules:
        raw = int(hit[r].sum())
        kept_n = int((kept == r).sum()) if kept.dtype == pl.String else raw
        rule_rows.append((run, set_name, r, raw, kept_n, matches[r].null_count(), n))
    pair_rows = []
    for i, a in enumerate(rules):
        for b in rules[i + 1 :]:
            both = int((hit[a] & hit[b]).sum())
            either = int((hit[a] | hit[b]).sum())
            pair_rows.append((run, set_name, a, b, both, either))
    multi = int((hit.select(pl.sum_horizontal(pl.all().cast(pl.Int32))).to_series() >= 2).sum())
    return (
        pl.DataFrame(rule_rows, schema=RULE_SCHEMA, orient="row"),
        pl.DataFrame(pair_rows, schema=PAIR_SCHEMA, orient="row"),
        pl.DataFrame([(run, set_name, multi, n)], schema=MULTI_SCHEMA, orient="row"),
    )
