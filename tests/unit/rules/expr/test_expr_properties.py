"""Properties: the vectorised compiler agrees with the reference evaluator, and text round-trips."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import polars as pl
from expr_strategies import SCOPE, any_expr, exprs, frames, same_tree
from hypothesis import given
from hypothesis import strategies as st

from crm_sync.rules.expr import ValueType, check, compile_expr, evaluate, parse, unparse
from crm_sync.rules.expr.ast import Expr

as_of_dates = st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1))


def same_value(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b) and type(a) is type(b)


@given(any_expr)
def test_generated_expressions_are_well_typed(expr: Expr) -> None:
    """The strategy only produces trees the checker accepts (guards the other properties)."""
    check(expr, SCOPE)


@given(any_expr, frames(), as_of_dates)
def test_compiler_agrees_with_reference_evaluator(
    expr: Expr, frame: pl.DataFrame, as_of: dt.date
) -> None:
    """On frames with nulls, NaN and extremes, every row of compile_expr equals evaluate."""
    result = frame.with_columns(compile_expr(expr, SCOPE, as_of=as_of).alias("__result"))[
        "__result"
    ]
    expected = [evaluate(expr, row, SCOPE, as_of=as_of) for row in frame.iter_rows(named=True)]
    actual = result.to_list()
    mismatches = [
        (i, a, e)
        for i, (a, e) in enumerate(zip(actual, expected, strict=True))
        if not same_value(a, e)
    ]
    assert not mismatches, f"{unparse(expr)}: (row, compiled, evaluated) {mismatches}"


@given(exprs(ValueType.BOOL), frames(), as_of_dates)
def test_conditions_compile_to_three_valued_booleans(
    expr: Expr, frame: pl.DataFrame, as_of: dt.date
) -> None:
    """A condition's column is Boolean (true, false or null), whatever the inputs."""
    result = frame.with_columns(compile_expr(expr, SCOPE, as_of=as_of).alias("__result"))[
        "__result"
    ]
    assert result.dtype == pl.Boolean


@given(any_expr)
def test_unparse_then_parse_is_identity_modulo_positions(expr: Expr) -> None:
    """parse(unparse(e)) == e for every well-typed tree (ignoring positions)."""
    assert same_tree(parse(unparse(expr)), expr)


@given(any_expr)
def test_unparse_is_a_fixed_point(expr: Expr) -> None:
    """Canonical text is stable: unparse(parse(unparse(e))) == unparse(e)."""
    text = unparse(expr)
    assert unparse(parse(text)) == text
