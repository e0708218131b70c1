"""Clause traces for explain, and the function library's documentation table."""

from __future__ import annotations

import datetime as dt

from crm_sync.errors import Position
from crm_sync.rules.expr import (
    FUNCTIONS,
    ClauseTrace,
    DictScope,
    Symbol,
    ValueType,
    check,
    clauses,
    evaluate,
    parse,
    unparse,
)

N, S, B, D = ValueType.NUMBER, ValueType.STRING, ValueType.BOOL, ValueType.DATE
AS_OF = dt.date(2025, 3, 1)
SCOPE = DictScope(
    {
        "tier": Symbol("tier", S),
        "visits_90d": Symbol("visits_90d", N),
        "planned_visits_90d": Symbol("planned", N),
        "is_key_account": Symbol("key", B),
        "last_order_date": Symbol("last_order", D),
        "share_of_wallet": Symbol("sow", N),
        "company.abc_class": Symbol("company__abc", S, frozenset({"A", "B", "C"})),
    },
    {
        ("attended", ("FAIR2025",)): Symbol("att", B),
        ("ordered_since", ("FAIR2025",)): Symbol("ord", B),
    },
)
ROW = {
    "tier": "A",
    "visits_90d": 1,
    "planned": 3,
    "key": None,
    "last_order": dt.date(2024, 12, 1),
    "sow": None,
    "company__abc": "B",
    "att": True,
    "ord": False,
}


def test_clauses_are_the_leaves_under_and_or_not() -> None:
    """clauses() lists comparisons, in, is null and bool names/calls left to right, skipping literals."""
    expr = parse(
        'tier == "A" and (not is_key_account or company.abc_class in ["A"]) '
        'and share_of_wallet is null and attended("FAIR2025") and true'
    )
    assert [unparse(c) for c in clauses(expr)] == [
        'tier == "A"',
        "is_key_account",
        'company.abc_class in ["A"]',
        "share_of_wallet is null",
        'attended("FAIR2025")',
    ]


def test_single_comparison_is_one_clause() -> None:
    """A condition without and/or is its own single clause."""
    expr = parse("visits_90d < planned_visits_90d")
    assert clauses(expr) == [expr]


def test_trace_records_each_clause_with_inputs_and_result() -> None:
    """explain shows every clause with the actual values it read and its three-valued result."""
    expr = parse('tier == "A" and visits_90d < planned_visits_90d and is_key_account')
    trace: list[ClauseTrace] = []
    result = evaluate(expr, ROW, SCOPE, as_of=AS_OF, trace=trace)
    assert result is None
    assert trace == [
        ClauseTrace('tier == "A"', Position(1, 6), {"tier": "A"}, True),
        ClauseTrace(
            "visits_90d < planned_visits_90d",
            Position(1, 28),
            {"visits_90d": 1.0, "planned_visits_90d": 3.0},
            True,
        ),
        ClauseTrace("is_key_account", Position(1, 53), {"is_key_account": None}, None),
    ]


def test_trace_evaluates_every_clause_without_short_circuit() -> None:
    """Clauses after a false one are still traced, so explain can show them all."""
    expr = parse('attended("FAIR2025") and ordered_since("FAIR2025") and tier == "B"')
    trace: list[ClauseTrace] = []
    assert evaluate(expr, ROW, SCOPE, as_of=AS_OF, trace=trace) is False
    assert [(t.text, t.inputs, t.result) for t in trace] == [
        ('attended("FAIR2025")', {'attended("FAIR2025")': True}, True),
        ('ordered_since("FAIR2025")', {'ordered_since("FAIR2025")': False}, False),
        ('tier == "B"', {"tier": "A"}, False),
    ]


def test_trace_inputs_include_computed_function_values() -> None:
    """A library call over data appears with its value next to the raw inputs; constants do not."""
    expr = parse('days_since(last_order_date) > 30 and last_order_date < date("2025-01-01")')
    trace: list[ClauseTrace] = []
    evaluate(expr, ROW, SCOPE, as_of=AS_OF, trace=trace)
    assert trace[0].inputs == {
        "days_since(last_order_date)": 90.0,
        "last_order_date": dt.date(2024, 12, 1),
    }
    assert trace[1].inputs == {"last_order_date": dt.date(2024, 12, 1)}


def test_trace_positions_follow_the_origin() -> None:
    """Clause positions point into the admin's file when parsed with an origin."""
    expr = parse("tier == 'A'\n  and visits_90d > 0", origin=Position(12, 10, "segments.yaml"))
    trace: list[ClauseTrace] = []
    evaluate(expr, ROW, SCOPE, as_of=AS_OF, trace=trace)
    assert [t.position for t in trace] == [
        Position(12, 15, "segments.yaml"),
        Position(13, 18, "segments.yaml"),
    ]


def test_function_library_is_documented() -> None:
    """Every library function has a signature, a description and an example that type-checks."""
    scope = DictScope(
        {
            name: Symbol(name, ValueType.DATE if name.endswith("date") else ValueType.NUMBER)
            for name in [
                "revenue_12m",
                "potential_12m",
                "costs_12m",
                "price_index",
                "share_of_wallet",
                "visits_90d",
                "last_order_date",
                "first_quote_date",
                "first_invoice_date",
            ]
        }
    )
    assert list(FUNCTIONS) == [
        "least",
        "greatest",
        "abs",
        "round",
        "coalesce",
        "days_since",
        "days_between",
        "date",
    ]
    for name, function in FUNCTIONS.items():
        assert function.name == name
        assert function.signature.startswith(name + "(")
        assert function.description.endswith(".")
        check(parse(function.example), scope)
