"""Compile ordered model nodes (derived values, segment sets, tag sets, lifecycles).

The second half of :mod:`crm_sync.rules.build`, split off to keep both modules readable:
:class:`NodeBuilder` holds the problem list and the compiled nodes, and turns one
:class:`Pending` node (parsed, dependency-ordered) into its checked form, reporting problems at
file positions instead of raising.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crm_sync.errors import ExprError, FileProblem
from crm_sync.rules.compiled import (
    CompiledRule,
    Derived,
    Lifecycle,
    Node,
    SegmentSet,
    TagSet,
    Transition,
)
from crm_sync.rules.expr import check, check_condition, parse
from crm_sync.rules.expr.ast import Expr, Name
from crm_sync.rules.expr.types import Symbol, ValueType
from crm_sync.rules.schema import (
    DerivedSpec,
    Entity,
    LifecycleSpec,
    ModelFile,
    SegmentSetSpec,
    TagSetSpec,
)
from crm_sync.rules.scope import BrokenName, ModelScope
from crm_sync.rules.yamlpos import YamlDoc

__all__ = ["NodeBuilder", "Pending", "expand"]


@dataclass
class Pending:
    """A node awaiting ordering and checking: its spec, parsed expressions and dependencies."""

    name: str
    kind: str  # derived | segment | tag | lifecycle
    spec: Any
    loc: tuple[str | int, ...]
    exprs: dict[tuple[str | int, ...], tuple[str, Expr]] = field(default_factory=dict)
    deps: set[str] = field(default_factory=set)
    ok: bool = True


class NodeBuilder:
    """Problems and compiled nodes of one model build, and the per-node compilers."""

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
        """Record a problem at a location of the model file."""
        self.problems.append(FileProblem(self.doc.position(loc, key=key), message))

    def expr_error(self, exc: ExprError, suffix: str = "") -> None:
        """Record an expression error, except one caused by an already-reported broken name."""
        if not isinstance(exc, BrokenName):
            self.problems.append(FileProblem(exc.position, exc.message + suffix))

    def parse_at(self, text: str, loc: tuple[str | int, ...], suffix: str = "") -> Expr | None:
        """Parse an expression written at ``loc``; None (and a problem) when it does not parse."""
        origin = self.doc.text_start(loc)
        try:
            return parse(text, origin=origin)
        except ExprError as exc:
            self.expr_error(exc, suffix)
            return None

    def compile_node(self, p: Pending, entity: Entity, scope: ModelScope) -> Node | None:
        """The checked node of ``p``, or None when a problem was recorded."""
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
        p: Pending,
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

    def _derived(self, p: Pending, entity: Entity, scope: ModelScope) -> Derived | None:
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

    def _segment(self, p: Pending, entity: Entity, scope: ModelScope) -> SegmentSet | None:
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

    def _tags(self, p: Pending, entity: Entity, scope: ModelScope) -> TagSet | None:
        t: TagSetSpec = p.spec
        rules: list[CompiledRule] = []
        seen: set[str] = set()
        ok = True
        for i, r in enumerate(t.rules):
            placeholder = next(iter(r.for_each)) if r.for_each else None
            for value_key, _text in expand(r.for_each, r.when):
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

    def _lifecycle(self, p: Pending, entity: Entity, scope: ModelScope) -> Lifecycle | None:
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


def expand(for_each: dict[str, list[str]] | None, text: str) -> list[tuple[tuple[str, ...], str]]:
    """``[((), text)]`` or one ``((value,), substituted text)`` per for_each value."""
    if not for_each:
        return [((), text)]
    placeholder, values = next(iter(for_each.items()))
    return [((v,), text.replace("{" + placeholder + "}", v)) for v in values]
