"""Issue #7: the segment report for 100,000 companies over 30 snapshots in under 30 s.

Synthetic history, generated vectorised in polars (no per-row Python): every company has a base
share of wallet, price index, revenue and stage; each run perturbs them with deterministic noise
(MINSTD-style integer hashing of (company, run, salt)), so categories drift, some companies flap
around the thresholds, strangers start buying and leads convert. 10 % have no potential (unknown
share of wallet). Snapshots: relationship, ABC and stage (single) plus two tags, facts, two
required fields per company, rule statistics per run.

Measured in a child process (peak memory is the report's alone): build every metric
(:func:`crm_sync.report.build.build_report`) and render the HTML; generation is timed separately
and not part of the target. The HTML is written to ``bench/out/report_100k.html``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import polars as pl

from bench import ROOT, bench_scale, emit, peak_rss_mb, run_child

TARGET_SECONDS = 30.0
COMPANIES = 100_000
RUNS = 30
MOD = 2_147_483_647


def _u(i: pl.Expr, run: int, salt: int) -> pl.Expr:
    """Deterministic uniform [0, 1) from (i, run, salt): squaring and MINSTD rounds (x < 2^31)."""
    x = (i * 7919 + run * 104_729 + salt * 15_485_863 + 12_345) % MOD
    x = (x * x + 7_777) % MOD  # non-linear round: sampled ids must not line up
    x = (x * 48_271) % MOD
    x = (x * x + 3_331) % MOD
    x = (x * 48_271) % MOD
    return x.cast(pl.Float64) / MOD


def generate(companies: int, runs: int) -> Any:
    """The synthetic :class:`~crm_sync.report.frames.Snapshots`."""
    import datetime as dt

    from crm_sync.report.frames import (
        FACT_SCHEMA,
        FIELD_SCHEMA,
        RULE_SCHEMA,
        RUN_SCHEMA,
        SOURCE_SCHEMA,
        VALUE_SCHEMA,
        Conversion,
        SetInfo,
        Snapshots,
    )

    i = pl.col("i")
    base = pl.DataFrame({"i": pl.int_range(0, companies, eager=True, dtype=pl.Int64)}).with_columns(
        pl.format("C-{}", pl.col("i").cast(pl.String).str.zfill(6)).alias("id"),
        pl.format("owner{}@example.com", (pl.col("i") % 40).cast(pl.String)).alias("owner"),
        _u(i, 0, 1).alias("sow0"),
        (0.7 + 0.6 * _u(i, 0, 2)).alias("pi0"),
        (1_000 + 200_000 * _u(i, 0, 3) ** 3).alias("rev0"),
        (_u(i, 0, 4) < 0.10).alias("no_potential"),
        (_u(i, 0, 5) < 0.08).alias("stranger0"),
        (3 * _u(i, 0, 6)).alias("stage0"),
        (_u(i, 0, 7) * 0.15).alias("stage_rate"),
    )
    values, facts, fields, rules = [], [], [], []
    start = dt.date(2023, 6, 1)
    run_rows = []
    for r in range(1, runs + 1):
        sow = (pl.col("sow0") + 0.12 * (_u(i, r, 11) - 0.5)).clip(0.0, 1.0)
        frame = base.with_columns(
            pl.when(pl.col("no_potential")).then(None).otherwise(sow).alias("share_of_wallet"),
            (pl.col("pi0") + 0.06 * (_u(i, r, 12) - 0.5)).alias("price_index"),
            (pl.col("stranger0") & (_u(i, r, 13) > 0.02 * r)).alias("stranger"),
            (pl.col("rev0") * (0.9 + 0.2 * _u(i, r, 14))).alias("revenue"),
            (pl.col("stage0") + pl.col("stage_rate") * r).floor().clip(0, 2).alias("stage_n"),
            (_u(i, r, 15) > 0.12).alias("planned_known"),
        ).with_columns(
            pl.when(pl.col("stranger")).then(0.0).otherwise(pl.col("revenue")).alias("revenue"),
            pl.when(pl.col("no_potential"))
            .then(None)
            .otherwise(pl.col("revenue") / pl.col("sow0").clip(0.02, 1.0))
            .alias("potential"),
        )
        rel = (
            pl.when(pl.col("stranger"))
            .then(pl.lit("stranger"))
            .when(pl.col("share_of_wallet").is_null())
            .then(pl.lit("insufficient_data"))
            .when((pl.col("share_of_wallet") >= 0.5) & (pl.col("price_index") >= 1.0))
            .then(pl.lit("guru_disciple"))
            .when(pl.col("share_of_wallet") >= 0.5)
            .then(pl.lit("best_friend"))
            .when(pl.col("price_index") >= 1.0)
            .then(pl.lit("one_night_stand"))
            .otherwise(pl.lit("acquaintance"))
        )
        abc = (
            pl.when(pl.col("revenue") <= 0)
            .then(pl.lit("no_revenue"))
            .when(pl.col("revenue") >= 60_000)
            .then(pl.lit("A"))
            .when(pl.col("revenue") >= 15_000)
            .then(pl.lit("B"))
            .otherwise(pl.lit("C"))
        )
        stage = (
            pl.col("stage_n")
            .cast(pl.Int64)
            .replace_strict({0: "lead", 1: "prospect", 2: "customer"}, return_dtype=pl.String)
        )
        single = frame.select(
            "id", rel.alias("relationship"), abc.alias("abc_revenue"), stage.alias("stage")
        ).unpivot(index="id", variable_name="set", value_name="value")
        tags = (
            frame.select(
                "id",
                pl.concat_list(
                    pl.when(_u(i, r, 16) < 0.3).then(pl.lit("t_visit")),
                    pl.when(pl.col("share_of_wallet") > 0.8).then(pl.lit("t_loyal")),
                )
                .list.drop_nulls()
                .alias("value"),
            )
            .explode("value")
            .drop_nulls("value")
            .with_columns(pl.lit("tags").alias("set"))
        )
        values.append(
            pl.concat([single, tags.select("id", "set", "value")]).select(
                pl.lit(r, pl.Int64).alias("run"),
                pl.lit("company").alias("entity"),
                "id",
                "set",
                "value",
            )
        )
        facts.append(
            frame.select(
                pl.lit(r, pl.Int64).alias("run"),
                pl.lit("company").alias("entity"),
                "id",
                "owner",
                "revenue",
                "potential",
                "share_of_wallet",
                "price_index",
            )
        )
        for name, known in (("planned_visits_90d", "planned_known"), ("potential_annual", None)):
            expr = pl.col(known) if known else ~pl.col("no_potential")
            fields.append(
                frame.select(
                    pl.lit(r, pl.Int64).alias("run"),
                    pl.lit("company").alias("entity"),
                    "id",
                    "owner",
                    pl.lit(name).alias("field"),
                    expr.alias("known"),
                )
            )
        for rule, raw, kept, unknown in (
            ("stranger", 8_000, 8_000, 0),
            ("insufficient_data", 10_000, 9_000, 0),
            ("guru_disciple", 20_000, 18_000, 10_000),
            ("best_friend", 40_000, 20_000, 10_000),
            ("one_night_stand", 45_000, 20_000, 10_000),
        ):
            rules.append((r, "relationship", rule, raw, kept, unknown, companies))
        as_of = start + dt.timedelta(days=30 * (r - 1))
        computed = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC)
        run_rows.append((r, as_of, computed, "synthetic"))
    last = run_rows[-1][2]
    sets = {
        "relationship": SetInfo(
            "relationship",
            "company",
            "single",
            ("stranger", "insufficient_data", "guru_disciple", "best_friend", "one_night_stand", "acquaintance"),
            "acquaintance",
            "Relationship category",
        ),
        "abc_revenue": SetInfo("abc_revenue", "company", "single", ("A", "B", "C", "no_revenue"), "no_revenue", "ABC class"),
        "stage": SetInfo("stage", "company", "single", ("lead", "prospect", "customer"), None, "Stage"),
        "tags": SetInfo("tags", "company", "multi", ("t_visit", "t_loyal"), None, "Tags"),
    }  # fmt: skip
    snap = Snapshots(
        sets=sets,
        runs=pl.DataFrame(run_rows, schema=RUN_SCHEMA, orient="row"),
        values=pl.concat(values).cast(VALUE_SCHEMA),  # type: ignore[arg-type]
        facts=pl.concat(facts).cast(FACT_SCHEMA),  # type: ignore[arg-type]
        fields=pl.concat(fields).cast(FIELD_SCHEMA),  # type: ignore[arg-type]
        rules=pl.DataFrame(rules, schema=RULE_SCHEMA, orient="row"),
        sources=pl.DataFrame(
            [(runs, "activities", last - dt.timedelta(hours=7))], schema=SOURCE_SCHEMA, orient="row"
        ),
        origin=f"synthetic: {companies:,} companies × {runs} runs",
    )
    conversions = (
        Conversion("company", "stage", ("lead", "prospect"), ("customer",)),
        Conversion("company", "relationship", ("stranger",), None),
    )
    return snap, conversions


def measure(companies: int, runs: int, out: Path | None) -> dict[str, Any]:
    """Generate, then time build_report + render_html (the measured part)."""
    from crm_sync.report.build import ReportOptions, build_report
    from crm_sync.report.html import render_html

    t0 = time.perf_counter()
    snap, conversions = generate(companies, runs)
    gen_s = time.perf_counter() - t0
    rows = snap.values.height
    t1 = time.perf_counter()
    report = build_report(snap, ReportOptions(conversions=conversions))
    t2 = time.perf_counter()
    page = render_html(report, title="crm_sync segment report (synthetic benchmark)")
    t3 = time.perf_counter()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
    return {
        "companies": companies,
        "runs": runs,
        "value_rows": rows,
        "generate_s": gen_s,
        "metrics_s": t2 - t1,
        "html_s": t3 - t2,
        "total_s": t3 - t1,
        "html_bytes": len(page.encode()),
        "points": report["relationship_map"]["sampled"],
        "peak_mb": peak_rss_mb(),
    }


def main(scale: float | None = None) -> str:
    """Run the measurement in a child process and return the markdown section."""
    scale = bench_scale() if scale is None else scale
    companies = max(100, round(COMPANIES * scale))
    res = run_child("bench.bench_report", ["measure", "--companies", str(companies)])
    ok = res["total_s"] < TARGET_SECONDS
    return "\n".join(
        [
            f"Segment report over {res['companies']:,} companies × {res['runs']} snapshots "
            f"({res['value_rows']:,} value rows; synthetic, `bench/bench_report.py`).",
            "",
            "| target | measured | met |",
            "|---|---|---|",
            f"| metrics + HTML | {res['total_s']:.1f} s | {'yes' if ok else '**no**'} |",
            "",
            "| step | figure |",
            "|---|---|",
            f"| generate snapshots (not timed for the target) | {res['generate_s']:.1f} s |",
            f"| build every metric | {res['metrics_s']:.2f} s |",
            f"| render HTML | {res['html_s']:.2f} s, {res['html_bytes'] / 1024:.0f} KiB, "
            f"{res['points']:,} scatter points |",
            f"| peak RSS of the process | {res['peak_mb']:.0f} MiB |",
        ]
    )


def _cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_report")
    parser.add_argument("phase", choices=["measure"])
    parser.add_argument("--companies", type=int, default=COMPANIES)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    emit(measure(args.companies, args.runs, ROOT / "bench" / "out" / "report_100k.html"))


if __name__ == "__main__":
    _cli()
