"""Robustness: parse, check and both evaluators fail only with their own errors on any input."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from expr_strategies import same_tree
from hypothesis import given
from hypothesis import strategies as st

from crm_sync.errors import ExprError, ExprSyntaxError
from crm_sync.rules.expr import (
    DictScope,
    Symbol,
    ValueType,
    check,
    compile_expr,
    evaluate,
    parse,
    unparse,
)

LANGUAGE_TOKENS = [
    "and", "or", "not", "in", "is", "null", "true", "false", "(", ")", "[", "]", ",", ".",
    "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "a", "b", "company", "company.a", "x1",
    "least", "greatest", "coalesce", "round", "abs", "days_since", "date", "attended",
    "0", "1", "2.5", ".5", "1e3", '"s"', "'t'", '"\\""', "'2025-01-31'",
]  # fmt: skip
JUNK = [
    "**", "//", "%", "@", "=", ":=", ";", ":", "lambda", "import", "from", "for", "if", "else",
    "None", "True", "False", "__class__", "__", "f", '"', "'", "\\", "{", "}", "#", "!", "&", "|",
    "\n", "\r", "\t", "é", "\x00", "\u00a0", "1e999", "99999999999999999999", "1abc", "AND", "NULL",
    "x[0]", "f(a=1)", "def", "yield", "`", "$",
]  # fmt: skip

token_soup = st.lists(
    st.tuples(st.sampled_from(LANGUAGE_TOKENS + JUNK), st.sampled_from(["", " ", " ", "\n"])),
    max_size=40,
).map(lambda parts: "".join(token + sep for token, sep in parts))

nested = st.integers(0, 120).flatmap(
    lambda n: st.sampled_from(["(", "not ", "-", "f(", "[", "a + "]).map(lambda p: p * n + "a")
)

N, S, B, D = ValueType.NUMBER, ValueType.STRING, ValueType.BOOL, ValueType.DATE
SCOPE = DictScope(
    {
        "a": Symbol("a", N),
        "b": Symbol("b", B),
        "x1": Symbol("x1", S, frozenset({"A", "B"})),
        "company.a": Symbol("ca", D),
    },
    {("attended", ("2025-01-31",)): Symbol("att", B), ("attended", ("s",)): Symbol("att_s", N)},
)
FRAME = pl.DataFrame(
    {
        "a": [1.0, None, 0.0],
        "b": [True, None, False],
        "x1": ["A", "B", None],
        "ca": [dt.date(2025, 1, 1), None, dt.date(1999, 12, 31)],
        "att": [None, True, False],
        "att_s": [3.0, None, -1.0],
    }
)
AS_OF = dt.date(2025, 3, 1)


def _parse_only_syntax_errors(text: str) -> None:
    try:
        parse(text)
    except ExprSyntaxError:
        pass
    except Exception as exc:  # the property is precisely "nothing else escapes"
        pytest.fail(f"{type(exc).__name__} escaped parse({text!r}): {exc}")


@given(st.text())
def test_parse_arbitrary_text_raises_only_syntax_errors(text: str) -> None:
    """Any text either parses or raises ExprSyntaxError, never another exception."""
    _parse_only_syntax_errors(text)


@given(token_soup)
def test_parse_token_soup_raises_only_syntax_errors(text: str) -> None:
    """Mixtures of the language's tokens and Python-ish junk raise only ExprSyntaxError."""
    _parse_only_syntax_errors(text)


@given(nested)
def test_parse_deep_nesting_raises_only_syntax_errors(text: str) -> None:
    """Deeply nested input is refused with ExprSyntaxError, never RecursionError."""
    _parse_only_syntax_errors(text)


@given(token_soup)
def test_whatever_parses_unparses_to_the_same_tree(text: str) -> None:
    """For every text that parses, the canonical text re-parses to the same tree."""
    try:
        expr = parse(text)
    except ExprSyntaxError:
        return
    assert same_tree(parse(unparse(expr)), expr)


@given(token_soup)
def test_whatever_checks_compiles_and_agrees_with_the_evaluator(text: str) -> None:
    """Parsed junk fails check with ExprError only; if it checks, both evaluators agree."""
    try:
        expr = parse(text)
        check(expr, SCOPE)
    except ExprError:
        return
    compiled = FRAME.with_columns(compile_expr(expr, SCOPE, as_of=AS_OF).alias("__result"))
    expected = [evaluate(expr, row, SCOPE, as_of=AS_OF) for row in FRAME.iter_rows(named=True)]
    assert compiled["__result"].to_list() == expected
