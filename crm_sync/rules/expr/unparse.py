"""Canonical text for a syntax tree, used by explain, lint and error messages.

The output re-parses to the same tree (positions aside), so lint can show an admin the effective
condition of a rule and explain can quote each clause exactly as the engine understood it.
Parentheses are added only where precedence needs them, plus around ``and`` inside ``or`` because
admins misread that mix.
"""

from __future__ import annotations

from crm_sync.rules.expr.ast import (
    Binary,
    BoolOp,
    Call,
    Comparison,
    Expr,
    InList,
    IsNull,
    Literal,
    LiteralValue,
    Name,
    Negate,
    Not,
)

__all__ = ["format_literal", "unparse"]

_OR, _AND, _NOT, _CMP, _ADD, _MUL, _NEG, _ATOM = 1, 2, 3, 4, 5, 6, 7, 8


def format_literal(value: LiteralValue) -> str:
    """A literal as the admin would write it (``null``, ``true``, ``"A"``, ``0.25``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def _prec(expr: Expr) -> int:
    match expr:
        case BoolOp(op="or"):
            return _OR
        case BoolOp():
            return _AND
        case Not():
            return _NOT
        case Comparison() | InList() | IsNull():
            return _CMP
        case Binary(op="+" | "-"):
            return _ADD
        case Binary():
            return _MUL
        case Negate():
            return _NEG
        case Literal(value=int() | float() as v) if not isinstance(v, bool) and v < 0:
            return _NEG
        case _:
            return _ATOM


def _wrap(expr: Expr, min_prec: int) -> str:
    text = unparse(expr)
    return f"({text})" if _prec(expr) < min_prec else text


def unparse(expr: Expr) -> str:
    """Canonical rule text for ``expr``."""
    match expr:
        case Literal(value=value):
            return format_literal(value)
        case Name():
            return expr.qualified
        case Call(func=func, args=args):
            return f"{func}({', '.join(unparse(a) for a in args)})"
        case Negate(operand=operand):
            return "-" + _wrap(operand, _NEG + 1)
        case Not(operand=operand):
            return "not " + _wrap(operand, _NOT)
        case Binary(op=op, left=left, right=right):
            prec = _prec(expr)
            return f"{_wrap(left, prec)} {op} {_wrap(right, prec + 1)}"
        case Comparison(op=op, left=left, right=right):
            return f"{_wrap(left, _CMP + 1)} {op} {_wrap(right, _CMP + 1)}"
        case InList(operand=operand, values=values, negated=negated):
            items = ", ".join(format_literal(v.value) for v in values)
            return f"{_wrap(operand, _CMP + 1)} {'not in' if negated else 'in'} [{items}]"
        case IsNull(operand=operand, negated=negated):
            return f"{_wrap(operand, _CMP + 1)} is {'not null' if negated else 'null'}"
        case BoolOp(op=op, operands=operands):
            # Nested BoolOps only arise from explicit parentheses; keep them (and and-in-or).
            return f" {op} ".join(
                f"({unparse(o)})" if isinstance(o, BoolOp) else _wrap(o, _prec(expr) + 1)
                for o in operands
            )
    raise TypeError(f"not a rule expression node: {expr!r}")  # pragma: no cover
