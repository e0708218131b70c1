"""End-to-end smoke test of the public API on the rules quoted in DESIGN.md §5."""

from __future__ import annotations

import datetime as dt

import polars as pl

from crm_sync.rules.expr import (
    DictScope,
    Symbol,
    ValueType,
    check_condition,
    compile_expr,
    evaluate,
    parse,
)

N, S, B = ValueType.NUMBER, ValueType.STRING, ValueType.BOOL


def test_design_examples_agree_between_compiler_and_evaluator() -> None:
    """The design's example rules give the same three-valued result vectorised and per record."""
    scope = DictScope(
        {
            "tier": Symbol("tier", S),
            "visits_90d": Symbol("v", N),
            "planned_visits_90d": Symbol("p", N),
        },
        {
            ("attended", ("FAIR2025",)): Symbol("att", B),
            ("ordered_since", ("FAIR2025",)): Symbol("ord", B),
        },
    )
    frame = pl.DataFrame(
        {
            "tier": ["A", "A", None],
            "v": [1, 5, 1],
            "p": [3, 3, 3],
            "att": [True, True, None],
            "ord": [False, None, False],
        }
    )
    as_of = dt.date(2025, 3, 1)
    for text in [
        'tier == "A" and visits_90d < planned_visits_90d',
        'attended("FAIR2025") and not ordered_since("FAIR2025")',
    ]:
        expr = parse(text)
        check_condition(expr, scope)
        vectorised = frame.select(compile_expr(expr, scope, as_of=as_of).alias("r"))["r"].to_list()
        per_row = [evaluate(expr, row, scope, as_of=as_of) for row in frame.iter_rows(named=True)]
        assert vectorised == per_row
