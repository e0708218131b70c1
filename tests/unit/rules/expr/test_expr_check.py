"""Type checker: every admin mistake is an ExprTypeError at the right position with a useful message."""

from __future__ import annotations

import pytest

from crm_sync.errors import ExprTypeError, Position
from crm_sync.rules.expr import (
    FUNCTIONS,
    DictScope,
    Scope,
    Symbol,
    ValueType,
    check,
    check_condition,
    parse,
)

N, S, B, D = ValueType.NUMBER, ValueType.STRING, ValueType.BOOL, ValueType.DATE
SCOPE = DictScope(
    {
        "revenue_12m": Symbol("revenue_12m", N),
        "visits_90d": Symbol("visits_90d", N),
        "tier": Symbol("tier", S),
        "abc_class": Symbol("abc_class", S, frozenset({"A", "B", "C", "no_revenue"})),
        "company.abc_class": Symbol(
            "company__abc_class", S, frozenset({"A", "B", "C", "no_revenue"})
        ),
        "is_key_account": Symbol("is_key_account", B),
        "last_order_date": Symbol("last_order_date", D),
    },
    {
        ("attended", ("FAIR2025",)): Symbol("attended__fair2025", B),
        ("attended", ("FAIR2024",)): Symbol("attended__fair2024", B),
    },
)


def type_error(text: str) -> ExprTypeError:
    with pytest.raises(ExprTypeError) as info:
        check(parse(text), SCOPE)
    return info.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("revenue_12m + 1", N),
        ('tier == "x"', B),
        ("last_order_date", D),
        ("tier", S),
        ('date("2025-01-31")', D),
        ("least(last_order_date, date('2025-01-01'))", D),
        ("coalesce(tier, 'none')", S),
        ("least(1, null)", N),
        ("null + 1", N),
        ("not null", B),
        ('attended("FAIR2025")', B),
        ("company.abc_class in ['A', 'B']", B),
        ("is_key_account == true", B),
        ("(revenue_12m > 1) == is_key_account", B),
        ("round(revenue_12m, 2)", N),
    ],
)
def test_well_typed_expressions(text: str, expected: ValueType) -> None:
    """Well-typed expressions check and report their type."""
    assert check(parse(text), SCOPE) is expected


def test_dict_scope_satisfies_the_scope_protocol() -> None:
    """DictScope is a Scope (runtime-checkable protocol)."""
    assert isinstance(SCOPE, Scope)


def test_unknown_name_suggests_the_closest() -> None:
    """A typo is reported at the name with a did-you-mean."""
    err = type_error("revnue_12m > 0")
    assert err.message == "unknown name 'revnue_12m'; did you mean revenue_12m?"
    assert err.position == Position(1, 1)


def test_unknown_qualified_name() -> None:
    """Qualified names are looked up by entity.field."""
    assert type_error("company.abc_clas == 'A'").message == (
        "unknown name 'company.abc_clas'; did you mean company.abc_class?"
    )


def test_upper_case_keyword_as_name_hints_lower_case() -> None:
    """TRUE parses as a name; the checker says keywords are lower-case."""
    assert (
        type_error("is_key_account == TRUE").message
        == "unknown name 'TRUE'; keywords are lower-case: write true"
    )


def test_unknown_function_lists_the_library() -> None:
    """An unknown function names the closed library."""
    err = type_error("eval('1')")
    assert err.message == f"unknown function 'eval'; available: {', '.join(FUNCTIONS)}"
    assert type_error("lest(1, 2)").message.startswith(
        "unknown function 'lest'; did you mean least?"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("least(1)", "least(...) takes at least 2 arguments, got 1: least(a, b, ...)"),
        ("abs(1, 2)", "abs(...) takes 1 argument, got 2: abs(x)"),
        ("round(1, 2, 3)", "round(...) takes 1 to 2 arguments, got 3: round(x) / round(x, digits)"),
        (
            "days_between(last_order_date)",
            "days_between(...) takes 2 arguments, got 1: days_between(a, b)",
        ),
    ],
)
def test_wrong_arity(text: str, message: str) -> None:
    """Arity errors state the signature."""
    assert type_error(text).message == message


def test_arithmetic_on_strings() -> None:
    """Arithmetic needs numbers; the message names the operand."""
    err = type_error("tier + 1")
    assert err.message == "'+' needs numbers, but tier is a string"
    assert err.position == Position(1, 6)


def test_arithmetic_on_dates_points_to_days_between() -> None:
    """Date arithmetic is not arithmetic; '-' on dates is refused."""
    assert type_error("last_order_date - last_order_date").message.startswith("'-' needs numbers")


def test_negating_a_string() -> None:
    """Unary minus needs a number."""
    assert type_error("-tier").message == "'-' needs a number, this is a string"


def test_comparing_number_with_string() -> None:
    """visits_90d == 'A' is the lint example from the research notes."""
    err = type_error("visits_90d == 'A'")
    assert err.message == "cannot compare a number with a string using '=='"
    assert err.position == Position(1, 12)


def test_comparing_date_with_string_suggests_date() -> None:
    """A date compared with a string literal gets the date(...) hint."""
    assert type_error("last_order_date > '2025-01-01'").message == (
        "cannot compare a date with a string using '>'; write a date constant as date(\"2025-01-31\")"
    )


def test_enum_literal_not_among_values() -> None:
    """A string not among an enum's values is reported at the literal, with the allowed values."""
    err = type_error('abc_class == "Z"')
    assert err.message == "'Z' is not a value of abc_class; expected one of A, B, C, no_revenue"
    assert err.position == Position(1, 14)


def test_enum_literal_typo_gets_a_suggestion() -> None:
    """Near misses get a did-you-mean, on either side of the comparison."""
    assert type_error('"no_revenu" != company.abc_class').message.endswith(
        "; did you mean no_revenue?"
    )


def test_enum_literal_in_list() -> None:
    """Every value of an in-list is checked against the enum."""
    err = type_error("abc_class in ['A', 'D']")
    assert err.message.startswith("'D' is not a value of abc_class")
    assert err.position == Position(1, 20)


def test_list_value_of_the_wrong_type() -> None:
    """in-lists must match the operand's type."""
    assert (
        type_error("visits_90d in [1, 'two']").message
        == 'list value "two" is a string, but visits_90d is a number'
    )


def test_dates_cannot_use_in() -> None:
    """in [...] takes literals, which cannot be dates."""
    assert type_error("last_order_date in ['2025-01-01']").message.startswith(
        "dates cannot be tested with 'in'"
    )


def test_ordering_booleans() -> None:
    """true/false have no order."""
    assert (
        type_error("is_key_account > false").message
        == "true/false values cannot be ordered with '>'; use == or !="
    )


def test_comparing_with_null_suggests_is_null() -> None:
    """x == null is always unknown; the fix is x is null."""
    assert (
        type_error("tier == null").message
        == "comparing with null with '==' is always unknown; write tier is null"
    )
    assert type_error("null != tier").message.endswith("write tier is not null")


@pytest.mark.parametrize(
    ("text", "message", "col"),
    [
        (
            "revenue_12m and is_key_account",
            "'and' combines true/false conditions, but revenue_12m is a number",
            1,
        ),
        ("is_key_account or tier", "'or' combines true/false conditions, but tier is a string", 19),
        ("not revenue_12m", "'not' needs true/false, this is a number", 1),
    ],
)
def test_boolean_operators_need_booleans(text: str, message: str, col: int) -> None:
    """and/or/not only combine true/false values, reported at the offending operand."""
    err = type_error(text)
    assert err.message == message
    assert err.position == Position(1, col)


def test_rule_condition_must_be_boolean() -> None:
    """A condition that computes a number is refused with its type."""
    with pytest.raises(ExprTypeError) as info:
        check_condition(parse("revenue_12m / 2"), SCOPE)
    assert info.value.message == "a rule condition must be true/false, this expression is a number"
    check_condition(parse("revenue_12m > 2"), SCOPE)


def test_always_null_expression_has_no_type() -> None:
    """A bare null (or coalesce of nulls) is refused: it can only ever be unknown."""
    assert type_error("null").message == "this expression is always null"
    assert type_error("coalesce(null, null)").message == "this expression is always null"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('date("2025-02-30")', '"2025-02-30" is not a valid calendar date'),
        ('date("31/01/2025")', '"31/01/2025" is not a date; write YYYY-MM-DD, e.g. "2025-01-31"'),
        ('date("20250131")', '"20250131" is not a date; write YYYY-MM-DD, e.g. "2025-01-31"'),
        ("date(tier)", 'date(...) takes one quoted ISO date such as date("2025-01-31")'),
    ],
)
def test_bad_date_constant(text: str, message: str) -> None:
    """date(...) only accepts a valid ISO date literal, checked when the model loads."""
    assert type_error(text).message == message


def test_round_digits_must_be_a_small_integer_literal() -> None:
    """round's digits is a literal 0..10 (it selects the compiled operation)."""
    assert type_error("round(revenue_12m, visits_90d)").message.startswith(
        "the digits of round(x, digits)"
    )
    assert type_error("round(revenue_12m, 1.5)").message.startswith(
        "the digits of round(x, digits)"
    )
    assert type_error("round(revenue_12m, 11)").message.startswith("the digits of round(x, digits)")


def test_function_argument_types() -> None:
    """Library functions check their argument types."""
    assert (
        type_error("days_since(revenue_12m)").message
        == "days_since(...) expects a date here, this is a number"
    )
    assert type_error("abs(tier)").message == "abs(...) expects a number here, this is a string"
    assert (
        type_error("least(1, tier)").message
        == "least(...) takes numbers or dates, this argument is a string"
    )
    assert type_error("coalesce(1, tier)").message == (
        "all arguments of coalesce(...) must have the same type; found number and string"
    )


def test_metric_call_must_be_declared() -> None:
    """A parametrised metric with undeclared arguments lists the declared ones."""
    assert type_error('attended("FAIR2026")').message == (
        'attended("FAIR2026") is not declared; declared: attended("FAIR2024"), attended("FAIR2025")'
    )


def test_metric_call_arguments_must_be_literals() -> None:
    """attended(tier) cannot be precomputed."""
    assert type_error("attended(tier)").message.startswith(
        "arguments of attended(...) must be literal values"
    )


def test_type_error_positions_shift_with_origin() -> None:
    """Parsing with an origin makes type errors point into the file too."""
    with pytest.raises(ExprTypeError) as info:
        check(parse("\n  revnue_12m > 0", origin=Position(7, 11, "segments.yaml")), SCOPE)
    assert info.value.position == Position(8, 3, "segments.yaml")
