"""The admin's path through the CLI: provision, run against the sandbox, then explain a pushed value."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crm_sync.mapping.load import load_mapping_file
from crm_sync.sandbox.launcher import start_sandbox

ROOT = Path(__file__).resolve().parents[2]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crm_sync.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.parametrize("target", ["hubspot", "salesforce"])
def test_pushed_value_is_explained_from_the_store(tmp_path, target):
    """After `run`, `explain --target` shows the value pushed, its deciding rule and the audit row."""
    with start_sandbox(seed=3, size=8) as sandbox:
        env = {
            **os.environ,
            **sandbox.environment(),
            "CRM_SYNC_STORE_PATH": str(tmp_path / "state.sqlite"),
            "CRM_SYNC_RATE_PER_S": "0",
        }
        provision = _cli(env, "provision", "--target", target, "--apply", "--json")
        assert provision.returncode == 0, provision.stderr[-2000:]
        run = _cli(env, "run", "--target", target, "--json")
        assert run.returncode == 0, run.stderr[-2000:]
        assert json.loads(run.stdout)["run"]["counts"]["records_pushed"] > 0
        status = _cli(env, "status", "--json")
        assert status.returncode == 0, status.stderr[-2000:]
        account = json.loads(status.stdout)["runs"][0]["account"]
        crm_id = _first_pushed_contact(tmp_path / "state.sqlite", account)
        explained = _cli(env, "explain", "contact", crm_id, "--target", target, "--json")
    assert explained.returncode == 0, explained.stderr[-2000:]
    result = json.loads(explained.stdout)
    assert result["ok"] is True
    assert result["pushed"], "the audit rows of the pushed values are shown"
    assert all(p["status"] == "confirmed" for p in result["pushed"])
    decided = {s["set"]: s for s in result["sets"]}
    persona = decided["persona"]
    assert persona["decided_by"] is not None
    assert any(rule["clauses"] for rule in persona["rules"]), "each clause comes with its inputs"
    spec = load_mapping_file(ROOT / "mappings" / f"{target}.yaml", None).doc.properties["contact"]
    crm_persona = spec["persona"].options[persona["value"]].value
    pushed = {p["property"]: p["new"] for p in result["pushed"]}
    assert pushed[spec["persona"].crm_name()] == crm_persona, (
        "the explained value is the pushed one"
    )


def _first_pushed_contact(store_path: Path, account: str) -> str:
    import sqlite3

    with sqlite3.connect(store_path) as conn:
        row = conn.execute(
            "select record_id from audit where account = ? and entity = 'contact' "
            "and status = 'confirmed' order by seq limit 1",
            (account,),
        ).fetchone()
    assert row, "the run pushed at least one contact value"
    return str(row[0])


def test_report_reads_the_history_of_real_sync_runs(tmp_path):
    """Two runs at different as_of dates leave per-record snapshots that `report` turns into transitions."""
    with start_sandbox(seed=5, size=10) as sandbox:
        env = {
            **os.environ,
            **sandbox.environment(),
            "CRM_SYNC_STORE_PATH": str(tmp_path / "state.sqlite"),
            "CRM_SYNC_RATE_PER_S": "0",
        }
        assert _cli(env, "provision", "--target", "hubspot", "--apply").returncode == 0
        for day in ("2025-11-01", "2026-11-01"):
            run = _cli(env, "run", "--target", "hubspot", "--as-of", day, "--json")
            assert run.returncode == 0, run.stderr[-2000:]
        html = tmp_path / "report.html"
        report = _cli(env, "report", "--json", "--html", str(html))
    assert report.returncode == 0, report.stderr[-2000:]
    payload = json.loads(report.stdout)
    assert payload["ok"] is True
    assert [r["as_of"] for r in payload["runs"]] == ["2025-11-01", "2026-11-01"]
    assert "examples/data.json" not in payload["origin"]
    abc = next(t for t in payload["transitions"] if t["set"] == "abc_revenue")
    assert abc["records"] == 10, "every company of the sandbox is in the run-to-run matrix"
    assert sum(cell["n"] for cell in abc["matrix"]) == 10
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
