"""Load a model file and report every problem in it at once, each at file:line:column.

Admins fix files in one pass only if they see all problems together, so loading never stops at
the first one: YAML syntax errors are fatal (nothing else can be read), but schema errors are
collected for every entry, the broken entries are set aside, and the rest of the file is still
resolved, parsed and type-checked (:mod:`crm_sync.rules.build`). A name whose own declaration is
broken is not reported again where it is used.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from crm_sync.errors import FileProblem, ModelFileError, Position
from crm_sync.rules.build import build_model
from crm_sync.rules.compiled import SegmentationModel
from crm_sync.rules.schema import ModelFile
from crm_sync.rules.yamlpos import YamlDoc, load_yaml

__all__ = ["load_model", "load_model_text", "schema_problems"]

# Sections whose entries can be set aside one by one when broken: path depth of an entry.
_ENTRY_DEPTH = {"fields": 3, "metrics": 3, "derived": 3, "segments": 2, "tags": 2, "lifecycles": 2}


def schema_problems(exc: ValidationError, doc: YamlDoc) -> list[FileProblem]:
    """Translate pydantic errors into file positions and admin-readable messages."""
    problems: list[FileProblem] = []
    for err in exc.errors():
        loc: list[str | int] = list(err["loc"])
        kind = err["type"]
        where = ".".join(str(p) for p in loc) or "(top level)"
        if kind == "extra_forbidden":
            pos = doc.position(loc, key=True)
            msg = f"unknown key '{loc[-1]}' in {'.'.join(str(p) for p in loc[:-1]) or 'the file'}; check the spelling against the documented keys"
        elif kind == "missing":
            pos = doc.position(loc[:-1])
            msg = f"missing required key '{loc[-1]}' in {'.'.join(str(p) for p in loc[:-1]) or 'the file'}"
        else:
            pos = doc.position(loc)
            text = str(err["msg"]).removeprefix("Value error, ")
            if kind == "literal_error":
                text = f"expected {err.get('ctx', {}).get('expected', 'one of the allowed values')}"
            elif kind == "string_pattern_mismatch":
                text = "expected a name of letters, digits and _ (not starting with a digit)"
                if loc and loc[-1] == "window":
                    text = "expected a window such as 90d, 8w, 12m or 2y"
            msg = f"{where}: {text}"
        problems.append(FileProblem(pos, msg))
    return problems


def _prune(data: dict[str, Any], exc: ValidationError) -> tuple[dict[str, Any], set[str]]:
    """Drop every broken entry; return the pruned data and the broken names."""
    broken: set[str] = set()
    pruned = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for err in exc.errors():
        loc = err["loc"]
        if not loc or not isinstance(loc[0], str) or loc[0] not in _ENTRY_DEPTH:
            continue
        depth = _ENTRY_DEPTH[loc[0]]
        if len(loc) < depth:
            continue
        section = pruned.get(loc[0])
        if not isinstance(section, dict):
            continue
        if depth == 3:
            inner = section.get(loc[1])
            if isinstance(inner, dict):
                inner = dict(inner)
                inner.pop(loc[2], None)
                section[loc[1]] = inner
                broken.add(str(loc[2]))
        else:
            section.pop(loc[1], None)
            broken.add(str(loc[1]))
    return pruned, broken


def load_model_text(text: str, file: str) -> SegmentationModel:
    """Load a model from text (``file`` is used in positions); raise with every problem found."""
    doc = load_yaml(text, file)
    if not isinstance(doc.data, dict):
        raise ModelFileError(
            [
                FileProblem(
                    Position(1, 1, file),
                    "expected a mapping with version, ruleset, fields, metrics, segments ...",
                )
            ]
        )
    problems: list[FileProblem] = []
    broken: set[str] = set()
    try:
        spec = ModelFile.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(schema_problems(exc, doc))
        pruned, broken = _prune(doc.data, exc)
        try:
            spec = ModelFile.model_validate(pruned)
        except ValidationError:
            raise ModelFileError(problems) from exc
    fingerprint = hashlib.sha256(text.encode("utf-8")).hexdigest()
    model, more = build_model(spec, doc, Path(file), fingerprint, broken)
    problems.extend(more)
    if problems:
        problems.sort(key=lambda p: (p.position.line, p.position.col))
        raise ModelFileError(problems)
    return model


def load_model(path: str | Path) -> SegmentationModel:
    """Load and check ``path``; raise :class:`ModelFileError` listing every problem in it."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError(
            [FileProblem(Position(1, 1, str(p)), f"cannot read the model file: {exc}")]
        ) from exc
    return load_model_text(text, str(p))
