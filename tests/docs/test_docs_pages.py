"""Every page of docs/: YAML validated, commands run, generated parts current, site builds."""

from __future__ import annotations

import copy
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from docpages import DOCS, ROOT, Block, blocks, page_directives, pages
from docrunner import Session, prepare_workdir

from crm_sync.docs_gen import (
    SCHEMA_FILES,
    json_schemas,
    regenerate_docs,
    render_schema_file,
    undocumented_keys,
)
from crm_sync.mapping.load import parse_mapping
from crm_sync.rules.compiled import SegmentationModel
from crm_sync.rules.expr import parse
from crm_sync.rules.expr.functions import FUNCTIONS
from crm_sync.rules.load import load_model_text
from crm_sync.sandbox.launcher import start_sandbox

GETTING_STARTED = DOCS / "getting-started" / "sandbox.md"
MAPPING_FILES = {"hubspot-mapping": "hubspot.yaml", "salesforce-mapping": "salesforce.yaml"}
FRAGMENT_KINDS = ("model", *MAPPING_FILES)
ALL_PAGES = pages()


def _id(page: Path) -> str:
    return str(page.relative_to(DOCS))


def _shipped(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "mappings" / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _is_rule_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) and "id" in v for v in value)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` merged into a copy of ``base``, the way a reader pastes an excerpt into a file.

    Nested mappings merge; lists of rules/transitions merge by ``id`` (a known id is updated, a
    new one appended); anything else replaces.
    """
    out = copy.deepcopy(base)
    for key, value in extra.items():
        current = out.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            out[key] = _merge(current, value)
        elif _is_rule_list(value) and _is_rule_list(current):
            merged = {r["id"]: r for r in current}
            for rule in value:
                merged[rule["id"]] = _merge(merged.get(rule["id"], {}), rule)
            out[key] = list(merged.values())
        else:
            out[key] = copy.deepcopy(value)
    return out


def _load_model(data: dict[str, Any], where: str) -> SegmentationModel:
    return load_model_text(yaml.safe_dump(data, sort_keys=False), where)


def _yaml_blocks(page: Path) -> list[Block]:
    return [b for b in blocks(page) if b.lang in ("yaml", "yml")]


def _kind(block: Block, data: Any) -> str:
    if "skip" in block.directive:
        return "skip"
    if "fragment" in block.directive:
        kind = block.directive.get("of", "")
        assert kind in FRAGMENT_KINDS, (
            f"{block.where}: fragment of= must be one of {FRAGMENT_KINDS}"
        )
        return kind
    if "yaml" in block.directive:
        return "plain"
    if isinstance(data, dict) and "crm" in data:
        return "mapping-file"
    if isinstance(data, dict) and "ruleset" in data:
        return "model-file"
    pytest.fail(
        f"{block.where}: unclassified yaml block; mark it <!-- docs-test: fragment of=model -->, "
        "<!-- docs-test: yaml --> or make it a whole model/mapping file"
    )


@pytest.mark.parametrize("page", ALL_PAGES, ids=_id)
def test_every_yaml_block_is_valid(page: Path) -> None:
    """Whole files load, fragments merged into the shipped files load, plain YAML parses."""
    default_model = _shipped("model.yaml")
    page_model = default_model
    mapping_fragments: list[tuple[Block, str, dict[str, Any]]] = []
    for block in _yaml_blocks(page):
        data = yaml.safe_load(block.text)
        kind = _kind(block, data)
        if kind == "model":
            assert isinstance(data, dict), f"{block.where}: a fragment is a mapping of sections"
            _load_model(_merge(default_model, data), block.where)
            page_model = _merge(page_model, data)
        elif kind in MAPPING_FILES:
            mapping_fragments.append((block, kind, data))
        elif kind == "model-file":
            load_model_text(block.text, block.where)
        elif kind == "mapping-file":
            parse_mapping(block.text, block.where, _load_model(default_model, "model.yaml"))
    model = _load_model(page_model, f"{_id(page)} (model with this page's fragments)")
    for block, kind, data in mapping_fragments:
        merged = _merge(_shipped(MAPPING_FILES[kind]), data)
        parse_mapping(yaml.safe_dump(merged, sort_keys=False), block.where, model)
    # A page whose model fragments add values must map them in both CRMs (complete recipes).
    for kind, name in MAPPING_FILES.items():
        merged = _shipped(name)
        for _, frag_kind, data in mapping_fragments:
            if frag_kind == kind:
                merged = _merge(merged, data)
        parse_mapping(yaml.safe_dump(merged, sort_keys=False), f"{_id(page)}: {name}", model)


def test_every_skipped_block_says_why() -> None:
    """A block the tests cannot run or validate carries skip reason="..." (never a bare skip)."""
    bare = [
        b.where
        for page in ALL_PAGES
        for b in blocks(page)
        if "skip" in b.directive and not b.directive.get("reason")
    ]
    assert bare == []


def test_only_known_block_languages_are_used() -> None:
    """Every fenced block has a language the doc tests know how to check."""
    known = {"sh", "text", "yaml", "json", "python", "ini", "none"}
    unknown = [f"{b.where} ({b.lang or 'no language'})" for p in ALL_PAGES for b in blocks(p)]
    unknown = [
        f"{b.where} ({b.lang or 'no language'})"
        for p in ALL_PAGES
        for b in blocks(p)
        if b.lang not in known
    ]
    assert unknown == []


def test_python_and_json_blocks_parse() -> None:
    """Orchestrator examples compile and JSON examples parse."""
    import json

    for page in ALL_PAGES:
        for b in blocks(page):
            if b.lang == "python":
                compile(b.text, b.where, "exec")
            elif b.lang == "json":
                json.loads(b.text)


def test_generated_reference_sections_are_current() -> None:
    """The generated tables in docs/reference equal a fresh generation (run crm-sync schema --docs docs)."""
    assert regenerate_docs(DOCS, write=False) == []


def test_committed_json_schemas_are_current() -> None:
    """schemas/*.schema.json equal a fresh generation (run crm-sync schema)."""
    for name, schema in json_schemas().items():
        committed = (ROOT / "schemas" / name).read_text(encoding="utf-8")
        assert committed == render_schema_file(schema), f"schemas/{name} is stale"


def test_shipped_yaml_files_point_editors_at_their_schema() -> None:
    """The first line of each shipped YAML file is the yaml-language-server schema comment."""
    expected = {
        "model.yaml": "model.schema.json",
        "hubspot.yaml": "hubspot-mapping.schema.json",
        "salesforce.yaml": "salesforce-mapping.schema.json",
    }
    assert set(expected.values()) == set(SCHEMA_FILES)
    for name, schema in expected.items():
        first = (ROOT / "mappings" / name).read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema=../schemas/{schema}"


def test_every_file_key_has_a_description() -> None:
    """No model or mapping key ships without the text the reference and editors show."""
    assert undocumented_keys() == []


def test_function_examples_parse() -> None:
    """Each function's documented example is valid rule-language syntax."""
    for fn in FUNCTIONS.values():
        parse(fn.example)


def test_site_builds_in_strict_mode(tmp_path: Path) -> None:
    """mkdocs build --strict succeeds: no broken link, anchor or page missing from the nav."""
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "mkdocs"),
            "build",
            "--strict",  # not --quiet: mkdocs 1.6 then drops the warnings strict mode counts
            "--site-dir",
            str(tmp_path / "site"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


COMMAND_PAGES = [
    p for p in ALL_PAGES if p != GETTING_STARTED and any(b.lang == "sh" for b in blocks(p))
]


@pytest.mark.parametrize("page", COMMAND_PAGES, ids=_id)
def test_every_command_on_the_page_runs(page: Path, tmp_path: Path) -> None:
    """Each sh block runs in order in a fresh copy of mappings/ and examples/ and prints what the page shows."""
    work = prepare_workdir(tmp_path)
    session = Session(work)
    wanted = [d for d in page_directives(page) if "sandbox" in d]
    size = int(wanted[0].get("size", "20")) if wanted else 0
    running = start_sandbox(seed=0, size=size) if wanted else None
    try:
        if running is not None:
            session.env.update(running.environment())
        for block in blocks(page):
            if block.lang != "sh" or "skip" in block.directive:
                continue
            if "background" in block.directive:
                session.start_background(block)
            else:
                session.run(block)
    finally:
        session.close()
        if running is not None:
            running.stop()


def test_shipped_and_documented_files_pass_the_editor_schema() -> None:
    """What editors check (the JSON Schema) accepts every shipped and documented whole file."""
    import jsonschema

    schemas = json_schemas()
    validators = {name: jsonschema.Draft202012Validator(schema) for name, schema in schemas.items()}

    def schema_for(data: dict[str, Any]) -> str:
        crm = data.get("crm")
        return f"{crm}-mapping.schema.json" if crm else "model.schema.json"

    files: list[tuple[str, Any]] = [
        (f"mappings/{n}", _shipped(n)) for n in ("model.yaml", *MAPPING_FILES.values())
    ]
    for page in ALL_PAGES:
        for b in _yaml_blocks(page):
            data = yaml.safe_load(b.text)
            if _kind(b, data) in ("model-file", "mapping-file"):
                files.append((b.where, data))
    for where, data in files:
        errors = [e.message for e in validators[schema_for(data)].iter_errors(data)]
        assert errors == [], f"{where}: {errors}"
    typo = _shipped("model.yaml")
    typo["segments"]["relationship"]["hit_polcy"] = "first"
    assert list(validators["model.schema.json"].iter_errors(typo)), "a typo must be underlined"


def _cli_command(words: list[str]) -> tuple[Any, list[str]]:
    """The click command named by the leading words after ``crm-sync``, and the remaining words."""
    import typer

    from crm_sync.cli.main import app

    command: Any = typer.main.get_command(app)
    rest = list(words)
    while rest and hasattr(command, "commands") and rest[0] in command.commands:
        command = command.commands[rest.pop(0)]
    return command, rest


_INLINE = re.compile(r"`(crm-sync [^`]+)`")


def _command_lines(block: Block) -> list[str]:
    text = block.text.replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip().startswith("crm-sync ")]


def test_every_documented_crm_sync_command_exists_with_its_options() -> None:
    """Commands in all sh blocks (skipped ones too) parse; inline `crm-sync ...` names real options."""
    import click

    problems: list[str] = []
    for page in ALL_PAGES:
        for block in blocks(page):
            if block.lang != "sh":
                continue
            for line in _command_lines(block):
                command, rest = _cli_command(shlex.split(line)[1:])
                if rest == ["--help"]:
                    continue
                if hasattr(command, "commands"):
                    problems.append(f"{block.where}: '{line}' names no command")
                    continue
                try:
                    command.make_context("crm-sync", rest)
                except click.exceptions.Exit:
                    pass
                except click.ClickException as exc:
                    problems.append(f"{block.where}: '{line}': {exc.format_message()}")
        for match in _INLINE.finditer(page.read_text(encoding="utf-8")):
            words = match.group(1).split()[1:]
            command, rest = _cli_command(words)
            if hasattr(command, "commands") and rest:
                problems.append(f"{_id(page)}: `{match.group(1)}` names no command")
                continue
            known = {opt for p in command.params for opt in getattr(p, "opts", [])}
            for word in rest:
                if word.startswith("--") and word.split("=")[0] not in known:
                    problems.append(f"{_id(page)}: `{match.group(1)}`: no option {word}")
    assert problems == []
