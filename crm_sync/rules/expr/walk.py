"""Generic, non-recursive traversal of the syntax tree.

Shared by the parser's depth limit and by explain's input collection, so that code looking at
"every node" does not repeat the per-node field layout.
"""

from __future__ import annotations

from collections.abc import Iterator

from crm_sync.rules.expr.ast import (
    Binary,
    BoolOp,
    Call,
    Comparison,
    Expr,
    InList,
    IsNull,
    Negate,
    Not,
)

__all__ = ["children", "first_deeper_than", "walk"]


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``expr``, left to right (in-list literals excluded)."""
    match expr:
        case Call(args=args):
            return args
        case Negate(operand=o) | Not(operand=o) | InList(operand=o) | IsNull(operand=o):
            return (o,)
        case Binary(left=a, right=b) | Comparison(left=a, right=b):
            return (a, b)
        case BoolOp(operands=operands):
            return operands
    return ()


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of ``expr`` in pre-order, without recursion."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def first_deeper_than(expr: Expr, limit: int) -> Expr | None:
    """The first node (pre-order) below ``limit`` levels, or None if the tree is shallow enough."""
    stack: list[tuple[Expr, int]] = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return node
        stack.extend((child, depth + 1) for child in reversed(children(node)))
    return None
