"""What the report reads from a loaded model: its sets and the relationship thresholds.

The relationship map shades the category regions at the thresholds the admin actually wrote, not
at hard-coded ones: they are read from the comparisons ``share_of_wallet >= x`` and
``price_index >= y`` in the relationship set's rules (the defaults 0.5 / 1.0 apply when the set or
the comparisons are missing, e.g. after an admin rewrote the rules in another form).
"""

from __future__ import annotations

from collections.abc import Iterator

from crm_sync.report.frames import SetInfo
from crm_sync.rules.compiled import SegmentationModel
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

__all__ = ["DEFAULT_THRESHOLDS", "required_fields", "sets_from_model", "thresholds"]

DEFAULT_THRESHOLDS = (0.5, 1.0)


def sets_from_model(model: SegmentationModel) -> dict[str, SetInfo]:
    """Every output set: ABC classes, segment sets and lifecycles (single), tag sets (multi)."""
    out: dict[str, SetInfo] = {}
    for d in model.derived.values():
        if d.kind == "abc" and d.spec.abc is not None:
            abc = d.spec.abc
            out[d.name] = SetInfo(
                d.name,
                d.entity,
                "single",
                (*abc.classes, abc.otherwise),
                abc.otherwise,
                d.spec.label or d.name,
            )
    for s in model.segments.values():
        out[s.name] = SetInfo(s.name, s.entity, "single", s.values, s.otherwise, s.label or s.name)
    for lc in model.lifecycles.values():
        out[lc.name] = SetInfo(lc.name, lc.entity, "single", lc.stages, None, lc.label or lc.name)
    for t in model.tags.values():
        ids = tuple(r.id for r in t.rules)
        out[t.name] = SetInfo(t.name, t.entity, "multi", ids, None, t.label or t.name)
    return out


def required_fields(model: SegmentationModel) -> dict[str, list[str]]:
    """Declared fields marked ``required: true``, per entity."""
    return {
        str(entity): [name for name, spec in fields.items() if spec.required]
        for entity, fields in model.spec.fields.items()
    }


def _walk(expr: Expr) -> Iterator[Expr]:
    yield expr
    if isinstance(expr, BoolOp):
        for op in expr.operands:
            yield from _walk(op)
    elif isinstance(expr, Not | Negate | IsNull | InList):
        yield from _walk(expr.operand)
    elif isinstance(expr, Binary | Comparison):
        yield from _walk(expr.left)
        yield from _walk(expr.right)
    elif isinstance(expr, Call):
        for arg in expr.args:
            yield from _walk(arg)


def _threshold(model: SegmentationModel, set_name: str, field: str) -> float | None:
    seg = model.segments.get(set_name)
    if seg is None:
        return None
    for rule in seg.rules:
        for node in _walk(rule.expr):
            if (
                isinstance(node, Comparison)
                and node.op in (">=", ">")
                and isinstance(node.left, Name)
                and node.left.name == field
                and node.left.scope is None
                and isinstance(node.right, Literal)
                and isinstance(node.right.value, int | float)
                and not isinstance(node.right.value, bool)
            ):
                return float(node.right.value)
    return None


def thresholds(
    model: SegmentationModel,
    set_name: str = "relationship",
    x_field: str = "share_of_wallet",
    y_field: str = "price_index",
) -> tuple[float, float]:
    """(share-of-wallet threshold, price-index threshold) of the relationship set's rules."""
    x = _threshold(model, set_name, x_field)
    y = _threshold(model, set_name, y_field)
    return (
        DEFAULT_THRESHOLDS[0] if x is None else x,
        DEFAULT_THRESHOLDS[1] if y is None else y,
    )
