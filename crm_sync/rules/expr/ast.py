"""The rule language's own syntax tree.

Rule text is parsed into these nodes (never into Python's ``ast``, never ``eval``), so the only
things a rule can express are the nodes below: names of declared fields/metrics/sets, literals,
arithmetic, comparisons, membership, null tests, boolean logic and calls to a closed function
library or to declared parametrised metrics. Every node keeps its :class:`Position` so errors and
explanations point at the admin's file.

Semantics (implemented by both the vectorised compiler and the reference evaluator):

* three-valued logic: a comparison involving null is *unknown* (null); ``and``/``or``/``not``
  follow Kleene logic (``unknown and false`` is false, ``unknown or true`` is true);
* arithmetic propagates null, and division by zero is null (never an exception, never infinity);
* ``least``/``greatest`` are null if any argument is null (unlike SQL's ``least``), so
  ``least(1, revenue / potential)`` stays unknown when potential is unknown;
* a rule "matches" only when its condition is true; unknown never matches and is counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal as TLiteral

from crm_sync.errors import Position

__all__ = [
    "ArithOp",
    "Binary",
    "BoolOp",
    "Call",
    "CompareOp",
    "Comparison",
    "Expr",
    "InList",
    "IsNull",
    "Literal",
    "LiteralValue",
    "Name",
    "Negate",
    "Not",
]

LiteralValue = str | int | float | bool | None
ArithOp = TLiteral["+", "-", "*", "/"]
CompareOp = TLiteral["==", "!=", "<", "<=", ">", ">="]


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant: string (double or single quotes), number, ``true``/``false`` or ``null``."""

    value: LiteralValue
    pos: Position


@dataclass(frozen=True, slots=True)
class Name:
    """A declared field, metric, derived value or set output.

    ``scope`` is ``None`` for a name on the rule's own entity, or the related entity for a
    qualified reference such as ``company.abc_class`` on a contact rule. That one-level qualified
    form is the only dotted syntax; any other attribute access is a syntax error.
    """

    name: str
    pos: Position
    scope: str | None = None

    @property
    def qualified(self) -> str:
        """``company.abc_class`` or ``abc_class``: the text an admin wrote, used in messages."""
        return f"{self.scope}.{self.name}" if self.scope else self.name


@dataclass(frozen=True, slots=True)
class Call:
    """A call to the function library (``least``, ``days_since`` ...) or a parametrised metric.

    Arguments of a parametrised metric must be literals (``attended("FAIR2025")``), so every call
    resolves to one precomputed column before evaluation.
    """

    func: str
    args: tuple[Expr, ...]
    pos: Position


@dataclass(frozen=True, slots=True)
class Negate:
    """Unary minus."""

    operand: Expr
    pos: Position


@dataclass(frozen=True, slots=True)
class Not:
    """Boolean negation; ``not unknown`` is unknown."""

    operand: Expr
    pos: Position


@dataclass(frozen=True, slots=True)
class Binary:
    """Arithmetic on numbers; null-propagating, division by zero is null."""

    op: ArithOp
    left: Expr
    right: Expr
    pos: Position


@dataclass(frozen=True, slots=True)
class Comparison:
    """A comparison; unknown when either side is null. Chains (``a < b < c``) are rejected."""

    op: CompareOp
    left: Expr
    right: Expr
    pos: Position


@dataclass(frozen=True, slots=True)
class InList:
    """``x in ["A", "B"]`` / ``x not in [...]``: literals only; unknown when ``x`` is null."""

    operand: Expr
    values: tuple[Literal, ...]
    negated: bool
    pos: Position


@dataclass(frozen=True, slots=True)
class IsNull:
    """``x is null`` / ``x is not null``: never unknown, the one way to test for missing data."""

    operand: Expr
    negated: bool
    pos: Position


@dataclass(frozen=True, slots=True)
class BoolOp:
    """``and`` / ``or`` over two or more operands, with Kleene three-valued logic."""

    op: TLiteral["and", "or"]
    operands: tuple[Expr, ...]
    pos: Position


Expr = Literal | Name | Call | Negate | Not | Binary | Comparison | InList | IsNull | BoolOp
