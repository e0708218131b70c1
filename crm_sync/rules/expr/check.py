"""Static type checking: every mistake an admin can make in a rule is caught when the model loads.

Errors name the offending token's position and say what was expected, e.g. ``'Z' is not a value
of abc_class; expected one of A, B, C, no_revenue``. The compiler and the evaluator rely on a
checked tree and do no type checks of their own.
"""

from __future__ import annotations

from crm_sync.errors import ExprTypeError
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
from crm_sync.rules.expr.functions import FUNCTIONS, T
from crm_sync.rules.expr.types import Scope, Symbol, ValueType, suggest
from crm_sync.rules.expr.unparse import unparse

__all__ = ["check", "check_condition", "infer"]

_ARTICLE = {
    ValueType.NUMBER: "a number",
    ValueType.STRING: "a string",
    ValueType.BOOL: "true/false",
    ValueType.DATE: "a date",
}


def _describe(t: T) -> str:
    return "null" if t is None else _ARTICLE[t]


def literal_type(value: object) -> T:
    """The type of a literal's Python value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return ValueType.BOOL
    if isinstance(value, int | float):
        return ValueType.NUMBER
    return ValueType.STRING


def _enum_symbol(expr: Expr, scope: Scope) -> tuple[str, Symbol] | None:
    """The enum-like symbol behind ``expr``, if it is a plain name with declared values."""
    if isinstance(expr, Name):
        symbol = scope.lookup(expr)
        if symbol.values is not None:
            return expr.qualified, symbol
    return None


def _check_enum_literal(expr: Expr, literal: Literal, scope: Scope) -> None:
    enum = _enum_symbol(expr, scope)
    if enum is None or not isinstance(literal.value, str):
        return
    name, symbol = enum
    assert symbol.values is not None
    if literal.value not in symbol.values:
        allowed = ", ".join(sorted(symbol.values))
        hint = suggest(literal.value, symbol.values)
        raise ExprTypeError(
            f"'{literal.value}' is not a value of {name}; expected one of {allowed}{hint}",
            literal.pos,
        )


def _comparable(op: str, lt: T, rt: T, node: Expr) -> None:
    if lt is None or rt is None:
        return
    if lt != rt:
        hint = ""
        if ValueType.DATE in (lt, rt) and ValueType.STRING in (lt, rt):
            hint = '; write a date constant as date("2025-01-31")'
        raise ExprTypeError(
            f"cannot compare {_describe(lt)} with {_describe(rt)} using '{op}'{hint}", node.pos
        )
    if lt is ValueType.BOOL and op not in ("==", "!="):
        raise ExprTypeError(
            f"true/false values cannot be ordered with '{op}'; use == or !=", node.pos
        )


def infer(expr: Expr, scope: Scope) -> T:
    """The type of ``expr``, None for an expression that is always null (a bare ``null``)."""
    match expr:
        case Literal(value=value):
            return literal_type(value)
        case Name():
            return scope.lookup(expr).type
        case Call():
            return _infer_call(expr, scope)
        case Negate(operand=operand):
            t = infer(operand, scope)
            if t not in (None, ValueType.NUMBER):
                raise ExprTypeError(f"'-' needs a number, this is {_describe(t)}", expr.pos)
            return ValueType.NUMBER
        case Not(operand=operand):
            t = infer(operand, scope)
            if t not in (None, ValueType.BOOL):
                raise ExprTypeError(f"'not' needs true/false, this is {_describe(t)}", expr.pos)
            return ValueType.BOOL
        case Binary(op=op, left=left, right=right):
            for side in (left, right):
                t = infer(side, scope)
                if t not in (None, ValueType.NUMBER):
                    raise ExprTypeError(
                        f"'{op}' needs numbers, but {unparse(side)} is {_describe(t)}", expr.pos
                    )
            return ValueType.NUMBER
        case Comparison(op=op, left=left, right=right):
            lt, rt = infer(left, scope), infer(right, scope)
            for side, other in ((left, right), (right, left)):
                if isinstance(other, Literal) and other.value is None:
                    word = "is null" if op == "==" else "is not null"
                    raise ExprTypeError(
                        f"comparing with null with '{op}' is always unknown; write {unparse(side)} {word}",
                        expr.pos,
                    )
            _comparable(op, lt, rt, expr)
            for side, other in ((left, right), (right, left)):
                if isinstance(other, Literal):
                    _check_enum_literal(side, other, scope)
            return ValueType.BOOL
        case InList(operand=operand, values=values):
            t = infer(operand, scope)
            if t is ValueType.DATE:
                raise ExprTypeError(
                    "dates cannot be tested with 'in'; compare with date(...)", expr.pos
                )
            for item in values:
                vt = literal_type(item.value)
                if t is not None and vt != t:
                    raise ExprTypeError(
                        f"list value {unparse(item)} is {_describe(vt)}, but {unparse(operand)} is {_describe(t)}",
                        item.pos,
                    )
                _check_enum_literal(operand, item, scope)
            return ValueType.BOOL
        case IsNull(operand=operand):
            infer(operand, scope)
            return ValueType.BOOL
        case BoolOp(op=op, operands=operands):
            for operand in operands:
                t = infer(operand, scope)
                if t not in (None, ValueType.BOOL):
                    raise ExprTypeError(
                        f"'{op}' combines true/false conditions, but {unparse(operand)} is {_describe(t)}",
                        operand.pos,
                    )
            return ValueType.BOOL
    raise TypeError(f"not a rule expression node: {expr!r}")  # pragma: no cover


def _infer_call(call: Call, scope: Scope) -> T:
    symbol = scope.lookup_call(call)
    if symbol is not None:
        return symbol.type
    function = FUNCTIONS.get(call.func)
    if function is None:
        hint = suggest(call.func, FUNCTIONS)
        raise ExprTypeError(
            f"unknown function '{call.func}'{hint}; available: {', '.join(FUNCTIONS)}", call.pos
        )
    n = len(call.args)
    if n < function.min_args or (function.max_args is not None and n > function.max_args):
        raise ExprTypeError(
            f"{function.name}(...) takes {function.arity_text()}, got {n}: {function.signature}",
            call.pos,
        )
    types = [infer(arg, scope) for arg in call.args]
    return function.type_rule(call, types)


def check(expr: Expr, scope: Scope) -> ValueType:
    """Type-check ``expr`` against ``scope`` and return its type; raises :class:`ExprTypeError`."""
    t = infer(expr, scope)
    if t is None:
        raise ExprTypeError("this expression is always null", expr.pos)
    return t


def check_condition(expr: Expr, scope: Scope) -> None:
    """Type-check a rule condition, which must be true/false (unknown counts as no match)."""
    t = check(expr, scope)
    if t is not ValueType.BOOL:
        raise ExprTypeError(
            f"a rule condition must be true/false, this expression is {_describe(t)}", expr.pos
        )
