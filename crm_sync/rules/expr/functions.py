"""The closed function library: the only functions a rule can call besides declared metrics.

Each function is defined once here with its documentation, its type rule, a pure-Python
implementation (for the reference evaluator) and a Polars implementation (for the compiler), so
the two evaluators cannot drift apart and the docs are generated from the same table.

Null handling is explicit per function: ``least``/``greatest`` are null if *any* argument is
null (unlike SQL ``least`` and ``pl.min_horizontal``, which skip nulls and would turn an unknown
share of wallet into 100 %); ``coalesce`` is the one way to default a missing value.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from crm_sync.errors import ExprTypeError
from crm_sync.rules.expr.ast import Call, Literal
from crm_sync.rules.expr.types import ValueType

__all__ = ["FUNCTIONS", "MAX_ROUND_DIGITS", "Function", "T", "finite", "parse_date_literal"]

T = ValueType | None
"""A checked type; None is the type of the bare ``null`` literal, compatible with every type."""

MAX_ROUND_DIGITS = 10
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def finite(value: float | None) -> float | None:
    """Numbers in rules are finite or null: infinities and NaN from data or overflow become null."""
    if value is None or not math.isfinite(value):
        return None
    return value


def finite_pl(expr: pl.Expr) -> pl.Expr:
    """The Polars twin of :func:`finite`."""
    return pl.when(expr.is_finite()).then(expr)


def parse_date_literal(call: Call) -> datetime.date:
    """The constant of ``date("2025-01-31")``; anything but a valid ISO date literal is an error."""
    arg = call.args[0] if call.args else None
    if not isinstance(arg, Literal) or not isinstance(arg.value, str):
        raise ExprTypeError(
            'date(...) takes one quoted ISO date such as date("2025-01-31")',
            arg.pos if arg is not None else call.pos,
        )
    if not _DATE_RE.fullmatch(arg.value):
        raise ExprTypeError(
            f'"{arg.value}" is not a date; write YYYY-MM-DD, e.g. "2025-01-31"', arg.pos
        )
    try:
        return datetime.date.fromisoformat(arg.value)
    except ValueError:
        raise ExprTypeError(f'"{arg.value}" is not a valid calendar date', arg.pos) from None


def _round_digits(call: Call) -> int:
    if len(call.args) < 2:
        return 0
    arg = call.args[1]
    if (
        not isinstance(arg, Literal)
        or isinstance(arg.value, bool)
        or not isinstance(arg.value, int)
        or not 0 <= arg.value <= MAX_ROUND_DIGITS
    ):
        raise ExprTypeError(
            f"the digits of round(x, digits) must be a whole number from 0 to {MAX_ROUND_DIGITS}",
            arg.pos,
        )
    return arg.value


# -- type rules ---------------------------------------------------------------------------------

TypeRule = Callable[[Call, Sequence[T]], T]


def _same(call: Call, types: Sequence[T], allowed: tuple[ValueType, ...]) -> T:
    """All arguments share one type from ``allowed`` (null literals fit any); that is the result."""
    found: T = None
    for arg, t in zip(call.args, types, strict=True):
        if t is None:
            continue
        if t not in allowed:
            kinds = " or ".join(a.value + "s" for a in allowed)
            raise ExprTypeError(f"{call.func}(...) takes {kinds}, this argument is a {t}", arg.pos)
        if found is not None and t != found:
            raise ExprTypeError(
                f"all arguments of {call.func}(...) must have the same type; found {found} and {t}",
                arg.pos,
            )
        found = t
    return found


def _expect(call: Call, types: Sequence[T], *expected: ValueType) -> None:
    for arg, t, want in zip(call.args, types, expected, strict=False):
        if t is not None and t != want:
            raise ExprTypeError(f"{call.func}(...) expects a {want} here, this is a {t}", arg.pos)


def _type_least(call: Call, types: Sequence[T]) -> T:
    return _same(call, types, (ValueType.NUMBER, ValueType.DATE))


def _type_abs(call: Call, types: Sequence[T]) -> T:
    _expect(call, types, ValueType.NUMBER)
    return ValueType.NUMBER


def _type_round(call: Call, types: Sequence[T]) -> T:
    _expect(call, types, ValueType.NUMBER)
    _round_digits(call)
    return ValueType.NUMBER


def _type_coalesce(call: Call, types: Sequence[T]) -> T:
    return _same(call, types, tuple(ValueType))


def _type_days(call: Call, types: Sequence[T]) -> T:
    _expect(call, types, ValueType.DATE, ValueType.DATE)
    return ValueType.NUMBER


def _type_date(call: Call, types: Sequence[T]) -> T:
    parse_date_literal(call)
    return ValueType.DATE


# -- implementations ----------------------------------------------------------------------------

PyImpl = Callable[[Call, list[Any], datetime.date], Any]
PlImpl = Callable[[Call, list[pl.Expr], datetime.date], pl.Expr]


def _py_least(call: Call, args: list[Any], as_of: datetime.date) -> Any:
    if any(a is None for a in args):
        return None
    return min(args) if call.func == "least" else max(args)


def _pl_least(call: Call, args: list[pl.Expr], as_of: datetime.date) -> pl.Expr:
    combined = pl.min_horizontal(args) if call.func == "least" else pl.max_horizontal(args)
    # Literal arguments cannot be null (the compiler folds a null literal away). The then-only
    # form matters: ``when(p).then(null).otherwise(col)`` breaks Polars broadcasting when ``p`` is
    # true on every row and the result is compared with a literal (Polars 2.1).
    nullable = [a for a, node in zip(args, call.args, strict=True) if not isinstance(node, Literal)]
    if not nullable:
        return combined
    return pl.when(~pl.any_horizontal([a.is_null() for a in nullable])).then(combined)


def _py_round(call: Call, args: list[Any], as_of: datetime.date) -> Any:
    # Half away from zero on the binary value; the same float operations as _pl_round.
    x = args[0]
    if x is None:
        return None
    factor = float(10 ** _round_digits(call))
    shifted = finite(abs(x) * factor + 0.5)
    if shifted is None:
        return None
    result = finite(math.floor(shifted) / factor)
    return None if result is None else (-result if x < 0 else result)


def _pl_round(call: Call, args: list[pl.Expr], as_of: datetime.date) -> pl.Expr:
    x = args[0]
    factor = float(10 ** _round_digits(call))
    shifted = finite_pl(x.abs() * factor + 0.5)
    result = finite_pl(shifted.floor() / factor)
    return pl.when(x < 0).then(-result).otherwise(result)


def _py_days_since(call: Call, args: list[Any], as_of: datetime.date) -> Any:
    return None if args[0] is None else float((as_of - args[0]).days)


def _pl_days_since(call: Call, args: list[pl.Expr], as_of: datetime.date) -> pl.Expr:
    return (pl.lit(as_of, dtype=pl.Date) - args[0]).dt.total_days().cast(pl.Float64)


def _py_days_between(call: Call, args: list[Any], as_of: datetime.date) -> Any:
    a, b = args
    return None if a is None or b is None else float((b - a).days)


def _pl_days_between(call: Call, args: list[pl.Expr], as_of: datetime.date) -> pl.Expr:
    return (args[1] - args[0]).dt.total_days().cast(pl.Float64)


@dataclass(frozen=True)
class Function:
    """One library function: its documentation, arity, type rule and both implementations."""

    name: str
    signature: str
    description: str
    example: str
    min_args: int
    max_args: int | None
    type_rule: TypeRule
    py: PyImpl
    pl: PlImpl

    def arity_text(self) -> str:
        """How many arguments, in words, for arity errors."""
        if self.max_args is None:
            return f"at least {self.min_args} arguments"
        if self.min_args == self.max_args:
            return f"{self.min_args} argument" + ("" if self.min_args == 1 else "s")
        return f"{self.min_args} to {self.max_args} arguments"


_FUNCTIONS = [
    Function(
        "least",
        "least(a, b, ...)",
        "The smallest argument; null if any argument is null, so an unknown input stays unknown.",
        "least(1, revenue_12m / potential_12m)",
        2,
        None,
        _type_least,
        _py_least,
        _pl_least,
    ),
    Function(
        "greatest",
        "greatest(a, b, ...)",
        "The largest argument; null if any argument is null.",
        "greatest(0, revenue_12m - costs_12m)",
        2,
        None,
        _type_least,
        _py_least,
        _pl_least,
    ),
    Function(
        "abs",
        "abs(x)",
        "The absolute value of a number.",
        "abs(price_index - 1) < 0.1",
        1,
        1,
        _type_abs,
        lambda call, args, as_of: None if args[0] is None else abs(args[0]),
        lambda call, args, as_of: args[0].abs(),
    ),
    Function(
        "round",
        "round(x) / round(x, digits)",
        "Rounds half away from zero to a whole number, or to 0–10 decimal digits (a literal).",
        "round(share_of_wallet, 2) >= 0.5",
        1,
        2,
        _type_round,
        _py_round,
        _pl_round,
    ),
    Function(
        "coalesce",
        "coalesce(a, b, ...)",
        "The first argument that is not null: the explicit way to give a missing value a default.",
        "coalesce(visits_90d, 0) == 0",
        2,
        None,
        _type_coalesce,
        lambda call, args, as_of: next((a for a in args if a is not None), None),
        lambda call, args, as_of: pl.coalesce(args),
    ),
    Function(
        "days_since",
        "days_since(d)",
        "Whole days from date d to the run's as_of date (negative if d is later); null if d is null.",
        "days_since(last_order_date) > 365",
        1,
        1,
        _type_days,
        _py_days_since,
        _pl_days_since,
    ),
    Function(
        "days_between",
        "days_between(a, b)",
        "Whole days from date a to date b (negative if b is earlier); null if either is null.",
        "days_between(first_quote_date, first_invoice_date) <= 30",
        2,
        2,
        _type_days,
        _py_days_between,
        _pl_days_between,
    ),
    Function(
        "date",
        'date("YYYY-MM-DD")',
        "A date constant; the argument must be a quoted ISO date, checked when the model loads.",
        'last_order_date >= date("2025-01-01")',
        1,
        1,
        _type_date,
        lambda call, args, as_of: parse_date_literal(call),
        lambda call, args, as_of: pl.lit(parse_date_literal(call), dtype=pl.Date),
    ),
]

FUNCTIONS: dict[str, Function] = {f.name: f for f in _FUNCTIONS}
"""The library by name, in documentation order."""
