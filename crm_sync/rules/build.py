"""Resolve, parse and type-check a validated model file into evaluation plans.

Works entity by entity (company first, so contact rules can use ``company.<name>``): declare
fields and metrics, parse every expression at its file position, order derived values and sets
by their dependencies (a cycle is an error naming the loop), then type-check each node in that
order so later nodes see the types of earlier ones. Every problem is collected, never raised.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm_sync.errors import ExprError, FileProblem, Position
from crm_sync.rules.compiled import (
    CompiledRule,
    Derived,
    EntityPlan,
    Lifecycle,
    Node,
    SegmentationModel,
    SegmentSet,
    TagSet,
    Transition,
)
from crm_sync.rules.expr import check, check_condition, parse
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
    DerivedSpec,
    Entity,
    LifecycleSpec,
    MetricSpec,
    ModelFile,
    SegmentSetSpec,
    TagSetSpec,
)
from crm_sync.rules.scope import BrokenName, ModelScope
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


@dataclass
class _Pending:
    """A node awaiting ordering and checking: its spec, parsed expressions and dependencies."""

    name: str
    kind: str  # derived | segment | tag | lifecycle
    spec: Any
    loc: tuple[str | int, ...]
    exprs: dict[tuple[str | int, ...], tuple[str, Expr]] = field(default_factory=dict)
    deps: set[str] = field(default_factory=set)
    ok: bool = True


class _Builder:
    def __init__(self, spec: ModelFile, doc: YamlDoc, broken: set[str]) -> None:
        self.spec = spec
        self.doc = doc
        self.broken = broken
        self.problems: list[FileProblem] = []
        self.segments: dict[str, SegmentSet] = {}
        self.tags: dict[str, TagSet] = {}
        self.lifecycles: dict[str, Lifecycle] = {}
        self.derived: dict[str, Derived] = {}

    def problem(self, loc: tuple[str | int, ...], message: str, *, key: bool = False) -> None:
        self.problems.append(FileProblem(self.doc.position(loc, key=key), message))

    def expr_error(self, exc: ExprError, suffix: str = "") -> None:
        if not isinstance(exc, BrokenName):
            self.problems.append(FileProblem(exc.position, exc.message + suffix))

    def parse_at(self, text: str, loc: tuple[str | int, ...], suffix: str = "") -> Expr | None:
        origin = self.doc.text_start(loc)
        try:
            return parse(text, origin=origin)
        except ExprError as exc:
            self.expr_error(exc, suffix)
            return None

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

    def pending(self, entity: Entity, scope: ModelScope) -> list[_Pending]:
        out: list[_Pending] = []
        for name, d in self.spec.derived.get(entity, {}).items():
            p = _Pending(name, "derived", d, ("derived", entity, name))
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
                p = _Pending(name, "segment", s, ("segments", name))
                for i, r in enumerate(s.rules):
                    self._add_expr(p, (*p.loc, "rules", i, "when"), r.when)
                out.append(p)
        for name, t in self.spec.tags.items():
            if t.entity == entity:
                p = _Pending(name, "tag", t, ("tags", name))
                for i, r in enumerate(t.rules):
                    for value_key, text in _expand(r.for_each, r.when):
                        self._add_expr(p, (*p.loc, "rules", i, "when", *value_key), text)
                out.append(p)
        for name, lc in self.spec.lifecycles.items():
            if lc.entity == entity:
                p = _Pending(name, "lifecycle", lc, ("lifecycles", name))
                for i, tr in enumerate(lc.transitions):
                    self._add_expr(p, (*p.loc, "transitions", i, "when"), tr.when)
                if lc.start_from:
                    p.deps.add(lc.start_from)
                out.append(p)
        for p in out:
            if not p.ok:
                scope.broken.add(p.name)
        return out

    def _add_expr(self, p: _Pending, loc: tuple[str | int, ...], text: str) -> None:
        # Tag expansions carry the for_each value after "when" in loc; the position is the scalar's.
        base = loc[: loc.index("when") + 1] if "when" in loc else loc
        suffix = f" (in the expansion for '{loc[-1]}')" if len(loc) > len(base) else ""
        expr = self.parse_at(text, base, suffix)
        if expr is None:
            p.ok = False
            return
        p.exprs[loc] = (text, expr)
        p.deps.update(n.name for n in names_in(expr) if n.scope is None)

    def order(self, nodes: list[_Pending], scope: ModelScope) -> list[_Pending]:
        """Topological order (declaration order among independent nodes); cycles are problems."""
        by_name = {p.name: p for p in nodes}
        state: dict[str, int] = {}
        ordered: list[_Pending] = []
        reported: set[str] = set()

        def visit(p: _Pending, trail: list[str]) -> None:
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

    def compile_node(self, p: _Pending, entity: Entity, scope: ModelScope) -> Node | None:
        try:
            if p.kind == "derived":
                return self._derived(p, entity, scope)
            if p.kind == "segment":
                return self._segment(p, entity, scope)
            if p.kind == "tag":
                return self._tags(p, entity, scope)
            return self._lifecycle(p, entity, scope)
        except ExprError as exc:
            self.expr_error(exc)
            return None

    def _rule(
        self,
        p: _Pending,
        *,
        loc: tuple[str | int, ...],
        rid: str,
        label: str,
        desc: str,
        scope: ModelScope,
    ) -> CompiledRule | None:
        text, expr = p.exprs[loc]
        try:
            check_condition(expr, scope)
        except ExprError as exc:
            self.expr_error(exc)
            return None
        base = loc[: loc.index("when") + 1]
        return CompiledRule(rid, label, desc, text, expr, self.doc.text_start(base))

    def _numeric(self, name: str, loc: tuple[str | int, ...], scope: ModelScope) -> bool:
        symbol = scope.lookup(Name(name, self.doc.position(loc)))
        if symbol.type is not ValueType.NUMBER:
            self.problem(loc, f"'{name}' is a {symbol.type.value}; expected a number")
            return False
        return True

    def _derived(self, p: _Pending, entity: Entity, scope: ModelScope) -> Derived | None:
        d: DerivedSpec = p.spec
        pos = self.doc.position(p.loc, key=True)
        values: frozenset[str] | None = None
        expr: Expr | None = None
        if d.expr is not None:
            expr = p.exprs[(*p.loc, "expr")][1]
            type_ = check(expr, scope)
        elif d.abc is not None:
            if not self._numeric(d.abc.by, (*p.loc, "abc", "by"), scope):
                return None
            type_ = ValueType.STRING
            values = frozenset([*d.abc.classes, d.abc.otherwise])
        elif d.peer_median is not None:
            if not self._numeric(d.peer_median.of, (*p.loc, "peer_median", "of"), scope):
                return None
            if d.peer_median.group_by:
                loc = (*p.loc, "peer_median", "group_by")
                scope.lookup(Name(d.peer_median.group_by, self.doc.position(loc)))
            type_ = ValueType.NUMBER
        else:
            assert d.chain is not None
            if d.chain.of and not self._numeric(d.chain.of, (*p.loc, "chain", "of"), scope):
                return None
            if d.chain.where is not None:
                expr = p.exprs[(*p.loc, "chain", "where")][1]
                check_condition(expr, scope)
            type_ = ValueType.NUMBER
        node = Derived(p.name, entity, d, expr, type_, values, pos)
        scope.add(p.name, Symbol(p.name, type_, values, d.description))
        self.derived[p.name] = node
        return node

    def _segment(self, p: _Pending, entity: Entity, scope: ModelScope) -> SegmentSet | None:
        s: SegmentSetSpec = p.spec
        rules: list[CompiledRule] = []
        seen: set[str] = set()
        ok = True
        for i, r in enumerate(s.rules):
            loc = (*p.loc, "rules", i, "when")
            if r.id in seen:
                self.problem(
                    (*p.loc, "rules", i, "id"), f"duplicate rule id '{r.id}' in set {p.name}"
                )
                ok = False
            seen.add(r.id)
            if "{" in r.id:
                self.problem(
                    (*p.loc, "rules", i, "id"), "placeholders in ids need for_each (tag sets only)"
                )
                ok = False
            rule = self._rule(p, loc=loc, rid=r.id, label=r.label, desc=r.description, scope=scope)
            ok = ok and rule is not None
            if rule is not None:
                rules.append(rule)
        if s.hit_policy == "first" and s.otherwise is None:
            self.problem(
                p.loc,
                f"segment set '{p.name}' has hit_policy first but no `otherwise:`; add a catch-all "
                "such as `otherwise: {id: other}` so every record gets a value",
                key=True,
            )
            ok = False
        if s.otherwise is not None and s.otherwise.id in seen:
            self.problem(
                (*p.loc, "otherwise", "id"), f"otherwise id '{s.otherwise.id}' repeats a rule id"
            )
            ok = False
        if not ok:
            return None
        node = SegmentSet(
            p.name,
            entity,
            s.hit_policy,
            tuple(rules),
            s.otherwise.id if s.otherwise else None,
            s.otherwise.label if s.otherwise else "",
            s.label,
            s.description,
            self.doc.position(p.loc, key=True),
        )
        scope.add(p.name, Symbol(p.name, ValueType.STRING, frozenset(node.values), s.description))
        self.segments[p.name] = node
        return node

    def _tags(self, p: _Pending, entity: Entity, scope: ModelScope) -> TagSet | None:
        t: TagSetSpec = p.spec
        rules: list[CompiledRule] = []
        seen: set[str] = set()
        ok = True
        for i, r in enumerate(t.rules):
            placeholder = next(iter(r.for_each)) if r.for_each else None
            for value_key, _text in _expand(r.for_each, r.when):
                loc = (*p.loc, "rules", i, "when", *value_key)
                if loc not in p.exprs:
                    ok = False
                    continue
                rid, label = r.id, r.label
                if placeholder is not None:
                    rid = rid.replace("{" + placeholder + "}", str(value_key[0]))
                    label = label.replace("{" + placeholder + "}", str(value_key[0]))
                if "{" in rid or not rid.replace("_", "a").isalnum():
                    self.problem(
                        (*p.loc, "rules", i, "id"),
                        f"tag id '{rid}' must be letters, digits and _ after expansion",
                    )
                    ok = False
                if rid in seen:
                    self.problem(
                        (*p.loc, "rules", i, "id"), f"duplicate tag id '{rid}' in set {p.name}"
                    )
                    ok = False
                seen.add(rid)
                rule = self._rule(p, loc=loc, rid=rid, label=label, desc=r.description, scope=scope)
                ok = ok and rule is not None
                if rule is not None:
                    rules.append(rule)
        if not ok:
            return None
        node = TagSet(
            p.name, entity, tuple(rules), t.label, t.description, self.doc.position(p.loc, key=True)
        )
        self.tags[p.name] = node
        return node

    def _lifecycle(self, p: _Pending, entity: Entity, scope: ModelScope) -> Lifecycle | None:
        lc: LifecycleSpec = p.spec
        ok = True
        stages = list(lc.stages)
        if len(set(stages)) != len(stages):
            self.problem((*p.loc, "stages"), "stages must be distinct")
            ok = False
        if lc.initial not in stages:
            self.problem(
                (*p.loc, "initial"),
                f"initial stage '{lc.initial}' is not one of the stages {stages}",
            )
            ok = False
        if lc.start_from is not None:
            loc = (*p.loc, "start_from")
            symbol = scope.lookup(Name(lc.start_from, self.doc.position(loc)))
            if symbol.type is not ValueType.STRING:
                self.problem(
                    loc, f"start_from '{lc.start_from}' must be a text field holding a stage"
                )
                ok = False
        transitions: list[Transition] = []
        seen: set[str] = set()
        for i, t in enumerate(lc.transitions):
            tloc = (*p.loc, "transitions", i)
            if t.id in seen:
                self.problem((*tloc, "id"), f"duplicate transition id '{t.id}'")
                ok = False
            seen.add(t.id)
            unknown = [s for s in [*t.from_, t.to] if s not in stages]
            if unknown:
                self.problem(
                    tloc, f"transition {t.id}: unknown stage(s) {unknown}; stages are {stages}"
                )
                ok = False
                continue
            if t.to in t.from_:
                self.problem(tloc, f"transition {t.id} goes from '{t.to}' to itself")
                ok = False
            back = [f for f in t.from_ if stages.index(t.to) < stages.index(f)]
            if back and not t.backward:
                self.problem(
                    tloc,
                    f"transition {t.id} moves backward ({back[0]} -> {t.to}); add `backward: true` "
                    "if stepping back is intended",
                    key=False,
                )
                ok = False
            rule = self._rule(p, loc=(*tloc, "when"), rid=t.id, label=t.label, desc="", scope=scope)
            if rule is None:
                ok = False
                continue
            transitions.append(Transition(t.id, tuple(t.from_), t.to, t.backward, rule))
        if not ok:
            return None
        node = Lifecycle(
            p.name,
            entity,
            tuple(stages),
            lc.initial,
            lc.start_from,
            tuple(transitions),
            lc.max_steps,
            lc.label,
            lc.description,
            self.doc.position(p.loc, key=True),
        )
        scope.add(p.name, Symbol(p.name, ValueType.STRING, frozenset(stages), lc.description))
        self.lifecycles[p.name] = node
        return node

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


def _expand(for_each: dict[str, list[str]] | None, text: str) -> list[tuple[tuple[str, ...], str]]:
    """``[((), text)]`` or one ``((value,), substituted text)`` per for_each value."""
    if not for_each:
        return [((), text)]
    placeholder, values = next(iter(for_each.items()))
    return [((v,), text.replace("{" + placeholder + "}", v)) for v in values]


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
