"""``crm-sync demo`` end to end, as ``make demo`` runs it: a real subprocess, both CRMs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crm_sync.cli", "demo", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_demo_json_reports_two_runs_per_crm_and_the_second_pushes_nothing():
    """The demo seeds, provisions and syncs both CRMs; run 1 pushes, run 2 pushes nothing."""
    result = _demo("--json", "--size", "12")
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    assert summary["ok"] is True
    assert [t["target"] for t in summary["targets"]] == ["hubspot", "salesforce"]
    runs = summary["runs"]
    assert [(r["target"], r["run"]) for r in runs] == [
        ("hubspot", 1),
        ("hubspot", 2),
        ("salesforce", 1),
        ("salesforce", 2),
    ]
    for first, second in (runs[0:2], runs[2:4]):
        assert first["status"] == second["status"] == "ok"
        assert first["pulled"] > 0
        assert first["computed"] > 0
        assert first["pushed"] > 0
        assert first["write_calls"] > 0
        assert second["pushed"] == 0
        assert second["write_calls"] == 0
        assert first["api_calls_by_endpoint"]
        assert {"rate_limited_429", "dead_letters", "seconds", "changed"} <= first.keys()
    assert summary["second_run_pushed"] == {"hubspot": 0, "salesforce": 0}


def test_demo_human_output_goes_to_stderr_only():
    """Without --json nothing is printed on stdout; the human summary is on stderr."""
    result = _demo("--size", "6", "--target", "hubspot")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == ""
    assert "run 2: ok" in result.stderr
