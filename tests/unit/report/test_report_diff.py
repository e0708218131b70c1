"""``model diff``: a hand-made model pair over five companies, every number worked out by hand.

OLD: size big ≥ 100 employees, mid ≥ 20, otherwise small; tag ``large`` at ≥ 100.
NEW: big and ``large`` at ≥ 50. Employees: c1 120, c2 60, c3 30, c4 5, c5 unknown.

OLD sizes: c1 big, c2 mid, c3 mid, c4 small, c5 small (unknown never matches → catch-all)
NEW sizes: c1 big, c2 big, c3 mid, c4 small, c5 small → one change, c2 mid → big.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crm_sync.cli.main import app
from crm_sync.model.frames import Dataset
from crm_sync.model.records import Company
from crm_sync.report.diff import adjusted_rand_index, diff_models
from crm_sync.rules.load import load_model

OLD = """\
version: 1
ruleset: diff-old
fields:
  company:
    employees: {type: number}
segments:
  size:
    entity: company
    hit_policy: first
    rules:
      - {id: big, when: employees >= 100}
      - {id: mid, when: employees >= 20}
    otherwise: {id: small}
tags:
  flags:
    entity: company
    rules:
      - {id: large, when: employees >= 100}
"""
NEW = OLD.replace("diff-old", "diff-new").replace("employees >= 100", "employees >= 50")
EMPLOYEES = {"c1": 120, "c2": 60, "c3": 30, "c4": 5, "c5": None}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    """OLD and NEW model files and a data file with the five companies."""
    old, new, data = tmp_path / "old.yaml", tmp_path / "new.yaml", tmp_path / "data.json"
    old.write_text(OLD, encoding="utf-8")
    new.write_text(NEW, encoding="utf-8")
    companies = [
        {"id": cid, "name": cid, "attributes": {} if n is None else {"employees": n}}
        for cid, n in EMPLOYEES.items()
    ]
    data.write_text(json.dumps({"companies": companies}), encoding="utf-8")
    return old, new, data


def _dataset() -> Dataset:
    return Dataset.from_records(
        companies=[
            Company(id=cid, name=cid, attributes={} if n is None else {"employees": n})
            for cid, n in EMPLOYEES.items()
        ]
    )


def test_diff_counts_confusion_ari_and_samples(files: tuple[Path, Path, Path]) -> None:
    """size: 1 of 5 changes (c2 mid → big); confusion big→big 1, mid→big 1, mid→mid 1, small 2.

    ARI: Σ C(n_ij,2) = C(2,2) = 1; rows big 1, mid 2, small 2 → Σ C(a,2) = 2; columns big 2,
    mid 1, small 2 → Σ C(b,2) = 2; E = 2·2/C(5,2) = 0.4; ARI = (1 − 0.4)/(2 − 0.4) = 0.375.
    """
    old, new, _ = files
    result = diff_models(load_model(old), load_model(new), _dataset(), dt.date(2025, 1, 1))
    size = result["sets"]["size"]
    assert (size["records"], size["changed"]) == (5, 1)
    assert size["changed_share"] == pytest.approx(0.2)
    cells = {(c["old"], c["new"]): c["n"] for c in size["confusion"]}
    assert cells == {("big", "big"): 1, ("mid", "big"): 1, ("mid", "mid"): 1, ("small", "small"): 2}
    assert size["ari"] == pytest.approx(0.375)
    assert size["samples"] == [{"old": "mid", "new": "big", "ids": ["c2"]}]
    assert result["changed_records"] == 2  # c2 in size and c2 in flags


def test_diff_of_tags_counts_added_and_removed(files: tuple[Path, Path, Path]) -> None:
    """flags: c2 gains ``large`` (60 ≥ 50); nobody loses it."""
    old, new, _ = files
    result = diff_models(load_model(old), load_model(new), _dataset(), dt.date(2025, 1, 1))
    flags = result["sets"]["flags"]
    assert (flags["records"], flags["changed"]) == (5, 1)
    assert flags["tags"] == [{"tag": "large", "added": 1, "removed": 0, "samples": ["c2"]}]


def test_identical_models_change_nothing(files: tuple[Path, Path, Path]) -> None:
    """A model diffed against itself: no changes, ARI 1."""
    old, _, _ = files
    model = load_model(old)
    result = diff_models(model, model, _dataset(), dt.date(2025, 1, 1))
    assert result["changed_records"] == 0
    assert result["sets"]["size"]["ari"] == pytest.approx(1.0)


def test_adjusted_rand_index_of_a_relabelling_is_one() -> None:
    """Renaming every segment (A→X, B→Y) keeps the partition: ARI 1; a single cell also 1."""
    assert adjusted_rand_index({("A", "X"): 3, ("B", "Y"): 2}) == pytest.approx(1.0)
    assert adjusted_rand_index({("A", "A"): 4}) == pytest.approx(1.0)


def test_model_diff_cli_json(files: tuple[Path, Path, Path]) -> None:
    """``crm-sync model diff OLD NEW --data FILE --json`` prints one JSON object with the diff."""
    old, new, data = files
    args = ["model", "diff", str(old), str(new), "--data", str(data), "--as-of", "2025-01-01"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["sets"]["size"]["changed"] == 1
    human = CliRunner().invoke(app, args)
    assert human.exit_code == 0
    assert "mid -> big: 1 (e.g. c2)" in human.output


def test_model_diff_cli_reports_broken_file(files: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """A broken NEW file exits 2 with an error object."""
    old, _, data = files
    bad = tmp_path / "bad.yaml"
    bad.write_text(OLD.replace("employees >= 20", "employees >>= 20"), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["model", "diff", str(old), str(bad), "--data", str(data), "--json"]
    )
    assert result.exit_code == 2
    assert json.loads(result.stdout)["ok"] is False
