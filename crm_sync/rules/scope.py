"""Name resolution for one entity of a model: fields, metrics, derived values and set outputs.

The expression checker asks a :class:`~crm_sync.rules.expr.types.Scope` what each name means.
This one knows the declared names of one entity (and, for contacts, the company's names under
``company.``), records every parametrised metric call it sees (so the metric step computes only
the columns rules use), and explains unknown names with the closest declared one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crm_sync.errors import ExprTypeError
from crm_sync.rules.compiled import call_column
from crm_sync.rules.expr.ast import Call, Literal, Name
from crm_sync.rules.expr.types import Symbol, ValueType, suggest

__all__ = ["BrokenName", "ModelScope"]


class BrokenName(ExprTypeError):
    """A name whose declaration already has a reported problem: not reported a second time."""


@dataclass
class ModelScope:
    """Declared names of one entity, plus the company's names for contact rules."""

    entity: str
    symbols: dict[str, Symbol] = field(default_factory=dict)
    company: dict[str, Symbol] | None = None
    company_broken: set[str] = field(default_factory=set)
    callables: dict[str, tuple[int, ValueType]] = field(default_factory=dict)
    tag_sets: set[str] = field(default_factory=set)
    broken: set[str] = field(default_factory=set)
    calls: dict[str, set[tuple[str, ...]]] = field(default_factory=dict)

    def add(self, name: str, symbol: Symbol) -> None:
        """Declare ``name`` (its column is the name itself)."""
        self.symbols[name] = symbol

    def lookup(self, name: Name) -> Symbol:
        """Resolve ``abc_class`` or (on contacts) ``company.abc_class``."""
        if name.scope is None:
            return self._own(name)
        if name.scope == "company" and self.company is not None:
            symbol = self.company.get(name.name)
            if symbol is None and name.name in self.company_broken:
                raise BrokenName(f"'{name.qualified}' has a problem reported elsewhere", name.pos)
            if symbol is None:
                hint = suggest(name.name, self.company)
                msg = f"unknown company value '{name.qualified}'{hint}; declare it under the company entity"
                raise ExprTypeError(msg, name.pos)
            return Symbol(
                f"company.{symbol.column}", symbol.type, symbol.values, symbol.description
            )
        where = "contact rules" if self.entity == "company" else "this entity"
        msg = (
            f"'{name.qualified}': only company.<name> is allowed, and only on contact rules "
            f"(not on {where})"
        )
        raise ExprTypeError(msg, name.pos)

    def _own(self, name: Name) -> Symbol:
        symbol = self.symbols.get(name.name)
        if symbol is not None:
            return symbol
        if name.name in self.broken:
            raise BrokenName(f"'{name.name}' has a problem reported elsewhere", name.pos)
        if name.name in self.tag_sets:
            msg = (
                f"'{name.name}' is a tag set (several values per record) and cannot be used in a "
                "rule; test the condition of the tag instead"
            )
            raise ExprTypeError(msg, name.pos)
        if name.name in self.callables:
            arity = self.callables[name.name][0]
            msg = f"'{name.name}' is a parametrised metric; call it with {arity} argument(s), e.g. {name.name}(\"X\")"
            raise ExprTypeError(msg, name.pos)
        hint = suggest(name.name, [*self.symbols, *self.callables])
        msg = f"unknown name '{name.name}'{hint}; declare it under fields, metrics or derived for {self.entity}"
        raise ExprTypeError(msg, name.pos)

    def lookup_call(self, call: Call) -> Symbol | None:
        """Resolve ``metric("literal")`` to its precomputed column, recording the call."""
        spec = self.callables.get(call.func)
        if spec is None:
            return None
        arity, type_ = spec
        if len(call.args) != arity:
            msg = f"{call.func}(...) takes {arity} argument(s), got {len(call.args)}"
            raise ExprTypeError(msg, call.pos)
        args: list[str] = []
        for arg in call.args:
            if not isinstance(arg, Literal) or not isinstance(arg.value, str):
                msg = f'arguments of {call.func}(...) must be quoted text such as "FAIR2025"'
                raise ExprTypeError(msg, arg.pos)
            args.append(arg.value)
        key = tuple(args)
        self.calls.setdefault(call.func, set()).add(key)
        return Symbol(call_column(call.func, key), type_)
