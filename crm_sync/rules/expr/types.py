"""Value types and name resolution for rule expressions.

A :class:`Scope` is how the checker, compiler and evaluator learn what a name means: the model
loader knows which fields, metrics and set outputs exist, and the expression package must not
depend on it. :class:`DictScope` is the small in-memory implementation for tests and simple uses.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from crm_sync.errors import ExprTypeError
from crm_sync.rules.expr.ast import Call, Literal, LiteralValue, Name
from crm_sync.rules.expr.unparse import format_literal, unparse

__all__ = ["DictScope", "Scope", "Symbol", "ValueType", "suggest"]


class ValueType(StrEnum):
    """The four value types a rule can compute; numbers make no int/float distinction."""

    NUMBER = "number"
    STRING = "string"
    BOOL = "bool"
    DATE = "date"


@dataclass(frozen=True)
class Symbol:
    """What a name stands for: the frame column holding it, its type and, for enums, its values."""

    column: str
    type: ValueType
    values: frozenset[str] | None = None
    description: str = ""


@runtime_checkable
class Scope(Protocol):
    """Resolves names and parametrised metric calls to columns."""

    def lookup(self, name: Name) -> Symbol:
        """The symbol for ``name``; raises :class:`ExprTypeError` (with a suggestion) if unknown."""
        ...

    def lookup_call(self, call: Call) -> Symbol | None:
        """The column of a parametrised metric call, or None when ``call.func`` is not a metric."""
        ...


def suggest(word: str, candidates: Iterable[str]) -> str:
    """A "; did you mean X?" suffix for typos such as ``revnue_12m``, or an empty string."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {matches[0]}?" if matches else ""


CallKey = tuple[str, tuple[LiteralValue, ...]]


class DictScope:
    """A scope backed by dictionaries.

    ``symbols`` maps the text an admin writes (``abc_class``, ``company.abc_class``) to its symbol.
    ``calls`` maps ``(metric, literal arguments)`` such as ``("attended", ("FAIR2025",))`` to the
    symbol of the precomputed column; every metric name appearing there is a parametrised metric.
    """

    def __init__(
        self,
        symbols: Mapping[str, Symbol],
        calls: Mapping[CallKey, Symbol] | None = None,
    ) -> None:
        self.symbols = dict(symbols)
        self.calls = dict(calls or {})
        self.metrics = frozenset(func for func, _ in self.calls)

    def lookup(self, name: Name) -> Symbol:
        """The symbol for ``name``, or an error that suggests the closest declared name."""
        symbol = self.symbols.get(name.qualified)
        if symbol is None:
            hint = suggest(name.qualified, self.symbols)
            if name.qualified.lower() in ("true", "false", "null"):
                hint = f"; keywords are lower-case: write {name.qualified.lower()}"
            raise ExprTypeError(f"unknown name '{name.qualified}'{hint}", name.pos)
        return symbol

    def lookup_call(self, call: Call) -> Symbol | None:
        """The precomputed column for ``metric("literal", ...)``; None for library functions."""
        if call.func not in self.metrics:
            return None
        values: list[LiteralValue] = []
        for arg in call.args:
            if not isinstance(arg, Literal):
                raise ExprTypeError(
                    f'arguments of {call.func}(...) must be literal values such as "FAIR2025"',
                    arg.pos,
                )
            values.append(arg.value)
        key = (call.func, tuple(values))
        symbol = self.calls.get(key)
        if symbol is None:
            declared = sorted(
                f"{func}({', '.join(format_literal(v) for v in args)})"
                for func, args in self.calls
                if func == call.func
            )
            raise ExprTypeError(
                f"{unparse(call)} is not declared; declared: {', '.join(declared)}", call.pos
            )
        return symbol
