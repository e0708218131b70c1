"""Bad admin input: mutated model and mapping files fail only with crm_sync's own errors.

The shipped ``mappings/model.yaml`` and ``mappings/{hubspot,salesforce}.yaml`` are mutated the way
hand edits go wrong — lines deleted, swapped or duplicated, values replaced by another type, keys
renamed or invented, indentation shifted, the text cut short, a character replaced — and loaded.
Anything but a :class:`~crm_sync.errors.ConfigError` escaping is a bug, and so is a ConfigError
that does not say which file and where (line ≥ 1, column ≥ 1). Example counts follow the
hypothesis profile (``CRM_SYNC_HYPOTHESIS_EXAMPLES``, 150 by default; release checks use more).
"""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from reliability_harness import ROOT

from crm_sync.errors import ConfigError, ExprError, ModelFileError, Position
from crm_sync.mapping.load import parse_mapping
from crm_sync.rules.load import load_model_text

MODEL_TEXT = (ROOT / "mappings" / "model.yaml").read_text(encoding="utf-8")
MAPPING_TEXTS = {
    crm: (ROOT / "mappings" / f"{crm}.yaml").read_text(encoding="utf-8")
    for crm in ("hubspot", "salesforce")
}

VALUES = [
    "", "~", "null", "0", "-1", "1e309", "3.5", "true", "no", "[]", "{}", "[1, 2]", "{a: 1}",
    '"x"', "'", '"', "&anchor", "*alias", "!!python/object:os.system", "!!binary AAAA", "|", ">",
    "2025-13-45", "12m", "-5d", "A", "__import__('os')", "${HOME}", "@", "`", "%", "é", "\t",
]  # fmt: skip
KEYS = ["when", "otherwise", "rules", "type", "values", "window", "agg", "property", "field", "x"]


@cache
def _lines(text: str) -> tuple[str, ...]:
    return tuple(text.splitlines(keepends=True))


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """``text`` with one to four hand-edit mistakes."""
    lines = list(_lines(text))
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(
            st.sampled_from(
                ["delete", "swap", "dup", "value", "key", "indent", "cut", "char", "newkey"]
            )
        )
        line = lines[i]
        if kind == "delete":
            del lines[i]
        elif kind == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "dup":
            lines.insert(i, line)
        elif kind == "value" and ":" in line:
            head = line.split(":", 1)[0]
            lines[i] = f"{head}: {draw(st.sampled_from(VALUES))}\n"
        elif kind == "key" and ":" in line:
            indent = line[: len(line) - len(line.lstrip())]
            lines[i] = f"{indent}{draw(st.sampled_from(KEYS))}:{line.split(':', 1)[1]}"
        elif kind == "indent":
            lines[i] = draw(st.sampled_from(["", " ", "  ", "\t"])) + line.lstrip(" ")
        elif kind == "cut":
            lines = [*lines[:i], line[: draw(st.integers(0, len(line)))]]
        elif kind == "char" and line:
            k = draw(st.integers(0, len(line) - 1))
            lines[i] = line[:k] + draw(st.sampled_from(list(":-[]{}\"'#&*!|> \t\x00"))) + line[k:]
        elif kind == "newkey":
            indent = line[: len(line) - len(line.lstrip())]
            lines.insert(
                i, f"{indent}{draw(st.sampled_from(KEYS))}: {draw(st.sampled_from(VALUES))}\n"
            )
    return "".join(lines)


def _assert_locates(exc: ConfigError, file: str) -> None:
    """The error names the file and a 1-based line and column for every problem."""
    positions: list[Position]
    if isinstance(exc, ModelFileError):
        assert exc.problems, "a ModelFileError with no problem"
        positions = [p.position for p in exc.problems]
    elif isinstance(exc, ExprError):
        positions = [exc.position]
    else:
        pytest.fail(f"{type(exc).__name__} without a position: {exc}")
    for pos in positions:
        assert pos.file is not None
        assert pos.file.endswith(file), (pos, str(exc))
        assert pos.line >= 1, str(exc)
        assert pos.col >= 1, str(exc)
    assert file in str(exc)


@cache
def _shipped_model() -> object:
    return load_model_text(MODEL_TEXT, "model.yaml")


def test_shipped_files_load() -> None:
    """The unmutated files load (the fuzzers start from valid input)."""
    model = _shipped_model()
    for crm, text in MAPPING_TEXTS.items():
        parse_mapping(text, f"{crm}.yaml", model)  # type: ignore[arg-type]


@given(mutated(MODEL_TEXT))
@example("")
@example("version: 1\n")
@example("fields: !!python/object/apply:os.system ['true']\n")
@example(MODEL_TEXT.replace("when: ", "when: __import__('os').system('true') or ", 1))
def test_mutated_model_fails_only_with_located_config_errors(text: str) -> None:
    """Any edit of model.yaml loads, or raises a ConfigError naming model.yaml:line:col."""
    try:
        load_model_text(text, "model.yaml")
    except ConfigError as exc:
        _assert_locates(exc, "model.yaml")


@pytest.mark.parametrize("crm", sorted(MAPPING_TEXTS))
@given(data=st.data())
def test_mutated_mapping_fails_only_with_located_config_errors(
    crm: str, data: st.DataObject
) -> None:
    """Any edit of a mapping file loads, or raises a ConfigError naming the file:line:col."""
    text = data.draw(mutated(MAPPING_TEXTS[crm]))
    file = f"{crm}.yaml"
    try:
        parse_mapping(text, file, _shipped_model())  # type: ignore[arg-type]
    except ConfigError as exc:
        _assert_locates(exc, file)


PYTHON_ESCAPES = [
    "__import__('os').system('true')",
    "().__class__.__bases__[0].__subclasses__()",
    "open('/etc/passwd').read()",
    "eval('1')",
    "exec('x=1')",
    "globals()",
    "lambda: 1",
    "[x for x in (1,)]",
    "visits_90d.__class__",
    "abs.__self__",
    "getattr(abs, '__self__')",
    "f'{1}'",
    '"a" if 1 else "b"',
]


@pytest.mark.parametrize("payload", PYTHON_ESCAPES)
def test_rule_expressions_cannot_reach_python_through_the_model_file(
    payload: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Python payload in a rule's ``when`` is a located ConfigError, and nothing runs."""
    import builtins

    calls: list[str] = []
    for name in ("eval", "exec", "open", "__import__", "compile"):
        original = getattr(builtins, name)

        def spy(*args: object, _name: str = name, _orig: object = original, **kw: object) -> object:
            if _name == "__import__" and args and str(args[0]).split(".")[0] not in ("os",):
                return _orig(*args, **kw)  # type: ignore[operator]
            calls.append(_name)
            return _orig(*args, **kw)  # type: ignore[operator]

        monkeypatch.setattr(builtins, name, spy)
    text = MODEL_TEXT.replace("when: ", f"when: {payload} or ", 1)
    assert text != MODEL_TEXT
    with pytest.raises(ConfigError) as info:
        load_model_text(text, "model.yaml")
    monkeypatch.undo()
    _assert_locates(info.value, "model.yaml")
    assert not [c for c in calls if c in ("eval", "exec", "compile")], calls
