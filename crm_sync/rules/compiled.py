"""The loaded, checked segmentation model: what the engine, explain and lint work from.

:func:`crm_sync.rules.load.load_model` turns the admin's file into these objects after every
name is resolved and every expression is parsed and type-checked, so nothing downstream has to
re-validate. Per entity, :class:`EntityPlan` lists the nodes (derived values and sets) in
dependency order; the engine simply walks that list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from crm_sync.errors import Position
from crm_sync.rules.expr.ast import Expr
from crm_sync.rules.expr.types import Scope, ValueType
from crm_sync.rules.schema import DerivedSpec, Entity, FieldSpec, MetricSpec, ModelFile
from crm_sync.rules.yamlpos import YamlDoc

__all__ = [
    "CompiledRule",
    "Derived",
    "EntityPlan",
    "Lifecycle",
    "Node",
    "OutputSpec",
    "SegmentSet",
    "SegmentationModel",
    "TagSet",
    "Transition",
]


@dataclass(frozen=True)
class OutputSpec:
    """One value crm_sync computes and may push: consumed by the mapping-file validator."""

    name: str
    entity: Literal["company", "contact"]
    kind: Literal["single", "multi"]
    values: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class CompiledRule:
    """A rule (or transition guard) with its parsed condition and where it is written."""

    id: str
    label: str
    description: str
    text: str
    expr: Expr
    position: Position


@dataclass(frozen=True)
class Derived:
    """A derived value; ``expr`` is the formula (kind expr) or the member condition (chain)."""

    name: str
    entity: Entity
    spec: DerivedSpec
    expr: Expr | None
    type: ValueType
    values: frozenset[str] | None
    position: Position

    @property
    def kind(self) -> str:
        """expr, abc, peer_median or chain."""
        return self.spec.kind


@dataclass(frozen=True)
class SegmentSet:
    """An exclusive set (hit policy first or unique)."""

    name: str
    entity: Entity
    hit_policy: Literal["first", "unique"]
    rules: tuple[CompiledRule, ...]
    otherwise: str | None
    otherwise_label: str
    label: str
    description: str
    position: Position

    @property
    def values(self) -> tuple[str, ...]:
        """Every value the set can emit, in rule order, the catch-all last."""
        ids = tuple(r.id for r in self.rules)
        return (*ids, self.otherwise) if self.otherwise else ids


@dataclass(frozen=True)
class TagSet:
    """A collect set; ``rules`` are already expanded from ``for_each``."""

    name: str
    entity: Entity
    rules: tuple[CompiledRule, ...]
    label: str
    description: str
    position: Position


@dataclass(frozen=True)
class Transition:
    """A lifecycle transition with its guard."""

    id: str
    from_stages: tuple[str, ...]
    to: str
    backward: bool
    rule: CompiledRule


@dataclass(frozen=True)
class Lifecycle:
    """Ordered stages and transitions, run to a fixpoint."""

    name: str
    entity: Entity
    stages: tuple[str, ...]
    initial: str
    start_from: str | None
    transitions: tuple[Transition, ...]
    max_steps: int
    label: str
    description: str
    position: Position


Node = Derived | SegmentSet | TagSet | Lifecycle


@dataclass
class EntityPlan:
    """Everything evaluated for one entity, in dependency order."""

    entity: Entity
    fields: dict[str, FieldSpec]
    metrics: dict[str, MetricSpec]
    calls: dict[str, set[tuple[str, ...]]]
    nodes: list[Node]
    scope: Scope

    def call_column(self, metric: str, args: tuple[str, ...]) -> str:
        """The frame column of ``metric("arg")``."""
        return call_column(metric, args)


def call_column(metric: str, args: tuple[str, ...]) -> str:
    """Column name of a parametrised metric call, e.g. ``attended("FAIR2025")``."""
    inner = ", ".join('"' + a.replace("\\", "\\\\").replace('"', '\\"') + '"' for a in args)
    return f"{metric}({inner})"


@dataclass
class SegmentationModel:
    """A loaded model file: the validated spec plus per-entity evaluation plans."""

    spec: ModelFile
    path: Path
    fingerprint: str
    doc: YamlDoc
    plans: dict[Entity, EntityPlan]
    segments: dict[str, SegmentSet] = field(default_factory=dict)
    tags: dict[str, TagSet] = field(default_factory=dict)
    lifecycles: dict[str, Lifecycle] = field(default_factory=dict)
    derived: dict[str, Derived] = field(default_factory=dict)

    @property
    def ruleset(self) -> str:
        """The rule-set name from the file."""
        return self.spec.ruleset

    def outputs(self) -> list[OutputSpec]:
        """Every pushable value: segment sets, ABC classes, lifecycles (single) and tag sets (multi)."""
        out: list[OutputSpec] = []
        for d in self.derived.values():
            if d.kind == "abc" and d.values is not None:
                assert d.spec.abc is not None
                values = (*d.spec.abc.classes, d.spec.abc.otherwise)
                out.append(
                    OutputSpec(
                        d.name, d.entity, "single", values, d.spec.description or d.spec.label
                    )
                )
        for s in self.segments.values():
            out.append(OutputSpec(s.name, s.entity, "single", s.values, s.description or s.label))
        for lc in self.lifecycles.values():
            out.append(
                OutputSpec(lc.name, lc.entity, "single", lc.stages, lc.description or lc.label)
            )
        for t in self.tags.values():
            values = tuple(r.id for r in t.rules)
            out.append(OutputSpec(t.name, t.entity, "multi", values, t.description or t.label))
        return out

    def output_names(self, entity: Entity) -> list[str]:
        """Names of the outputs of one entity, in the order of :meth:`outputs`."""
        return [o.name for o in self.outputs() if o.entity == entity]
