"""Transitions, stability, flapping, PSI, Wilson and lift against hand-computed numbers."""

from __future__ import annotations

import polars as pl
import pytest

from crm_sync.report import dynamics
from crm_sync.report.frames import VALUE_SCHEMA, Conversion, SetInfo, Snapshots

Z2 = 1.959963984540054**2  # 3.841459...


def _wide(snap: Snapshots, name: str = "rel") -> pl.DataFrame:
    return dynamics.wide(snap.values, name, [1, 2, 3])


def _tables(snap: Snapshots) -> dict[str, pl.DataFrame]:
    return {name: _wide(snap, name) for name in ("rel", "tier")}


def test_transition_matrix_row_normalised(snap: Snapshots) -> None:
    """Run 2 → 3 over c1..c4 (c5 gone, c6 new): A→A 1, B→A 1, B→C 1, C→C 1; P_B· = 1/2 each."""
    m = dynamics.transition_matrix(_wide(snap), 2, 3)
    got = {(r["from"], r["to"]): (r["n"], r["p"]) for r in m.to_dicts()}
    assert got == {
        ("A", "A"): (1, 1.0),
        ("B", "A"): (1, 0.5),
        ("B", "C"): (1, 0.5),
        ("C", "C"): (1, 1.0),
    }


def test_stability_and_dwell_time(snap: Snapshots) -> None:
    """Stability (1 + 0 + 1)/4 = 0.5; dwell 1/(1 − P_ii): B 1/(1 − 0) = 1, A and C never leave."""
    m = dynamics.transition_matrix(_wide(snap), 2, 3)
    assert dynamics.stability_of(m) == (pytest.approx(0.5), 4)
    assert dynamics.dwell_times(m) == {"A": None, "B": pytest.approx(1.0), "C": None}


def test_stability_series_per_consecutive_pair(snap: Snapshots) -> None:
    """Run 1→2: c1, c3, c4 stay of 5 = 0.6; run 2→3: c1, c4 stay of 4 = 0.5."""
    s = dynamics.stability_series(_wide(snap), [1, 2, 3])
    assert s.select("run", "records", "stayed").rows() == [(2, 5, 3), (3, 4, 2)]
    assert s["stability"].to_list() == pytest.approx([0.6, 0.5])


def test_flapping_and_bounce_in_window(snap: Snapshots) -> None:
    """k = 2: c2 goes A→B→A (2 changes, a bounce) of 5 records in run 3 → 1/5 each; k = 1: none."""
    f2 = dynamics.flapping(_wide(snap), [1, 2, 3], k=2)
    assert (f2["records"], f2["flapping"], f2["bounce"]) == (5, 1, 1)
    assert f2["flapping_share"] == pytest.approx(0.2)
    assert f2["bounce_share"] == pytest.approx(0.2)
    f1 = dynamics.flapping(_wide(snap), [1, 2, 3], k=1)
    assert (f1["flapping"], f1["bounce"]) == (0, 0)


def test_psi_between_runs(snap: Snapshots) -> None:
    """Run 1 (A .4, B .2, C .4) → run 2 (A .4, B .4, C .2): 0.2·ln 2 + 0.2·ln 2 = 0.277259."""
    total, bins = dynamics.psi(snap.values, snap.sets["rel"], 1, 2)
    assert total == pytest.approx(0.2772589, abs=1e-6)
    assert bins["value"].to_list() == ["A", "B", "C"]
    assert dynamics.psi(snap.values, snap.sets["rel"], 1, 3)[0] == pytest.approx(0.0)


def test_psi_counts_matches_psi_on_values(snap: Snapshots) -> None:
    """The count-based PSI the report uses equals the frame-based one (0.277259 for run 1 → 2)."""
    total, _ = dynamics.psi_counts(
        snap.sets["rel"], {"A": 2, "B": 1, "C": 2}, {"A": 2, "B": 2, "C": 1}
    )
    assert total == pytest.approx(0.2772589, abs=1e-6)


def test_psi_epsilon_smooths_an_empty_bin() -> None:
    """Reference A 2/2, B 0 → q_B = ε = 1e-4; current A 1/2, B 1/2:
    (0.5 − 1)·ln(0.5) + (0.5 − 0.0001)·ln(5000) = 0.3465736 + 4.2577449 = 4.6043185."""
    rows = [(1, "e", "x", "s", "A"), (1, "e", "y", "s", "A"), (2, "e", "x", "s", "A")]
    rows.append((2, "e", "y", "s", "B"))
    values = pl.DataFrame(rows, schema=VALUE_SCHEMA, orient="row")
    info = SetInfo("s", "e", "single", ("A", "B"))
    assert dynamics.psi(values, info, 1, 2)[0] == pytest.approx(4.6043185, abs=1e-6)


def test_wilson_interval_known_values() -> None:
    """1/4 → (0.0456, 0.6994) (textbook); 0/10 → (0, z²/(10 + z²) = 0.2775); n = 0 → undefined."""
    lo, hi = dynamics.wilson(1, 4)
    assert lo == pytest.approx(0.045587, abs=1e-5)
    assert hi == pytest.approx(0.699358, abs=1e-5)
    lo, hi = dynamics.wilson(0, 10)
    assert lo == 0.0
    assert hi == pytest.approx(0.277532, abs=1e-5)
    assert dynamics.wilson(0, 0) == (None, None)


def test_lift_per_segment_with_wilson_bounds(snap: Snapshots) -> None:
    """Conversion rel C → A at the next run. Eligible: (r1 c4 → C), (r1 c5 → A ✓), (r2 c4 → C):
    overall 1/3. tier X = {c5}: 1/1, lift 3, CI [1/(1 + z²), 1]·3 = [0.619648, 3];
    tier Y = {c4, c4}: 0/2, lift 0, CI [0, z²/(2 + z²)]·3 = [0, 1.972862]."""
    conv = Conversion("company", "rel", ("C",), ("A",))
    overall, table = dynamics.lift(_tables(snap), conv, snap.sets, [1, 2, 3])
    assert overall == {"eligible": 3, "converted": 1, "rate": pytest.approx(1 / 3)}
    x = table.filter((pl.col("set") == "tier") & (pl.col("value") == "X")).row(0, named=True)
    assert (x["n"], x["converted"]) == (1, 1)
    assert x["lift"] == pytest.approx(3.0)
    assert x["lift_lo"] == pytest.approx(3 / (1 + Z2))
    assert x["lift_lo"] == pytest.approx(0.619648, abs=1e-5)
    assert x["lift_hi"] == pytest.approx(3.0)
    y = table.filter((pl.col("set") == "tier") & (pl.col("value") == "Y")).row(0, named=True)
    assert (y["n"], y["converted"], y["lift"], y["lift_lo"]) == (2, 0, 0.0, 0.0)
    assert y["lift_hi"] == pytest.approx(1.972862, abs=1e-5)
    c = table.filter((pl.col("set") == "rel") & (pl.col("value") == "C")).row(0, named=True)
    assert c["lift"] == pytest.approx(1.0)  # the eligible segment itself converts at the base rate


def test_lift_to_anything_else_by_default(snap: Snapshots) -> None:
    """to_values None: any other value counts. From B: (r1 c3 → B), (r2 c2 → A ✓), (r2 c3 → C ✓)."""
    overall, _ = dynamics.lift(
        _tables(snap), Conversion("company", "rel", ("B",)), snap.sets, [1, 2, 3]
    )
    assert (overall["eligible"], overall["converted"]) == (3, 2)
