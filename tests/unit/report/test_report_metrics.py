"""Per-run metrics against the hand-made history of conftest.py (numbers worked out by hand)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from crm_sync.report import metrics, ops
from crm_sync.report.frames import Snapshots


def _row(frame: pl.DataFrame, **where: object) -> dict[str, object]:
    sel = frame
    for k, v in where.items():
        sel = sel.filter(pl.col(k) == v)
    assert sel.height == 1, (where, sel)
    return sel.row(0, named=True)


def test_coverage_is_one_minus_catch_all_share(snap: Snapshots) -> None:
    """Coverage = 1 − n(C)/N: run 1 C∈{c4,c5} 2/5, run 2 {c4} 1/5, run 3 {c3,c4} 2/5."""
    cov = metrics.coverage(snap.values, snap.sets)
    expected = {1: (5, 2, 0.4, 0.6), 2: (5, 1, 0.2, 0.8), 3: (5, 2, 0.4, 0.6)}
    for run, (n, catch, share, coverage) in expected.items():
        row = _row(cov, set="rel", run=run)
        assert (row["records"], row["catch_all"]) == (n, catch)
        assert row["catch_all_share"] == pytest.approx(share)
        assert row["coverage"] == pytest.approx(coverage)


def test_coverage_without_catch_all_counts_records_with_a_value(snap: Snapshots) -> None:
    """A set with no catch-all: coverage is the share with any value (tier: all 5 have one)."""
    row = _row(metrics.coverage(snap.values, snap.sets), set="tier", run=3)
    assert row["coverage"] == pytest.approx(1.0)


def test_segment_sizes_revenue_potential_and_growth(snap: Snapshots) -> None:
    """Run 3: A={c1,c2} rev 150 pot 300, B={c6} 5/10, C={c3,c4} 20/40 (null potential skipped)."""
    sizes = metrics.segment_sizes(snap.values, snap.facts, snap.sets, [1, 2, 3])
    a3 = _row(sizes, set="rel", value="A", run=3)
    assert (a3["n"], a3["revenue"], a3["potential"], a3["share"]) == (2, 150.0, 300.0, 0.4)
    b3 = _row(sizes, set="rel", value="B", run=3)
    assert (b3["n"], b3["revenue"], b3["potential"]) == (1, 5.0, 10.0)
    c3 = _row(sizes, set="rel", value="C", run=3)
    assert (c3["n"], c3["revenue"], c3["potential"]) == (2, 20.0, 40.0)
    # growth n(t)/n(t−1) − 1: B 1 → 2 → 1, C 2 → 1 → 2, A 2 → 2 → 2; run 1 has none.
    assert _row(sizes, set="rel", value="B", run=1)["growth"] is None
    assert _row(sizes, set="rel", value="B", run=2)["growth"] == pytest.approx(1.0)
    assert _row(sizes, set="rel", value="B", run=3)["growth"] == pytest.approx(-0.5)
    assert _row(sizes, set="rel", value="C", run=2)["growth"] == pytest.approx(-0.5)
    assert _row(sizes, set="rel", value="C", run=3)["growth"] == pytest.approx(1.0)
    assert _row(sizes, set="rel", value="A", run=3)["growth"] == pytest.approx(0.0)


def test_tag_prevalence_divides_by_all_records(snap: Snapshots) -> None:
    """Run 3 has 5 companies: t1 on c1, c2, c6 = 3/5; t2 on c2 = 1/5; run 1 has no tags = 0."""
    sizes = metrics.segment_sizes(snap.values, snap.facts, snap.sets, [1, 2, 3])
    assert _row(sizes, set="tags", value="t1", run=3)["share"] == pytest.approx(0.6)
    assert _row(sizes, set="tags", value="t2", run=3)["share"] == pytest.approx(0.2)
    assert _row(sizes, set="tags", value="t1", run=1)["n"] == 0


def test_completeness_per_field_and_owner(snap: Snapshots) -> None:
    """4 of 5 known = 0.8; owner o1 1/2, o2 2/2, no owner 1/1."""
    per_field, per_owner = metrics.completeness(snap.fields)
    row = _row(per_field, field="planned", run=1)
    assert (row["known"], row["records"], row["completeness"]) == (4, 5, 0.8)
    assert _row(per_owner, owner="o1")["completeness"] == pytest.approx(0.5)
    assert _row(per_owner, owner="o2")["completeness"] == pytest.approx(1.0)
    assert _row(per_owner, owner=metrics.NONE)["completeness"] == pytest.approx(1.0)


def test_rule_quality_evaluability_shadowed_and_dead(snap: Snapshots) -> None:
    """rA: 1 − 1/5 = 0.8 ok; rB: raw 2, kept 0 = shadowed; rX: raw 0 = dead, evaluability 0."""
    q = metrics.rule_quality(snap.rules)
    assert _row(q, rule="rA")["evaluability"] == pytest.approx(0.8)
    assert _row(q, rule="rA")["status"] == "ok"
    assert _row(q, rule="rB")["status"] == "shadowed"
    assert _row(q, rule="rX")["status"] == "dead"
    assert _row(q, rule="rX")["evaluability"] == pytest.approx(0.0)


def test_rule_match_stats_overlap_and_jaccard() -> None:
    """Raw matrix with unknowns: raw/kept/unknown per rule, pairwise Jaccard, ≥2-match share."""
    matches = pl.DataFrame(
        {
            "rA": [True, True, False, None, True],
            "rB": [True, None, True, None, True],
            "rC": [False, True, None, False, True],
        },
        schema={"rA": pl.Boolean, "rB": pl.Boolean, "rC": pl.Boolean},
    )
    kept = pl.Series(["rA", "rA", "rB", "other", "rA"])
    rules, pairs, multi = metrics.rule_match_stats(7, "s", matches, ["rA", "rB", "rC"], kept)
    got = {r["rule"]: (r["raw"], r["kept"], r["unknown"]) for r in rules.to_dicts()}
    assert got == {"rA": (3, 3, 1), "rB": (3, 1, 2), "rC": (2, 0, 1)}
    shares, jac = metrics.overlap(multi, pairs)
    assert _row(shares, set="s")["overlap_share"] == pytest.approx(0.6)  # records 1, 2, 5
    # A∩B = {1,5}, A∪B = {1,2,3,5}; A∩C = {2,5}, A∪C = {1,2,5}; B∩C = {5}, B∪C = {1,2,3,5}
    assert _row(jac, a="rA", b="rB")["jaccard"] == pytest.approx(0.5)
    assert _row(jac, a="rA", b="rC")["jaccard"] == pytest.approx(2 / 3)
    assert _row(jac, a="rB", b="rC")["jaccard"] == pytest.approx(0.25)
    assert metrics.rule_quality(rules).filter(pl.col("rule") == "rC")["status"][0] == "shadowed"


def test_freshness_age_and_source_lag(snap: Snapshots) -> None:
    """Computed 2025-03-02 00:00; now +6 h; activities lag 12 h; potentials 29 days = 696 h, late."""
    fr = ops.freshness(snap.runs, snap.sources, dt.datetime(2025, 3, 2, 6, tzinfo=dt.UTC))
    assert fr["run"] == 3
    assert fr["age_hours"] == pytest.approx(6.0)
    sources = {s["source"]: s for s in fr["sources"]}  # type: ignore[attr-defined]
    assert sources["activities"]["lag_hours"] == pytest.approx(12.0)
    assert sources["activities"]["late"] is False
    assert sources["potentials"]["lag_hours"] == pytest.approx(696.0)
    assert sources["potentials"]["late"] is True


def test_reconciliation_equal_share_and_manual_overrides(snap: Snapshots) -> None:
    """c1, c3 and c4 (null = null) equal: 3/5; c2 was pushed A, CRM shows B: 1 override."""
    rec = ops.reconciliation(snap.crm)
    assert (rec["values"], rec["equal"], rec["overrides"]) == (5, 3, 1)
    assert rec["equal_share"] == pytest.approx(0.6)
