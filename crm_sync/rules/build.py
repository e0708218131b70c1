"""Resolve, parse and type-check a validated model file into evaluation plans.

Works entity by entity (company first, so contact rules can use ``company.<name>``): declare
fields and metrics, parse every expression at its file position, order derived values and sets
by their dependencies (a cycle is an error naming the loop), then type-check each node in that
order so later nodes see the types of earlier ones. Every problem is collected, never raised.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from crm_sync.errors import FileProblem, Position
from crm_sync.rules.build_nodes import NodeBuilder, Pending, expand
from crm_sync.rules.compiled import (
    EntityPlan,
    Node,
    SegmentationModel,
)
from crm_sync.rules.expr.ast import (
    Binary,
    BoolOp,
    Call,
    Comparison,
    Expr,
    InList,
    IsNull,
    Name,
    Negate,
    Not,
)
from crm_sync.rules.expr.types import Symbol, ValueType
from crm_sync.rules.schema import (
    Entity,
    MetricSpec,
    ModelFile,
)
from crm_sync.rules.scope import ModelScope
from crm_sync.rules.yamlpos import YamlDoc

__all__ = ["build_model", "names_in"]

_RESERVED = frozenset({"id", "company", "contact"})
_FIELD_TYPES = {
    "number": ValueType.NUMBER,
    "string": ValueType.STRING,
    "enum": ValueType.STRING,
    "bool": ValueType.BOOL,
    "date": ValueType.DATE,
}
_METRIC_TYPES = {
    "exists": ValueType.BOOL,
    "min_date": ValueType.DATE,
    "max_date": ValueType.DATE,
}


def names_in(expr: Expr) -> Iterator[Name]:
    """Every name an expression references (metric calls excluded)."""
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        match node:
            case Name():
                yield node
            case Call(args=args):
                stack.extend(args)
            case Negate(operand=o) | Not(operand=o) | IsNull(operand=o) | InList(operand=o):
                stack.append(o)
            case Binary(left=a, right=b) | Comparison(left=a, right=b):
                stack.extend((a, b))
            case BoolOp(operands=ops):
                stack.extend(ops)
            case _:
                pass


class _Builder(NodeBuilder):
    """Declarations, dependency order and per-entity plans on top of :class:`NodeBuilder`."""

    # -- declarations -------------------------------------------------------------------------

    def declare(
        self, entity: Entity, company: ModelScope | None
    ) -> tuple[ModelScope, dict[str, tuple[str | int, ...]]]:
        scope = ModelScope(
            entity,
            company=dict(company.symbols) if company else None,
            company_broken=set(company.broken) if company else set(),
            broken=set(self.broken),
        )
        where: dict[str, tuple[str | int, ...]] = {}

        def claim(name: str, loc: tuple[str | int, ...]) -> bool:
            if name in _RESERVED:
                self.problem(loc, f"'{name}' is reserved; choose another name", key=True)
                return False
            if name in where:
                first = self.doc.position(where[name], key=True)
                self.problem(
                    loc,
                    f"'{name}' is already declared for {entity} at line {first.line}; names of "
                    "fields, metrics, derived values and sets share one namespace per entity",
                    key=True,
                )
                return False
            where[name] = loc
            return True

        for name, f in self.spec.fields.get(entity, {}).items():
            if claim(name, ("fields", entity, name)):
                values = frozenset(f.values) if f.values else None
                scope.add(name, Symbol(name, _FIELD_TYPES[f.type], values, f.description))
        for name, m in self.spec.metrics.get(entity, {}).items():
            loc = ("metrics", entity, name)
            if not claim(name, loc):
                continue
            if m.agg == "potential" and entity != "company":
                self.problem(loc, "agg: potential is a company metric; declare it under company")
                scope.broken.add(name)
                continue
            type_ = _METRIC_TYPES.get(m.agg, ValueType.NUMBER)
            if m.params:
                scope.callables[name] = (len(m.params), type_)
            else:
                scope.add(name, Symbol(name, type_, None, m.description))
        for name in self.spec.derived.get(entity, {}):
            claim(name, ("derived", entity, name))
        for section, sets in (
            ("segments", self.spec.segments),
            ("tags", self.spec.tags),
            ("lifecycles", self.spec.lifecycles),
        ):
            for name, s in sets.items():
                if s.entity == entity and claim(name, (section, name)) and section == "tags":
                    scope.tag_sets.add(name)
        return scope, where

    # -- nodes --------------------------------------------------------------------------------

    def pending(self, entity: Entity, scope: ModelScope) -> list[Pending]:
        out: list[Pending] = []
        for name, d in self.spec.derived.get(entity, {}).items():
            p = Pending(name, "derived", d, ("derived", entity, name))
            if d.expr is not None:
                self._add_expr(p, (*p.loc, "expr"), d.expr)
            if d.chain is not None:
                if entity != "company":
                    self.problem(p.loc, "chain roll-ups are computed over companies only")
                    p.ok = False
                if d.chain.where is not None:
                    self._add_expr(p, (*p.loc, "chain", "where"), d.chain.where)
                if d.chain.of:
                    p.deps.add(d.chain.of)
            if d.abc is not None:
                p.deps.add(d.abc.by)
            if d.peer_median is not None:
                p.deps.add(d.peer_median.of)
                if d.peer_median.group_by:
                    p.deps.add(d.peer_median.group_by)
            out.append(p)
        for name, s in self.spec.segments.items():
            if s.entity == entity:
                p = Pending(name, "segment", s, ("segments", name))
                for i, r in enumerate(s.rules):
                    self._add_expr(p, (*p.loc, "rules", i, "when"), r.when)
                out.append(p)
        for name, t in self.spec.tags.items():
            if t.entity == entity:
                p = Pending(name, "tag", t, ("tags", name))
                for i, r in enumerate(t.rules):
                    for value_key, text in expand(r.for_each, r.when):
                        self._add_expr(p, (*p.loc, "rules", i, "when", *value_key), text)
                out.append(p)
        for name, lc in self.spec.lifecycles.items():
            if lc.entity == entity:
                p = Pending(name, "lifecycle", lc, ("lifecycles", name))
                for i, tr in enumerate(lc.transitions):
                    self._add_expr(p, (*p.loc, "transitions", i, "when"), tr.when)
                if lc.start_from:
                    p.deps.add(lc.start_from)
                out.append(p)
        for p in out:
            if not p.ok:
                scope.broken.add(p.name)
        return out

    def _add_expr(self, p: Pending, loc: tuple[str | int, ...], text: str) -> None:
        # Tag expansions carry the for_each value after "when" in loc; the position is the scalar's.
        base = loc[: loc.index("when") + 1] if "when" in loc else loc
        suffix = f" (in the expansion for '{loc[-1]}')" if len(loc) > len(base) else ""
        expr = self.parse_at(text, base, suffix)
        if expr is None:
            p.ok = False
            return
        p.exprs[loc] = (text, expr)
        p.deps.update(n.name for n in names_in(expr) if n.scope is None)

    def order(self, nodes: list[Pending], scope: ModelScope) -> list[Pending]:
        """Topological order (declaration order among independent nodes); cycles are problems."""
        by_name = {p.name: p for p in nodes}
        state: dict[str, int] = {}
        ordered: list[Pending] = []
        reported: set[str] = set()

        def visit(p: Pending, trail: list[str]) -> None:
            if state.get(p.name) == 2:
                return
            if state.get(p.name) == 1:
                cycle = [*trail[trail.index(p.name) :], p.name]
                if not reported & set(cycle):
                    self.problem(
                        p.loc,
                        f"circular definition: {' -> '.join(cycle)}; one of them must not depend on the others",
                        key=True,
                    )
                reported.update(cycle)
                return
            state[p.name] = 1
            for dep in sorted(p.deps):
                if dep in by_name and dep != p.name:
                    visit(by_name[dep], [*trail, p.name])
                elif dep == p.name:
                    self.problem(p.loc, f"'{p.name}' refers to itself", key=True)
                    reported.add(p.name)
            state[p.name] = 2
            ordered.append(p)

        for p in nodes:
            visit(p, [])
        for p in ordered:
            if p.name in reported:
                p.ok = False
                scope.broken.add(p.name)
        return ordered

    def plan(self, entity: Entity, company: ModelScope | None) -> EntityPlan:
        scope, _ = self.declare(entity, company)
        nodes: list[Node] = []
        for p in self.order(self.pending(entity, scope), scope):
            if not p.ok:
                continue
            node = self.compile_node(p, entity, scope)
            if node is None:
                scope.broken.add(p.name)
            else:
                nodes.append(node)
        fields = {n: f for n, f in self.spec.fields.get(entity, {}).items() if n in scope.symbols}
        metrics: dict[str, MetricSpec] = {
            n: m
            for n, m in self.spec.metrics.get(entity, {}).items()
            if n in scope.symbols or n in scope.callables
        }
        return EntityPlan(entity, fields, metrics, scope.calls, nodes, scope)


def build_model(
    spec: ModelFile, doc: YamlDoc, path: Path, fingerprint: str, broken: set[str]
) -> tuple[SegmentationModel, list[FileProblem]]:
    """Build the plans of both entities; return the model and every problem found."""
    b = _Builder(spec, doc, broken)
    company = b.plan("company", None)
    assert isinstance(company.scope, ModelScope)
    contact = b.plan("contact", company.scope)
    model = SegmentationModel(
        spec=spec,
        path=path,
        fingerprint=fingerprint,
        doc=doc,
        plans={"company": company, "contact": contact},
        segments=b.segments,
        tags=b.tags,
        lifecycles=b.lifecycles,
        derived=b.derived,
    )
    _ = Position
    return model, b.problems
