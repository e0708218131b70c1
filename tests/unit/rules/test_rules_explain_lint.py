"""explain, lint, the CLI's --json contract, the loader's outputs() and metric windows."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crm_sync.cli.main import app
from crm_sync.errors import ConfigError, ModelFileError
from crm_sync.model.frames import Dataset
from crm_sync.model.records import Company
from crm_sync.rules.compiled import SegmentationModel
from crm_sync.rules.engine import evaluate
from crm_sync.rules.explain import explain
from crm_sync.rules.lint import lint
from crm_sync.rules.load import load_model, load_model_text
from crm_sync.rules.metrics import window_start
from crm_sync.rules.reference import evaluate_reference
from crm_sync.rules.yamlpos import load_yaml

ROOT = Path(__file__).resolve().parents[3]
MODEL_PATH = ROOT / "mappings" / "model.yaml"
DATA_PATH = ROOT / "examples" / "data.json"
AS_OF = dt.date(2025, 10, 1)
runner = CliRunner()


@pytest.fixture(scope="module")
def model() -> SegmentationModel:
    return load_model(MODEL_PATH)


@pytest.fixture(scope="module")
def data() -> Dataset:
    return Dataset.load_json(DATA_PATH)


def test_explain_names_deciding_rule_and_clause_inputs(
    model: SegmentationModel, data: Dataset
) -> None:
    """explain gives each set's value, the deciding rule, and clauses with actual inputs."""
    out = explain(model, data, "company", "C-003", as_of=AS_OF)
    rel = next(s for s in out["sets"] if s["set"] == "relationship")
    assert rel["value"] == rel["decided_by"] == "one_night_stand"
    guru = next(r for r in rel["rules"] if r["id"] == "guru_disciple")
    assert guru["result"] == "false"
    assert [c["clause"] for c in guru["clauses"]] == [
        "share_of_wallet >= 0.5",
        "price_index >= 1.0",
    ]
    assert set(guru["clauses"][0]["inputs"]) == {"share_of_wallet"}
    assert guru["clauses"][0]["at"].startswith(str(MODEL_PATH))
    json.dumps(out)  # JSON-ready


def test_explain_shows_unknown_clauses_and_lifecycle_chain(
    model: SegmentationModel, data: Dataset
) -> None:
    """Unknown clauses say 'unknown'; a lifecycle shows every transition taken, in order."""
    out = explain(model, data, "contact", "P-0100", as_of=AS_OF)
    life = next(s for s in out["sets"] if s["set"] == "lifecycle")
    assert life["start"] == "former_customer"
    assert [p["transition"] for p in life["path"]] == ["won_back"]
    assert life["path"][0]["backward"] is True
    assert out["company"]["id"] == "C-034"
    company = explain(model, data, "company", "C-003", as_of=AS_OF)
    tags = next(s for s in company["sets"] if s["set"] == "company_tags")
    filtration = next(r for r in tags["rules"] if r["id"] == "cross_sell_filtration")
    assert filtration["clauses"][0]["result"] == "unknown"


def test_explain_unknown_id_is_a_config_error(model: SegmentationModel, data: Dataset) -> None:
    """An id not in the data raises a ConfigError that names it."""
    with pytest.raises(ConfigError, match="no company with id 'NOPE'"):
        explain(model, data, "company", "NOPE", as_of=AS_OF)
    with pytest.raises(ConfigError, match="unknown entity"):
        explain(model, data, "deal", "C-001", as_of=AS_OF)


def test_lint_reports_catch_all_overlap_unknowns_and_completeness(
    model: SegmentationModel, data: Dataset
) -> None:
    """Lint lists multi-matches before priority, catch-all shares, unknown counts, empty fields."""
    report = lint(model, data, as_of=AS_OF)
    text = "\n".join(str(f) for f in report.findings)
    assert report.ok
    assert "[relationship] 31 of 50" in text
    assert "match several rules before priority" in text
    assert "[persona.unassigned] catch-all gets" in text
    assert "required field empty" in text
    assert "unknown for" in text


def test_lint_flags_shadowed_dead_rules_tags_and_unique_overlap() -> None:
    """Shadowed and never-matching rules, 0 %/100 % tags and unique overlaps are reported."""
    text = """
version: 1
ruleset: t
fields:
  company:
    x: {type: number}
segments:
  s:
    entity: company
    hit_policy: first
    rules:
      - {id: big, when: x > 1}
      - {id: bigger, when: x > 2}
      - {id: never, when: x > 100}
    otherwise: {id: small}
  u:
    entity: company
    hit_policy: unique
    rules:
      - {id: a, when: x > 1}
      - {id: b, when: x > 2}
tags:
  t:
    entity: company
    rules:
      - {id: all, when: x > -10}
      - {id: none, when: x > 50}
"""
    model = load_model_text(text, "t.yaml")
    data = Dataset.from_records([Company(id=f"C{i}", attributes={"x": i}) for i in range(5)])
    report = lint(model, data, as_of=AS_OF)
    by_rule = {(f.set, f.rule): f for f in report.findings}
    assert "shadowed" in by_rule[("s", "bigger")].message
    assert "never matches" in by_rule[("s", "never")].message
    assert "100 %" in by_rule[("t", "all")].message
    assert "0 %" in by_rule[("t", "none")].message
    [error] = report.errors
    assert error.set == "u"
    assert error.samples == ("C3", "C4")
    assert error.position == "t.yaml:16:3"


def test_outputs_list_every_pushable_value(model: SegmentationModel) -> None:
    """outputs() gives name, entity, kind and every value for the mapping validator."""
    outputs = {o.name: o for o in model.outputs()}
    assert outputs["relationship"].values == (
        "stranger", "insufficient_data", "guru_disciple", "best_friend", "one_night_stand", "acquaintance",
    )  # fmt: skip
    assert outputs["abc_revenue"].values == ("A", "B", "C", "no_revenue")
    assert outputs["event_tags"].kind == "multi"
    assert "invited_not_attended_FAIR2025" in outputs["event_tags"].values
    assert outputs["lifecycle"].entity == "contact"
    assert len(model.fingerprint) == 64


def test_window_bounds_use_calendar_months() -> None:
    """12m from 2025-03-31 starts 2024-03-31; 1m from 03-31 clamps to the end of February."""
    assert window_start(dt.date(2025, 3, 31), "12m") == dt.date(2024, 3, 31)
    assert window_start(dt.date(2025, 3, 31), "1m") == dt.date(2025, 2, 28)
    assert window_start(dt.date(2025, 3, 31), "90d") == dt.date(2024, 12, 31)
    assert window_start(dt.date(2024, 2, 29), "1y") == dt.date(2023, 2, 28)
    assert window_start(dt.date(2025, 3, 31), None) is None


def test_yaml_duplicate_keys_are_rejected() -> None:
    """A key written twice is an error at the second one (PyYAML would keep the last silently)."""
    with pytest.raises(ModelFileError) as info:
        load_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert str(info.value.problems[0].position) == "f.yaml:3:1"


def test_reference_on_a_sample_matches_the_full_run(
    model: SegmentationModel, data: Dataset
) -> None:
    """The per-record path on a sample of ids gives the same values as the vectorised run."""
    full = evaluate(model, data, as_of=AS_OF)
    sample = evaluate_reference(
        model, data, as_of=AS_OF, ids={"contact": ["P-0004", "P-0100"], "company": ["C-003"]}
    )
    for entity in ("company", "contact"):
        ids = sample.results[entity]["id"].to_list()
        expected = full.results[entity].filter(full.results[entity]["id"].is_in(ids))
        assert sample.results[entity].to_dicts() == expected.to_dicts()
    assert sample.cutoffs == full.cutoffs


@pytest.mark.parametrize(
    "args",
    [
        ["lint", "--json"],
        ["explain", "company", "C-003", "--json"],
        ["validate", "--json"],
    ],
)
def test_cli_json_is_exactly_one_object(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """--json prints exactly one JSON object on stdout (defaults resolved from the repo root)."""
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert isinstance(payload, dict)
    assert payload["ok"] is True


def test_cli_explain_unknown_id_exits_2_with_json_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unknown id is a ConfigError: exit 2 and a JSON error object."""
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["explain", "company", "NOPE", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["type"] == "ConfigError"


def test_cli_human_explain_lists_clauses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Human explain output shows the set value and clause results."""
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["explain", "contact", "P-0100", "--as-of", "2025-10-01"])
    assert result.exit_code == 0
    assert "persona = loyal_decision_maker" in result.output
    assert "path: former_customer->customer" in result.output
