"""Hypothesis strategies for well-typed rule expressions and frames with nulls (shared helpers).

Imported as a top-level module: pytest puts this folder on sys.path (test folders have no
__init__.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import Any

import polars as pl
from hypothesis import strategies as st

from crm_sync.errors import Position
from crm_sync.rules.expr import DictScope, Symbol, ValueType
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

N, S, B, D = ValueType.NUMBER, ValueType.STRING, ValueType.BOOL, ValueType.DATE
P = Position(1, 1)
ENUM_VALUES = ("A", "B", "no_revenue")

SCOPE = DictScope(
    {
        "n_float": Symbol("n_float", N),
        "n_int": Symbol("n_int", N),
        "company.potential": Symbol("company__potential", N),
        "s_text": Symbol("s_text", S),
        "abc_class": Symbol("abc_class", S, frozenset(ENUM_VALUES)),
        "flag": Symbol("flag", B),
        "d_first": Symbol("d_first", D),
        "d_last": Symbol("d_last", D),
    },
    {
        ("attended", ("FAIR2025",)): Symbol("attended__fair2025", B),
        ("revenue_of", ("X", 12)): Symbol("revenue_of__x_12", N),
    },
)
NAMES: dict[ValueType, list[Name]] = {
    N: [Name("n_float", P), Name("n_int", P), Name("potential", P, scope="company")],
    S: [Name("s_text", P)],
    B: [Name("flag", P)],
    D: [Name("d_first", P), Name("d_last", P)],
}
METRICS: dict[ValueType, list[Call]] = {
    B: [Call("attended", (Literal("FAIR2025", P),), P)],
    N: [Call("revenue_of", (Literal("X", P), Literal(12, P)), P)],
}
ENUM = Name("abc_class", P)


def strip(expr: Expr) -> Expr:
    """The same tree with every position set to 1:1, to compare trees modulo positions."""
    changes: dict[str, Any] = {"pos": P}
    for field in dataclasses.fields(expr):
        value = getattr(expr, field.name)
        if isinstance(value, tuple):
            changes[field.name] = tuple(strip(v) for v in value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, Position):
            changes[field.name] = strip(value)  # type: ignore[arg-type]
    return dataclasses.replace(expr, **changes)


def same_tree(a: Expr, b: Expr) -> bool:
    """Trees are equal ignoring positions."""
    return strip(a) == strip(b)


# -- literals ------------------------------------------------------------------------------------

numbers = st.one_of(
    st.integers(0, 1000),
    st.integers(0, 2**63 - 1),
    st.floats(0, 1e6, allow_nan=False),
    st.floats(0, allow_nan=False, allow_infinity=False),
)
plain_text = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\r\n"), max_size=6
)
dates = st.dates(dt.date(1900, 1, 1), dt.date(2200, 12, 31))
NULL = Literal(None, P)


def lit(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Expr]:
    return strategy.map(lambda v: Literal(v, P))


def date_const() -> st.SearchStrategy[Expr]:
    return dates.map(lambda d: Call("date", (Literal(d.isoformat(), P),), P))


# -- typed expressions ---------------------------------------------------------------------------


def leaves(t: ValueType) -> st.SearchStrategy[Expr]:
    options: list[st.SearchStrategy[Expr]] = [st.sampled_from(NAMES[t])]
    if t in METRICS:
        options.append(st.sampled_from(METRICS[t]))
    if t is N:
        options.append(lit(numbers))
    elif t is S:
        options.append(lit(plain_text))
    elif t is B:
        options.append(lit(st.booleans()))
    else:
        options.append(date_const())
    return st.one_of(options)


@functools.cache
def exprs(t: ValueType, depth: int = 3) -> st.SearchStrategy[Expr]:
    """Well-typed expressions of type ``t`` over SCOPE, nesting at most ``depth`` levels."""
    if depth <= 0:
        return leaves(t)
    sub = {u: st.deferred(lambda u=u: exprs(u, depth - 1)) for u in ValueType}  # type: ignore[misc]
    nullable = {u: st.one_of(sub[u], st.just(NULL)) for u in ValueType}
    # At least one argument is typed, so least(null, null) (which has no type) is never drawn.
    many = {
        u: st.tuples(sub[u], st.lists(nullable[u], min_size=1, max_size=2))
        .flatmap(lambda p: st.permutations([p[0], *p[1]]))
        .map(tuple)
        for u in ValueType
    }
    coalesce = many[t].map(lambda args: Call("coalesce", args, P))
    options: list[st.SearchStrategy[Expr]] = [leaves(t), leaves(t), coalesce]
    if t is N:
        options += [
            nullable[N].map(lambda x: Negate(x, P)),
            st.builds(
                lambda op, a, b: Binary(op, a, b, P),
                st.sampled_from(["+", "-", "*", "/"]),
                nullable[N],
                nullable[N],
            ),
            st.builds(
                lambda f, args: Call(f, args, P), st.sampled_from(["least", "greatest"]), many[N]
            ),
            nullable[N].map(lambda x: Call("abs", (x,), P)),
            st.builds(
                lambda x, d: Call("round", (x, *([Literal(d, P)] if d is not None else [])), P),
                nullable[N],
                st.one_of(st.none(), st.integers(0, 10)),
            ),
            nullable[D].map(lambda d: Call("days_since", (d,), P)),
            st.builds(lambda a, b: Call("days_between", (a, b), P), nullable[D], nullable[D]),
        ]
    elif t is D:
        options.append(
            st.builds(
                lambda f, args: Call(f, args, P), st.sampled_from(["least", "greatest"]), many[D]
            )
        )
    elif t is B:
        ordered = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
        equality = st.sampled_from(["==", "!="])

        def compare(op: str, a: Expr, b: Expr) -> Expr:
            return Comparison(op, a, b, P)  # type: ignore[arg-type]

        options += [
            st.builds(compare, ordered, sub[N], sub[N]),
            st.builds(compare, ordered, sub[S], sub[S]),
            st.builds(compare, ordered, sub[D], sub[D]),
            st.builds(compare, equality, sub[B], sub[B]),
            st.builds(compare, equality, st.just(ENUM), lit(st.sampled_from(ENUM_VALUES))),
            st.builds(
                compare, ordered, st.just(ENUM), sub[S].filter(lambda e: not isinstance(e, Literal))
            ),
            st.builds(
                lambda x, vs, neg: InList(x, tuple(Literal(v, P) for v in vs), neg, P),
                sub[N],
                st.lists(st.one_of(st.integers(-5, 5), st.floats(-5, 5)), min_size=1, max_size=3),
                st.booleans(),
            ),
            st.builds(
                lambda x, vs, neg: InList(x, tuple(Literal(v, P) for v in vs), neg, P),
                st.one_of(sub[S], st.just(ENUM)),
                st.lists(st.sampled_from(ENUM_VALUES), min_size=1, max_size=3),
                st.booleans(),
            ),
            st.builds(
                lambda x, neg: IsNull(x, neg, P),
                st.one_of([sub[u] for u in ValueType]),
                st.booleans(),
            ),
            nullable[B].map(lambda x: Not(x, P)),
            st.builds(
                lambda op, args: BoolOp(op, args, P),
                st.sampled_from(["and", "or"]),
                st.lists(nullable[B], min_size=2, max_size=4).map(tuple),
            ),
        ]
    return st.one_of(options)


any_expr = st.one_of([exprs(t) for t in ValueType])


# -- frames --------------------------------------------------------------------------------------

SPECIAL_FLOATS = [0.0, -0.0, 0.5, 2.5, -2.5, 1e308, -1e308, 5e-324, float("nan"), float("inf")]


def frames(max_rows: int = 6) -> st.SearchStrategy[pl.DataFrame]:
    """Frames with SCOPE's columns, nulls in every column, and NaN/inf in float columns."""
    floats = st.one_of(
        st.none(),
        st.integers(-20, 20).map(float),
        st.floats(-1e6, 1e6),
        st.sampled_from(SPECIAL_FLOATS),
        st.floats(),
    )
    ints = st.one_of(st.none(), st.integers(-20, 20), st.integers(-(2**62), 2**62))
    texts = st.one_of(st.none(), st.sampled_from(["", "A", "B", "a", "no_revenue"]), plain_text)
    columns: dict[str, tuple[pl.DataType, st.SearchStrategy[Any]]] = {
        "n_float": (pl.Float64(), floats),
        "n_int": (pl.Int64(), ints),
        "company__potential": (pl.Float64(), floats),
        "s_text": (pl.String(), texts),
        "abc_class": (pl.String(), st.one_of(st.none(), st.sampled_from(ENUM_VALUES))),
        "flag": (pl.Boolean(), st.one_of(st.none(), st.booleans())),
        "d_first": (pl.Date(), st.one_of(st.none(), dates)),
        "d_last": (pl.Date(), st.one_of(st.none(), dates)),
        "attended__fair2025": (pl.Boolean(), st.one_of(st.none(), st.booleans())),
        "revenue_of__x_12": (pl.Float64(), floats),
    }

    @st.composite
    def build(draw: st.DrawFn) -> pl.DataFrame:
        n = draw(st.integers(1, max_rows))
        data = {
            name: draw(st.lists(values, min_size=n, max_size=n))
            for name, (_, values) in columns.items()
        }
        return pl.DataFrame(data, schema={name: dtype for name, (dtype, _) in columns.items()})

    return build()
