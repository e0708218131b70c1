"""``crm-sync validate``: breaking any shipped file names the file, line and column, and exits 2."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crm_sync.cli.main import app

ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    """A copy of mappings/ and the example data; returns the copied model path."""
    folder = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", folder)
    shutil.copy(ROOT / "examples" / "data.json", tmp_path / "data.json")
    return folder / "model.yaml"


def _edit(path: Path, old: str, new: str) -> int:
    """Replace the first ``old`` with ``new``; return the 1-based line where it was."""
    text = path.read_text(encoding="utf-8")
    index = text.index(old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[:index].count("\n") + 1


def _validate(model: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["validate", "--model", str(model), *extra])
    return result.exit_code, result.output


def _located(output: str, model: Path, line: int) -> re.Match[str] | None:
    return re.search(rf"{re.escape(str(model))}:{line}:(\d+): ", output)


def test_shipped_files_are_valid(shipped: Path) -> None:
    """The default model, mapping files and example data validate cleanly (exit 0)."""
    code, out = _validate(shipped, "--data", str(shipped.parent.parent / "data.json"))
    assert code == 0, out
    assert "ok:" in out


def test_invalid_yaml_names_file_line_and_column(shipped: Path) -> None:
    """A YAML syntax error is reported at its line and column."""
    line = _edit(
        shipped,
        "    hit_policy: first\n    label: Relationship category",
        "    hit_policy: [first\n    label: Relationship category",
    )
    code, out = _validate(shipped)
    assert code == 2
    match = re.search(rf"{re.escape(str(shipped))}:(\d+):(\d+): invalid YAML", out)
    assert match, out
    assert int(match.group(1)) in (line, line + 1)


def test_unknown_key_names_the_key(shipped: Path) -> None:
    """A misspelt key is an error at the key itself, saying what is wrong."""
    line = _edit(
        shipped,
        "    hit_policy: first\n    label: Relationship category",
        "    hit_polcy: first\n    label: Relationship category",
    )
    code, out = _validate(shipped)
    assert code == 2
    assert _located(out, shipped, line), out
    assert "unknown key 'hit_polcy'" in out
    assert "missing required key 'hit_policy'" in out


def test_type_mismatch_points_into_the_expression(shipped: Path) -> None:
    """Comparing a number with text is an error inside the expression, at file line:column."""
    line = _edit(shipped, "when: revenue_12m <= 0", 'when: revenue_12m <= "zero"')
    code, out = _validate(shipped)
    assert code == 2
    match = _located(out, shipped, line)
    assert match, out
    assert int(match.group(1)) > 15  # inside the expression, not at the key


def test_unknown_name_suggests_the_declared_one(shipped: Path) -> None:
    """A typo in a metric name is reported with the closest declared name."""
    line = _edit(shipped, "when: revenue_12m <= 0", "when: revnue_12m <= 0")
    code, out = _validate(shipped)
    assert code == 2
    assert _located(out, shipped, line), out
    assert "did you mean revenue_12m" in out


def test_missing_otherwise_in_a_first_set(shipped: Path) -> None:
    """A `first` set without a catch-all is an error at the set, saying to add `otherwise`."""
    _edit(shipped, "    otherwise: {id: acquaintance, label: Acquaintance}\n", "")
    set_line = shipped.read_text(encoding="utf-8").splitlines().index("  relationship:") + 1
    code, out = _validate(shipped)
    assert code == 2
    assert _located(out, shipped, set_line), out
    assert "otherwise" in out


def test_overlap_in_a_unique_set_is_an_error_with_data(shipped: Path) -> None:
    """Two rules of a `unique` set matching the same contact make validate fail at the set."""
    _edit(
        shipped,
        'when: first_touch_source == "referral"',
        """when: 'first_touch_source in ["referral", "direct"]'""",
    )
    set_line = shipped.read_text(encoding="utf-8").splitlines().index("  first_touch_channel:") + 1
    code, out = _validate(shipped, "--data", str(shipped.parent.parent / "data.json"))
    assert code == 2
    assert _located(out, shipped, set_line), out
    assert "match several rules" in out


def test_backward_transition_without_flag(shipped: Path) -> None:
    """A transition to an earlier stage without `backward: true` is an error."""
    line = _edit(shipped, "        backward: true\n", "")
    code, out = _validate(shipped)
    assert code == 2
    assert "moves backward" in out
    assert _located(out, shipped, line - 3), out  # the transition's "- id: won_back" line


def test_every_problem_is_reported_at_once(shipped: Path) -> None:
    """Several breakages in one file are all listed in one run."""
    first = _edit(shipped, "when: revenue_12m <= 0", "when: revnue_12m <= 0")
    second = _edit(shipped, "window: 90d", "window: 90 days")
    third = _edit(shipped, 'when: role == "influencer"\n', 'when: role == "boss"\n')
    code, out = _validate(shipped)
    assert code == 2
    for line in (first, second, third):
        assert _located(out, shipped, line), (line, out)
    assert "3 problem(s)" in out


def test_circular_derived_values(tmp_path: Path) -> None:
    """Derived values depending on each other are reported as a cycle."""
    model = tmp_path / "model.yaml"
    model.write_text(
        "version: 1\nruleset: t\nfields:\n  company:\n    x: {type: number}\n"
        "derived:\n  company:\n    a: {expr: b + x}\n    b: {expr: a * 2}\n",
        encoding="utf-8",
    )
    code, out = _validate(model)
    assert code == 2
    assert "circular definition" in out


def test_broken_mapping_file_is_reported(shipped: Path) -> None:
    """validate also checks the mapping files next to the model (when the mapping module exists)."""
    pytest.importorskip("crm_sync.mapping.load")
    hubspot = shipped.parent / "hubspot.yaml"
    hubspot.write_text(hubspot.read_text(encoding="utf-8") + "\nnot_a_key: 1\n", encoding="utf-8")
    code, out = _validate(shipped)
    assert code == 2
    assert str(hubspot) in out


def test_validate_json_is_one_object_with_positions(shipped: Path) -> None:
    """--json prints exactly one JSON object whose problems carry file, line and col."""
    line = _edit(shipped, "when: revenue_12m <= 0", "when: revnue_12m <= 0")
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "crm-sync"),
            "validate",
            "--model",
            str(shipped),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=shipped.parent.parent,
    )
    payload = json.loads(result.stdout)
    assert payload["ok"] is False
    assert any(
        p["line"] == line and p["file"] == str(shipped) and p["col"] > 1
        for p in payload["problems"]
    )
    assert result.returncode == 2
