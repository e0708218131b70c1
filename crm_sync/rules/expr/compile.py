"""Compile a checked expression to one Polars expression, evaluated over all records at once.

Polars' own semantics are close to ours but not equal, so the differences are handled here:
numbers are cast to Float64 and non-finite values become null (x/0 is null, never inf/NaN);
comparisons, arithmetic, ``&``/``|``/``~`` already follow Kleene logic with null; ``least`` and
``greatest`` are wrapped because ``min_horizontal`` skips nulls. :mod:`.evaluate` is the
per-record oracle that the property tests hold this module to.

An expression without any column reference (``1 < 2``) compiles to a scalar (``.first()``), which
``DataFrame.with_columns`` broadcasts; a bare ``select`` would give one row.
"""

from __future__ import annotations

import datetime
import operator
from collections.abc import Callable
from functools import reduce
from typing import Any

import polars as pl

from crm_sync.rules.expr.ast import (
    Binary,
    BoolOp,
    Call,
    CompareOp,
    Comparison,
    Expr,
    InList,
    IsNull,
    Literal,
    Name,
    Negate,
    Not,
)
from crm_sync.rules.expr.check import check, infer, literal_type
from crm_sync.rules.expr.functions import FUNCTIONS, T, finite_pl
from crm_sync.rules.expr.types import Scope, Symbol, ValueType

__all__ = ["DTYPES", "compile_expr", "symbol_column"]

DTYPES: dict[ValueType, pl.DataType] = {
    ValueType.NUMBER: pl.Float64(),
    ValueType.STRING: pl.String(),
    ValueType.BOOL: pl.Boolean(),
    ValueType.DATE: pl.Date(),
}

# Which type a bare ``null`` argument takes in each library function.
_ARG_TYPES: dict[str, ValueType] = {
    "abs": ValueType.NUMBER,
    "round": ValueType.NUMBER,
    "days_since": ValueType.DATE,
    "days_between": ValueType.DATE,
    "date": ValueType.STRING,
}


def symbol_column(symbol: Symbol) -> pl.Expr:
    """A symbol's column in its canonical dtype; numbers are Float64, finite or null."""
    column = pl.col(symbol.column).cast(DTYPES[symbol.type])
    return finite_pl(column) if symbol.type is ValueType.NUMBER else column


_COMPARE: dict[str, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_MIRROR: dict[CompareOp, CompareOp] = {
    "==": "==",
    "!=": "!=",
    "<": ">",
    "<=": ">=",
    ">": "<",
    ">=": "<=",
}
_NULL_PROPAGATING = frozenset({"least", "greatest", "abs", "round", "days_since", "days_between"})


def always_null(expr: Expr) -> bool:
    """Whether ``expr`` is null on every record, judging from its null literals alone."""
    match expr:
        case Literal(value=value):
            return value is None
        case Negate(operand=o) | Not(operand=o) | InList(operand=o):
            return always_null(o)
        case Binary(left=a, right=b) | Comparison(left=a, right=b):
            return always_null(a) or always_null(b)
        case Call(func="coalesce", args=args):
            return all(always_null(a) for a in args)
        case Call(func=func, args=args) if func in _NULL_PROPAGATING:
            return any(always_null(a) for a in args)
    return False


class _Compiler:
    def __init__(self, scope: Scope, as_of: datetime.date) -> None:
        self.scope = scope
        self.as_of = as_of

    def literal(self, literal: Literal, want: T) -> pl.Expr:
        t = literal_type(literal.value) or want or ValueType.NUMBER
        value = (
            float(literal.value)
            if t is ValueType.NUMBER and literal.value is not None
            else literal.value
        )
        return pl.lit(value, dtype=DTYPES[t])

    def c(self, expr: Expr, want: T = None) -> pl.Expr:
        """Compile ``expr``; ``want`` types a bare ``null`` from its context."""
        if not isinstance(expr, Literal) and always_null(expr):
            # Fold statically-null subtrees to one typed literal: simpler plans, and it sidesteps
            # Polars mis-broadcasting some when/then chains over null literals.
            folded = infer(expr, self.scope) or want or ValueType.NUMBER
            return pl.lit(None, dtype=DTYPES[folded])
        match expr:
            case Literal():
                return self.literal(expr, want)
            case Name():
                return symbol_column(self.scope.lookup(expr))
            case Call():
                return self.call(expr)
            case Negate(operand=operand):
                return -self.c(operand, ValueType.NUMBER)
            case Not(operand=operand):
                return ~self.c(operand, ValueType.BOOL)
            case Binary(op=op, left=left, right=right):
                a, b = self.c(left, ValueType.NUMBER), self.c(right, ValueType.NUMBER)
                if op == "+":
                    return finite_pl(a + b)
                if op == "-":
                    return finite_pl(a - b)
                if op == "*":
                    return finite_pl(a * b)
                if not b.meta.root_names():
                    # Polars divides by a scalar as a multiplication by its reciprocal
                    # (4400 / 5500 -> 0.7999999999999999, not 0.8). ``b + a * 0.0`` is b again
                    # (operands are finite or null) but a column, so the division is exact.
                    return finite_pl(pl.when(b != 0).then(a / (b + a * 0.0)))
                return finite_pl(pl.when(b != 0).then(a / b))
            case Comparison(op=op, left=left, right=right):
                side = infer(left, self.scope) or infer(right, self.scope)
                a, b = self.c(left, side), self.c(right, side)
                if not a.meta.root_names() and b.meta.root_names():
                    # Keep the column side on the left: ``lit == when/then`` can mis-broadcast.
                    a, b, op = b, a, _MIRROR[op]
                return _COMPARE[op](a, b)
            case InList(operand=operand, values=values, negated=negated):
                item_type = literal_type(values[0].value)
                assert item_type is not None
                items: list[Any] = [v.value for v in values]
                if item_type is ValueType.NUMBER:
                    items = [float(v) for v in items]
                x = self.c(operand, item_type)
                candidates = pl.Series(items, dtype=DTYPES[item_type]).implode()
                found = pl.when(x.is_not_null()).then(x.is_in(candidates))
                return ~found if negated else found
            case IsNull(operand=operand, negated=negated):
                x = self.c(operand, infer(operand, self.scope))
                return x.is_not_null() if negated else x.is_null()
            case BoolOp(op=op, operands=operands):
                parts = [self.c(o, ValueType.BOOL) for o in operands]
                if op == "and":
                    return reduce(lambda a, b: a & b, parts)
                return reduce(lambda a, b: a | b, parts)
        raise TypeError(f"not a rule expression node: {expr!r}")  # pragma: no cover

    def call(self, call: Call) -> pl.Expr:
        symbol = self.scope.lookup_call(call)
        if symbol is not None:
            return symbol_column(symbol)
        function = FUNCTIONS[call.func]
        want = _ARG_TYPES.get(call.func) or infer(call, self.scope)
        return function.pl(call, [self.c(arg, want) for arg in call.args], self.as_of)


def compile_expr(expr: Expr, scope: Scope, *, as_of: datetime.date) -> pl.Expr:
    """A Polars expression computing ``expr`` per row of a frame with the scope's columns.

    The tree is type-checked first, so an ill-typed rule fails here with a position rather than
    as a Polars error at run time.
    """
    check(expr, scope)
    compiled = _Compiler(scope, as_of).c(expr)
    # Polars cannot always tell that a column-free expression is a scalar (``"" in ["A"]``).
    return compiled if compiled.meta.root_names() else compiled.first()
