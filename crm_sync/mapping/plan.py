"""From a mapping to what the CRM must contain: the provisioning plan's property specs.

The plan is computed from the file alone, so ``crm-sync provision`` can print it before anything is
sent and adapters can compare it with ``describe()`` to report drift. CRM property names appear
here first; the engine and adapters only ever see these specs and :class:`MappedProperty` values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crm_sync.adapters.base import EntityName, PropertySpec, RemoteProperty
from crm_sync.mapping.load import MappingFile

__all__ = ["PlanItem", "diff_remote", "property_specs", "pull_properties"]


def property_specs(mapping: MappingFile) -> list[PropertySpec]:
    """Every property (with its options) crm_sync writes, in a deterministic order."""
    doc = mapping.doc
    specs: list[PropertySpec] = []
    entities: tuple[EntityName, ...] = ("company", "contact")
    for entity in entities:
        target = getattr(doc.objects, entity)
        for _output, prop in sorted(doc.properties.get(entity, {}).items()):
            specs.append(
                PropertySpec(
                    entity=entity,
                    object=target.object,
                    name=prop.crm_name(),
                    type=prop.crm_type(),
                    label=prop.label,
                    multi=prop.is_multi(),
                    options=tuple((o.value, o.label) for o in prop.options.values()),
                    group=doc.group,
                )
            )
    return specs


def pull_properties(mapping: MappingFile, entity: EntityName) -> list[str]:
    """Properties a pull must report current values of: every property crm_sync writes."""
    return [t.name for t in mapping.targets() if t.entity == entity]


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One provisioning step: create a property, or add options to an existing one."""

    action: str  # "create" | "add_options"
    spec: PropertySpec
    missing_options: tuple[str, ...] = ()


def diff_remote(specs: Sequence[PropertySpec], remote: Sequence[RemoteProperty]) -> list[PlanItem]:
    """Compare wanted specs with what ``describe()`` returned: missing properties and options."""
    by_name = {r.name: r for r in remote}
    items: list[PlanItem] = []
    for spec in specs:
        have = by_name.get(spec.name)
        if have is None:
            items.append(PlanItem("create", spec))
            continue
        missing = tuple(v for v, _ in spec.options if v not in have.options)
        if missing:
            items.append(PlanItem("add_options", spec, missing))
    return items
