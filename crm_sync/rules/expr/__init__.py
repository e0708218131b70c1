"""The rule expression language: parse, type-check, compile to Polars, or evaluate per record.

Typical use::

    expr = parse('tier == "A" and visits_90d < planned_visits_90d', origin=position_in_yaml)
    check_condition(expr, scope)                      # ExprTypeError with file:line:col
    frame.with_columns(compile_expr(expr, scope, as_of=as_of).alias("matches"))
    evaluate(expr, row, scope, as_of=as_of, trace=trace)   # explain: each clause with inputs
"""

from crm_sync.rules.expr.check import check, check_condition
from crm_sync.rules.expr.compile import compile_expr
from crm_sync.rules.expr.evaluate import ClauseTrace, clauses, evaluate
from crm_sync.rules.expr.functions import FUNCTIONS, Function
from crm_sync.rules.expr.parser import parse
from crm_sync.rules.expr.types import DictScope, Scope, Symbol, ValueType
from crm_sync.rules.expr.unparse import unparse

__all__ = [
    "FUNCTIONS",
    "ClauseTrace",
    "DictScope",
    "Function",
    "Scope",
    "Symbol",
    "ValueType",
    "check",
    "check_condition",
    "clauses",
    "compile_expr",
    "evaluate",
    "parse",
    "unparse",
]
