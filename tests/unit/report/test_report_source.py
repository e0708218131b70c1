"""Snapshot sources: model thresholds, evaluations of a data file, the store, and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from crm_sync.cli.main import app
from crm_sync.model.frames import Dataset
from crm_sync.report.build import ReportOptions, build_report
from crm_sync.report.modelinfo import thresholds
from crm_sync.report.source import as_of_dates, snapshots_from_evaluations
from crm_sync.report.store_source import (
    save_fact_snapshot,
    save_record_snapshot,
    snapshots_from_store,
)
from crm_sync.rules.engine import evaluate
from crm_sync.rules.load import load_model, load_model_text
from crm_sync.store import schema as t
from crm_sync.store.sql import Store, upsert
from crm_sync.sync.computer import frame_values

ROOT = Path(__file__).resolve().parents[3]
MODEL = ROOT / "mappings" / "model.yaml"
DATA = ROOT / "examples" / "data.json"
DATES = as_of_dates(dt.date(2025, 10, 1), 3, 60)
NOW = dt.datetime(2025, 10, 2, 6, tzinfo=dt.UTC)


def test_as_of_dates_end_at_latest() -> None:
    """3 dates 60 days apart ending 2025-10-01: 2025-06-03, 2025-08-02, 2025-10-01."""
    got = as_of_dates(dt.date(2025, 10, 1), 3, 60)
    assert got == [dt.date(2025, 6, 3), dt.date(2025, 8, 2), dt.date(2025, 10, 1)]


def test_thresholds_come_from_the_relationship_rules() -> None:
    """Default model: 0.50 / 1.00; edited rules move the regions; no such rules → defaults."""
    assert thresholds(load_model(MODEL)) == (0.5, 1.0)
    text = MODEL.read_text(encoding="utf-8")
    edited = text.replace("share_of_wallet >= 0.50", "share_of_wallet >= 0.60").replace(
        "price_index >= 1.00", "price_index >= 1.10"
    )
    assert thresholds(load_model_text(edited, "edited.yaml")) == (0.6, 1.1)
    assert thresholds(load_model(MODEL), set_name="persona") == (0.5, 1.0)


@pytest.fixture(scope="module")
def evaluated() -> tuple[Any, Dataset, list[Any]]:
    """The default model on the example data at the three dates."""
    model = load_model(MODEL)
    dataset = Dataset.load_json(DATA)
    return model, dataset, [evaluate(model, dataset, as_of=d) for d in DATES]


def test_evaluation_snapshots_match_each_evaluation(
    evaluated: tuple[Any, Dataset, list[Any]],
) -> None:
    """Sizes per run equal each evaluation's own value counts; every record is in the facts."""
    model, dataset, evs = evaluated
    snap = snapshots_from_evaluations(model, evs, dataset)
    report = build_report(snap, ReportOptions(now=NOW))
    for run, ev in enumerate(evs, start=1):
        summary = ev.summary()["outputs"]
        for name, out in summary.items():
            got = {
                r["value"]: r["n"]
                for r in report["sizes"]
                if r["run"] == run and r["set"] == name and r["n"]
            }
            assert got == out["counts"], (run, name)
    assert snap.facts.filter(pl.col("run") == 1).height == 50 + 150


def _store_runs(store: Store, model: Any, dataset: Dataset, evs: list[Any]) -> None:
    """Write each evaluation as a run: results upserted, then the record and fact snapshots."""
    account = "memory:report-test"
    for ev in evs:
        run_id = store.start_run(account, "test", dry_run=False, as_of=ev.as_of)
        values = frame_values({str(k): v for k, v in ev.results.items()})
        rows = [
            {
                "account": account,
                "entity": entity,
                "record_id": rid,
                "output": output,
                "value": json.dumps(list(v) if isinstance(v, tuple) else v),
                "rule": None,
                "run_id": run_id,
            }
            for entity, records in values.items()
            for rid, outputs in records.items()
            for output, v in outputs.items()
        ]
        with store.begin() as conn:
            upsert(conn, t.results, rows, ["account", "entity", "record_id", "output"])
            save_record_snapshot(conn, run_id, account)
            save_fact_snapshot(conn, run_id, account, evaluation=ev, model=model, dataset=dataset)
        store.finish_run(run_id, "ok", {})


def test_store_history_gives_the_same_report(
    evaluated: tuple[Any, Dataset, list[Any]], tmp_path: Path
) -> None:
    """Runs stored through the record/fact snapshot tables report the same sizes, transitions,
    completeness and relationship map as the evaluations they came from."""
    model, dataset, evs = evaluated
    store = Store.open(path=tmp_path / "state.sqlite")
    try:
        _store_runs(store, model, dataset, evs)
        snap = snapshots_from_store(store, model, runs=30, mapping_dir=tmp_path)
    finally:
        store.close()
    assert snap is not None
    from_store = build_report(snap, ReportOptions(now=NOW))
    direct = build_report(snapshots_from_evaluations(model, evs, dataset), ReportOptions(now=NOW))

    def strip(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return sorted(
            (r["set"], r["value"], r["n"], r["revenue"], r["potential"]) for r in rows if r["n"]
        )

    assert strip(from_store["sizes"]) == strip(direct["sizes"])
    for a, b in zip(from_store["transitions"], direct["transitions"], strict=True):
        assert (a["set"], a["matrix"], a["stability"]) == (b["set"], b["matrix"], b["stability"])
    keep = ("entity", "field", "known", "records")
    assert [{k: f[k] for k in keep} for f in from_store["completeness"]["fields"]] == [
        {k: f[k] for k in keep} for f in direct["completeness"]["fields"]
    ]
    assert from_store["relationship_map"]["points"] == direct["relationship_map"]["points"]
    assert [r["as_of"] for r in from_store["runs"]] == [d.isoformat() for d in DATES]


def test_store_without_record_snapshots_has_no_history(tmp_path: Path) -> None:
    """A store whose runs predate migration 3 yields no history (the CLI then falls back)."""
    store = Store.open(path=tmp_path / "state.sqlite")
    try:
        store.start_run("memory:x", "test", dry_run=False, as_of=dt.date(2025, 1, 1))
        assert snapshots_from_store(store, load_model(MODEL)) is None
    finally:
        store.close()


def test_report_cli_writes_html_and_one_json_object(tmp_path: Path) -> None:
    """``crm-sync report --data … --html FILE --json``: one JSON object on stdout, the page on disk."""
    page = tmp_path / "out" / "report.html"
    args = ["report", "--data", str(DATA), "--model", str(MODEL), "--runs", "3", "--step", "60"]
    result = CliRunner().invoke(app, [*args, "--html", str(page), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["ok"] is True
    assert payload["html"] == str(page)
    assert [r["as_of"] for r in payload["runs"]] == [d.isoformat() for d in DATES]
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_cli_reads_the_store(
    evaluated: tuple[Any, Dataset, list[Any]], tmp_path: Path
) -> None:
    """``crm-sync report --store-url sqlite:///…`` reports the stored runs, not the data file."""
    model, dataset, evs = evaluated
    db = tmp_path / "state.sqlite"
    store = Store.open(path=db)
    try:
        _store_runs(store, model, dataset, evs[:2])
    finally:
        store.close()
    args = ["report", "--model", str(MODEL), "--store-url", f"sqlite:///{db}", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["origin"] == "store, account memory:report-test"
    assert len(payload["runs"]) == 2
