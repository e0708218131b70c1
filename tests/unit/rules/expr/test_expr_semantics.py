"""Hand-written semantics: Kleene logic, null propagation, division, library functions.

Every case runs through both the Polars compiler and the reference evaluator, on one record.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import polars as pl
import pytest

from crm_sync.rules.expr import DictScope, Symbol, ValueType, compile_expr, evaluate, parse

N, S, B, D = ValueType.NUMBER, ValueType.STRING, ValueType.BOOL, ValueType.DATE
AS_OF = dt.date(2025, 3, 1)
SCOPE = DictScope(
    {
        "x": Symbol("x", N),
        "zero": Symbol("zero", N),
        "missing": Symbol("missing", N),
        "count": Symbol("count", N),
        "revenue_12m": Symbol("revenue_12m", N),
        "potential_12m": Symbol("potential_12m", N),
        "nan": Symbol("nan", N),
        "inf": Symbol("inf", N),
        "yes": Symbol("yes", B),
        "no": Symbol("no", B),
        "unknown": Symbol("unknown", B),
        "tier": Symbol("tier", S),
        "no_tier": Symbol("no_tier", S),
        "last_order": Symbol("last_order", D),
        "no_date": Symbol("no_date", D),
    }
)
ROW: dict[str, Any] = {
    "x": 4.0,
    "zero": 0.0,
    "missing": None,
    "count": 3,
    "revenue_12m": 30.0,
    "potential_12m": None,
    "nan": math.nan,
    "inf": math.inf,
    "yes": True,
    "no": False,
    "unknown": None,
    "tier": "A",
    "no_tier": None,
    "last_order": dt.date(2025, 1, 30),
    "no_date": None,
}
FRAME = pl.DataFrame(
    [ROW],
    schema={
        "x": pl.Float64,
        "zero": pl.Float64,
        "missing": pl.Float64,
        "count": pl.Int64,
        "revenue_12m": pl.Float64,
        "potential_12m": pl.Float64,
        "nan": pl.Float64,
        "inf": pl.Float64,
        "yes": pl.Boolean,
        "no": pl.Boolean,
        "unknown": pl.Boolean,
        "tier": pl.String,
        "no_tier": pl.String,
        "last_order": pl.Date,
        "no_date": pl.Date,
    },
)


def both(text: str) -> Any:
    """Evaluate with both engines, assert they agree, and return the value."""
    expr = parse(text)
    compiled = FRAME.with_columns(compile_expr(expr, SCOPE, as_of=AS_OF).alias("__r"))["__r"][0]
    reference = evaluate(expr, ROW, SCOPE, as_of=AS_OF)
    assert compiled == reference, f"{text}: compiled {compiled!r} != reference {reference!r}"
    return reference


CASES = [
    # Kleene and / or / not
    ("unknown and false", False),
    ("unknown and no", False),
    ("unknown and true", None),
    ("unknown or true", True),
    ("unknown or yes", True),
    ("unknown or false", None),
    ("not unknown", None),
    ("null and false", False),
    ("null or true", True),
    ("not null", None),
    ("yes and yes and unknown", None),
    ("no or no or no", False),
    # comparisons with null are unknown, in either direction
    ("missing > 1", None),
    ("1 < missing", None),
    ("missing == missing", None),
    ("no_tier == 'A'", None),
    ("no_tier != 'A'", None),
    ("no_date < date('2025-01-01')", None),
    # is null is never unknown
    ("missing is null", True),
    ("missing is not null", False),
    ("x is null", False),
    ("missing / zero is null", True),
    # in with a null operand is unknown
    ("no_tier in ['A', 'B']", None),
    ("no_tier not in ['A', 'B']", None),
    ("tier in ['A', 'B']", True),
    ("tier not in ['A', 'B']", False),
    ("count in [1, 3.0]", True),
    # arithmetic propagates null; division by zero is null, never inf or NaN
    ("x + missing", None),
    ("-missing", None),
    ("x / 0", None),
    ("x / zero", None),
    ("0 / zero", None),
    ("x / -0.0", None),
    ("x / 8", 0.5),
    ("7 / 2", 3.5),
    ("count / 2", 1.5),
    ("1e308 * 10", None),
    ("x * 1e308 * 10 is null", True),
    # non-finite data is treated as missing
    ("nan is null", True),
    ("inf is null", True),
    ("nan == nan", None),
    # ints and floats compare uniformly
    ("count == 3.0", True),
    ("count + 0.5", 3.5),
    # least / greatest are null if any argument is null (unlike SQL and min_horizontal)
    ("least(1, revenue_12m / potential_12m)", None),
    ("least(1, x / missing)", None),
    ("least(1, x / null)", None),
    ("greatest(0, missing)", None),
    ("least(1, x / 8)", 0.5),
    ("greatest(x, count, 2)", 4.0),
    ("least(last_order, date('2025-02-01')) == last_order", True),
    # coalesce is the explicit default
    ("coalesce(missing, 0)", 0.0),
    ("coalesce(missing, null, x)", 4.0),
    ("coalesce(unknown, false)", False),
    ("coalesce(no_tier, 'none')", "none"),
    ("least(1, revenue_12m / coalesce(potential_12m, revenue_12m))", 1.0),
    # abs and round (half away from zero)
    ("abs(0 - x)", 4.0),
    ("abs(missing)", None),
    ("round(2.5)", 3.0),
    ("round(-2.5)", -3.0),
    ("round(0.5)", 1.0),
    ("round(1.4)", 1.0),
    ("round(0.125, 2)", 0.13),
    ("round(x / 3, 2)", 1.33),
    ("round(missing, 2)", None),
    # dates
    ("days_since(last_order)", 30.0),
    ("days_since(no_date)", None),
    ("days_since(date('2025-03-11'))", -10.0),
    ("days_between(last_order, date('2025-02-01'))", 2.0),
    ("days_between(date('2025-02-01'), last_order)", -2.0),
    ("days_between(last_order, no_date)", None),
    ("last_order >= date('2025-01-30')", True),
    ("date('2024-02-29') < date('2024-03-01')", True),
    # strings compare by code point
    ("tier < 'B'", True),
    ("'a' > 'B'", True),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_semantics(text: str, expected: Any) -> None:
    """Each case gives the documented three-valued result in both engines."""
    result = both(text)
    if isinstance(expected, float) and result is not None:
        assert result == pytest.approx(expected)
    else:
        assert result == expected
        assert (result is None) == (expected is None)


def test_share_of_wallet_of_unknown_potential_is_unknown() -> None:
    """The DESIGN.md §4 trap: least(1, x/NULL) stays null instead of becoming 100 %."""
    assert both("least(1, revenue_12m / potential_12m)") is None
    assert both("least(1, revenue_12m / potential_12m) >= 0.5") is None


def test_division_result_is_float_for_integer_columns() -> None:
    """'/' is true division even when both inputs are integer columns."""
    expr = parse("count / 2")
    frame = FRAME.with_columns(compile_expr(expr, SCOPE, as_of=AS_OF).alias("__r"))
    assert frame.schema["__r"] == pl.Float64


def test_constant_expression_broadcasts_over_the_frame() -> None:
    """A column-free expression compiles to a scalar that with_columns broadcasts to every row."""
    frame = pl.concat([FRAME, FRAME, FRAME])
    expr = parse("'' in ['A'] or 1 < 2")
    result = frame.with_columns(compile_expr(expr, SCOPE, as_of=AS_OF).alias("__r"))["__r"]
    assert result.to_list() == [True, True, True]


def test_literal_on_the_left_of_a_comparison_with_all_true_guard() -> None:
    """1 == least(x, x) on rows where every x is known (a Polars when/then broadcasting trap)."""
    frame = pl.DataFrame({"x": [1.0, 2.0]})
    expr = parse("1 == least(x, x) and 0 < greatest(x, 1)")
    result = frame.with_columns(compile_expr(expr, SCOPE, as_of=AS_OF).alias("__r"))["__r"]
    assert result.to_list() == [True, False]


def test_evaluator_reads_missing_keys_as_null() -> None:
    """A row without a column (sparse record) reads as null, not KeyError."""
    assert evaluate(parse("x is null"), {}, SCOPE, as_of=AS_OF) is True
