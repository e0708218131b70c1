"""The benchmark runner: discovery, results.md sections, scale handling, and a tiny rules run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[3]
if str(_ROOT) not in sys.path:  # `bench` is a top-level folder, not an installed package
    sys.path.insert(0, str(_ROOT))

from bench import bench_scale  # noqa: E402
from bench.__main__ import discover, render, update_results  # noqa: E402


def test_discovers_rules_benchmark() -> None:
    """Every bench/bench_*.py module is found, including bench_rules."""
    assert "bench_rules" in discover()


def test_update_results_replaces_only_its_section(tmp_path: Path) -> None:
    """Writing one benchmark's section keeps the other sections and the header."""
    path = tmp_path / "results.md"
    update_results({"a": "<!-- bench:a -->\nA1\n<!-- /bench:a -->"}, path)
    update_results({"b": "<!-- bench:b -->\nB1\n<!-- /bench:b -->"}, path)
    update_results({"a": "<!-- bench:a -->\nA2\n<!-- /bench:a -->"}, path)
    text = path.read_text()
    assert "A2" in text
    assert "A1" not in text
    assert "B1" in text
    assert text.startswith("# crm_sync benchmarks")


def test_render_accepts_str_mapping_or_printed_output() -> None:
    """A module may return markdown, a figures mapping, a number or nothing (output is kept)."""
    assert render("**x**", "") == "**x**"
    assert "| seconds | 1.5 |" in render({"seconds": 1.5}, "")
    assert "hello" in render(None, "hello\n")
    number = render(2.5, "took 2.5 s\n")
    assert "**2.5**" in number
    assert "took 2.5 s" in number


def test_scale_comes_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """CRM_SYNC_BENCH_SCALE sets the scale; absent means 1.0; non-positive is refused."""
    assert bench_scale() == 1.0
    monkeypatch.setenv("CRM_SYNC_BENCH_SCALE", "0.01")
    assert bench_scale() == 0.01
    monkeypatch.setenv("CRM_SYNC_BENCH_SCALE", "0")
    with pytest.raises(ValueError, match="must be > 0"):
        bench_scale()


def test_rules_benchmark_runs_at_tiny_scale() -> None:
    """`python -m bench rules --scale 0.002 --no-write` reports every figure of issue #2."""
    env = {**os.environ, "PYTHONPATH": str(_ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "rules", "--scale", "0.002", "--no-write"],
        cwd=_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    for figure in (
        "evaluation wall time",
        "evaluation peak memory",
        "per-record speed-up vs reference",
        "results agree with the reference: yes",
    ):
        assert figure in proc.stdout
