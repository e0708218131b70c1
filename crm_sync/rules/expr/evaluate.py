"""The per-record reference evaluator: plain Python, deliberately simple.

It defines the language's semantics in the most obvious code possible. The vectorised compiler
must agree with it on every record (property tests), ``crm-sync explain`` uses it to trace each
clause with its actual inputs, and benchmarks use it as the baseline. It is never used for the
nightly batch.

Values follow the compiler's conventions: numbers are floats, finite or None; dates are
``datetime.date``; unknown is None.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from crm_sync.errors import Position
from crm_sync.rules.expr.ast import (
    Binary,
    BoolOp,
    Call,
    Comparison,
    Expr,
    InList,
    IsNull,
    Literal,
    Name,
    Negate,
    Not,
)
from crm_sync.rules.expr.functions import FUNCTIONS, finite
from crm_sync.rules.expr.types import Scope, Symbol, ValueType
from crm_sync.rules.expr.unparse import unparse
from crm_sync.rules.expr.walk import walk

__all__ = ["ClauseTrace", "clauses", "evaluate", "normalise"]


@dataclass(frozen=True)
class ClauseTrace:
    """One clause of a rule as evaluated for one record: what it read and what it gave."""

    text: str
    position: Position
    inputs: dict[str, Any] = field(default_factory=dict)
    result: Any = None


def normalise(value: Any, symbol: Symbol) -> Any:
    """A record's raw value in the evaluator's conventions (the same casts the compiler makes)."""
    if value is None:
        return None
    match symbol.type:
        case ValueType.NUMBER:
            number = float(value)
            return number if math.isfinite(number) else None
        case ValueType.DATE:
            return value.date() if isinstance(value, datetime.datetime) else value
        case ValueType.BOOL:
            return bool(value)
        case ValueType.STRING:
            return str(value)
    return value  # pragma: no cover


def clauses(expr: Expr) -> list[Expr]:
    """The clauses of a condition, left to right: the leaves under its and/or/not structure.

    Each is a comparison, ``in``, ``is null`` or a true/false name or call: the units explain
    reports and lint counts. Literals (``true``) are not clauses.
    """
    if isinstance(expr, BoolOp):
        return [c for operand in expr.operands for c in clauses(operand)]
    if isinstance(expr, Not):
        return clauses(expr.operand)
    if isinstance(expr, Literal):
        return []
    return [expr]


def _kleene_and(values: list[Any]) -> Any:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _kleene_or(values: list[Any]) -> Any:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def _compare(op: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    match op:
        case "==":
            return a == b
        case "!=":
            return a != b
        case "<":
            return a < b
        case "<=":
            return a <= b
        case ">":
            return a > b
        case ">=":
            return a >= b
    raise ValueError(op)  # pragma: no cover


def _arith(op: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    match op:
        case "+":
            return finite(a + b)
        case "-":
            return finite(a - b)
        case "*":
            return finite(a * b)
        case "/":
            return None if b == 0 else finite(a / b)
    raise ValueError(op)  # pragma: no cover


class _Evaluator:
    def __init__(self, row: Mapping[str, Any], scope: Scope, as_of: datetime.date) -> None:
        self.row = row
        self.scope = scope
        self.as_of = as_of

    def read(self, symbol: Symbol) -> Any:
        return normalise(self.row.get(symbol.column), symbol)

    def ev(self, expr: Expr) -> Any:
        match expr:
            case Literal(value=value):
                if isinstance(value, int | float) and not isinstance(value, bool):
                    return float(value)
                return value
            case Name():
                return self.read(self.scope.lookup(expr))
            case Call():
                symbol = self.scope.lookup_call(expr)
                if symbol is not None:
                    return self.read(symbol)
                args = [self.ev(a) for a in expr.args]
                return FUNCTIONS[expr.func].py(expr, args, self.as_of)
            case Negate(operand=operand):
                value = self.ev(operand)
                return None if value is None else -value
            case Not(operand=operand):
                value = self.ev(operand)
                return None if value is None else not value
            case Binary(op=op, left=left, right=right):
                return _arith(op, self.ev(left), self.ev(right))
            case Comparison(op=op, left=left, right=right):
                return _compare(op, self.ev(left), self.ev(right))
            case InList(operand=operand, values=values, negated=negated):
                value = self.ev(operand)
                if value is None:
                    return None
                found = any(value == self.ev(v) for v in values)
                return not found if negated else found
            case IsNull(operand=operand, negated=negated):
                return (self.ev(operand) is None) != negated
            case BoolOp(op=op, operands=operands):
                # No short-circuit: every operand is evaluated, like the vectorised version.
                results = [self.ev(o) for o in operands]
                return _kleene_and(results) if op == "and" else _kleene_or(results)
        raise TypeError(f"not a rule expression node: {expr!r}")  # pragma: no cover

    def inputs(self, clause: Expr) -> dict[str, Any]:
        """The values of every name and data-reading call in ``clause``, keyed by their text."""
        out: dict[str, Any] = {}
        for node in walk(clause):
            if isinstance(node, Name):
                out[node.qualified] = self.ev(node)
            elif isinstance(node, Call) and any(self.reads_data(n) for n in walk(node)):
                # Metric calls, and library calls over data such as days_since(last_order_date):
                # explain shows the computed value next to the raw inputs.
                out[unparse(node)] = self.ev(node)
        return out

    def reads_data(self, node: Expr) -> bool:
        return isinstance(node, Name) or (
            isinstance(node, Call) and self.scope.lookup_call(node) is not None
        )


def evaluate(
    expr: Expr,
    row: Mapping[str, Any],
    scope: Scope,
    *,
    as_of: datetime.date,
    trace: list[ClauseTrace] | None = None,
) -> Any:
    """The value of a checked ``expr`` for one record; None means null / unknown.

    ``row`` maps column names (``Symbol.column``) to values. With ``trace``, one
    :class:`ClauseTrace` per clause (see :func:`clauses`) is appended, with its inputs.
    """
    evaluator = _Evaluator(row, scope, as_of)
    if trace is not None:
        for clause in clauses(expr):
            inputs = evaluator.inputs(clause)
            trace.append(ClauseTrace(unparse(clause), clause.pos, inputs, evaluator.ev(clause)))
    return evaluator.ev(expr)
