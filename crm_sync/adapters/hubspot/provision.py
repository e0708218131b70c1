"""Provisioning for HubSpot: property group, properties, options, the unique external id; drift.

The plan is computed from the mapping file and one read of the portal's properties and groups per
object (facts §3.1), so ``crm-sync provision`` shows every change before anything is sent:

* ``create_group`` — the mapping's group (``crm_sync``) on each object;
* ``create_property`` — ``type``/``fieldType`` from the mapping, options with ``hidden: false``
  (facts §3.2: ``OptionInput`` requires label, value and hidden); plus the external-id property
  (``crm_sync_id``) with ``hasUniqueValue`` on every mapped object, which can only be set at
  creation (facts §2.3, Gotcha 10) and is what makes upsert-by-key possible on companies;
* ``add_options`` — a PATCH carrying the **full** option list, existing options kept untouched
  (facts §3.4: a partial list would drop the rest);
* ``remove_options`` — options the mapping no longer lists. One that still holds data (a search
  finds a record with it) is ``needs_force``: removing it makes those records' values stop
  validating, so it happens only with ``--force``.

Drift (type, fieldType, label or group changed in the portal, an external id that is not unique,
extra options) is reported, never silently "fixed". Applying re-reads each property before
patching, so it is idempotent and safe to run concurrently with an admin's edits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crm_sync.adapters.base import EnsureResult, PropertySpec, RemoteProperty
from crm_sync.adapters.hubspot.client import HubSpotClient
from crm_sync.adapters.provisioning import DriftItem, ProvisionPlan, ProvisionResult, ProvisionStep
from crm_sync.errors import PermanentError
from crm_sync.mapping.load import MappingFile

__all__ = ["Provisioner", "Wanted", "wanted_properties"]

_FIELD_TYPES = {
    "enumeration": "select",
    "string": "text",
    "number": "number",
    "bool": "booleancheckbox",
}


@dataclass(frozen=True, slots=True)
class Wanted:
    """A property as the mapping wants it."""

    object_type: str
    name: str
    label: str
    type: str
    field_type: str
    group: str
    description: str = ""
    options: tuple[tuple[str, str], ...] = ()  # (value, label)
    unique: bool = False


def wanted_properties(mapping: MappingFile) -> list[Wanted]:
    """Every property the mapping needs, external ids first, in a deterministic order."""
    doc: Any = mapping.doc
    out: list[Wanted] = []
    seen: set[tuple[str, str]] = set()
    for entity in ("company", "contact"):
        target = getattr(doc.objects, entity)
        key = (target.object, target.external_id)
        if key not in seen:
            seen.add(key)
            out.append(
                Wanted(
                    target.object,
                    target.external_id,
                    "crm_sync id",
                    "string",
                    "text",
                    doc.group,
                    "Stable external id crm_sync upserts by (unique).",
                    unique=True,
                )
            )
    for entity in ("company", "contact"):
        object_type = getattr(doc.objects, entity).object
        for _output, prop in sorted(doc.properties.get(entity, {}).items()):
            out.append(
                Wanted(
                    object_type,
                    prop.property,
                    prop.label,
                    prop.type,
                    prop.field_type,
                    doc.group,
                    prop.description,
                    tuple((o.value, o.label) for o in prop.options.values()),
                )
            )
    return out


def _option(value: str, label: str, order: int) -> dict[str, Any]:
    return {"label": label, "value": value, "displayOrder": order, "hidden": False}


class Provisioner:
    """Plans and applies property changes; also serves the push path's option and stage lookups."""

    def __init__(self, client: HubSpotClient, account: str, *, group_label: str = "") -> None:
        self.client = client
        self.account = account
        self.group_label = group_label
        self._props: dict[str, dict[str, dict[str, Any]]] = {}

    # -- reads -------------------------------------------------------------------------------
    def remote(self, object_type: str, *, fresh: bool = False) -> dict[str, dict[str, Any]]:
        """The portal's property definitions of ``object_type`` (cached until a write)."""
        if fresh or object_type not in self._props:
            data = self.client.properties(object_type).data or {}
            self._props[object_type] = {p["name"]: p for p in data.get("results") or []}
        return self._props[object_type]

    def describe(self, object_type: str) -> list[RemoteProperty]:
        """Custom (non-HubSpot-defined) properties as crm_sync value types."""
        return [
            RemoteProperty(
                p["name"],
                str(p.get("type", "")),
                tuple(str(o["value"]) for o in p.get("options") or []),
                str(p.get("label", "")),
            )
            for p in self.remote(object_type).values()
            if not p.get("hubspotDefined")
        ]

    def stage_order(self, object_type: str) -> list[str]:
        """``lifecyclestage`` option values in pipeline order (custom stages included, Gotcha 11)."""
        prop = self.remote(object_type).get("lifecyclestage") or {}
        options = sorted(prop.get("options") or [], key=lambda o: int(o.get("displayOrder", 0)))
        return [str(o["value"]) for o in options]

    # -- plan --------------------------------------------------------------------------------
    def plan(self, wanted: Sequence[Wanted], *, removals: bool = True) -> ProvisionPlan:
        """Steps that bring the portal in line with ``wanted``, plus the drift found."""
        steps: list[ProvisionStep] = []
        drift: list[DriftItem] = []
        self._props.clear()  # one fresh read of each object's properties per plan
        for object_type, group in sorted({(w.object_type, w.group) for w in wanted}):
            names = {
                g["name"] for g in (self.client.groups(object_type).data or {}).get("results") or []
            }
            if group not in names:
                payload = {"name": group, "label": self.group_label or group, "displayOrder": -1}
                steps.append(ProvisionStep("create_group", object_type, group, "", payload))
        for w in wanted:
            have = self.remote(w.object_type).get(w.name)
            if have is None:
                steps.append(self._create(w))
                continue
            drift += self._drift(w, have)
            values = {str(o["value"]) for o in have.get("options") or []}
            if w.type == "enumeration":
                missing = [(v, label) for v, label in w.options if v not in values]
                if missing:
                    detail = "add " + ", ".join(v for v, _ in missing)
                    steps.append(
                        ProvisionStep(
                            "add_options", w.object_type, w.name, detail, {"add": missing}
                        )
                    )
                if removals:
                    steps += self._stale(w, have, drift)
        return ProvisionPlan("hubspot", self.account, tuple(steps), tuple(drift))

    def _create(self, w: Wanted) -> ProvisionStep:
        payload: dict[str, Any] = {
            "name": w.name,
            "label": w.label,
            "description": w.description,
            "groupName": w.group,
            "type": w.type,
            "fieldType": w.field_type,
        }
        if w.type == "enumeration":
            payload["options"] = [_option(v, label, i) for i, (v, label) in enumerate(w.options)]
        if w.unique:
            payload["hasUniqueValue"] = True
        detail = f"{w.type}/{w.field_type}" + (" unique" if w.unique else "")
        return ProvisionStep("create_property", w.object_type, w.name, detail, payload)

    @staticmethod
    def _drift(w: Wanted, have: Mapping[str, Any]) -> list[DriftItem]:
        out: list[DriftItem] = []
        for kind, expected, actual in (
            ("type", w.type, have.get("type")),
            ("field_type", w.field_type, have.get("fieldType")),
            ("label", w.label, have.get("label")),
            ("group", w.group, have.get("groupName")),
        ):
            if str(actual) != expected:
                out.append(DriftItem(w.object_type, w.name, kind, expected, str(actual)))
        if w.unique and not have.get("hasUniqueValue"):
            out.append(
                DriftItem(
                    w.object_type,
                    w.name,
                    "not_unique",
                    "hasUniqueValue=true",
                    "false",
                    "hasUniqueValue can only be set at creation: archive and re-provision it",
                )
            )
        return out

    def _stale(
        self, w: Wanted, have: Mapping[str, Any], drift: list[DriftItem]
    ) -> list[ProvisionStep]:
        mine = {v for v, _ in w.options}
        steps: list[ProvisionStep] = []
        for option in have.get("options") or []:
            value = str(option["value"])
            if value in mine:
                continue
            used = self._usage(w.object_type, w.name, value, multi=w.field_type == "checkbox")
            drift.append(
                DriftItem(
                    w.object_type, w.name, "extra_option", "", value, f"{used} record(s) hold it"
                )
            )
            detail = f"remove {value}" + (f" (held by {used} record(s))" if used else "")
            steps.append(
                ProvisionStep(
                    "remove_options", w.object_type, w.name, detail, {"remove": [value]}, used > 0
                )
            )
        return steps

    def _usage(self, object_type: str, name: str, value: str, *, multi: bool) -> int:
        op = "CONTAINS_TOKEN" if multi else "EQ"
        body = {
            "filterGroups": [{"filters": [{"propertyName": name, "operator": op, "value": value}]}],
            "properties": ["hs_object_id"],
            "limit": 1,
        }
        return int((self.client.search(object_type, body).data or {}).get("total") or 0)

    # -- apply -------------------------------------------------------------------------------
    def apply(self, plan: ProvisionPlan, *, force: bool = False) -> ProvisionResult:
        """Execute the plan's steps in order; ``needs_force`` steps only with ``force``."""
        applied: list[ProvisionStep] = []
        skipped: list[ProvisionStep] = []
        for step in plan.steps:
            if step.needs_force and not force:
                skipped.append(step)
                continue
            self._apply(step)
            applied.append(step)
        self._props.clear()
        return ProvisionResult(tuple(applied), tuple(skipped))

    def _apply(self, step: ProvisionStep) -> None:
        try:
            if step.action == "create_group":
                self.client.create_group(step.object, step.payload)
            elif step.action == "create_property":
                self.client.create_property(step.object, step.payload)
            elif step.action in ("add_options", "remove_options"):
                add = [tuple(x) for x in step.payload.get("add", [])]
                self._patch_options(step.object, step.name, add, step.payload.get("remove", []))
        except PermanentError as exc:
            if exc.status != 409:  # already exists: someone (or an earlier apply) made it
                raise

    def _patch_options(
        self, object_type: str, name: str, add: Iterable[tuple[str, ...]], remove: Iterable[str]
    ) -> None:
        have = self.remote(object_type, fresh=True).get(name)
        if have is None:
            return
        gone = set(remove)
        options = [dict(o) for o in have.get("options") or [] if str(o["value"]) not in gone]
        values = {str(o["value"]) for o in options}
        for value, label in add:
            if value not in values:
                options.append(_option(value, label, len(options)))
                values.add(value)
        for o in options:
            o.setdefault("hidden", False)
        if options != (have.get("options") or []):
            self.client.update_property(object_type, name, {"options": options})
        self._props.pop(object_type, None)

    # -- engine hooks ------------------------------------------------------------------------
    def ensure_options(self, object_type: str, name: str, values: set[str]) -> None:
        """Add any of ``values`` missing from an enumeration property before it is written."""
        prop = self.remote(object_type).get(name)
        if prop is None or prop.get("type") != "enumeration" or prop.get("externalOptions"):
            return
        if prop.get("hubspotDefined"):
            return  # never extend HubSpot's own picklists (lifecycle stages, lead status …)
        missing = values - {str(o["value"]) for o in prop.get("options") or []}
        if missing:
            self._patch_options(object_type, name, [(v, v) for v in sorted(missing)], ())

    def ensure(self, specs: Sequence[PropertySpec], group_of: Mapping[str, str]) -> EnsureResult:
        """``CrmAdapter.ensure_properties``: create what is missing, add options; never remove."""
        wanted = [
            Wanted(
                s.object,
                s.name,
                s.label,
                s.type,
                "checkbox" if s.multi else _FIELD_TYPES.get(s.type, "date"),
                s.group or group_of.get(s.object, "crm_sync"),
                options=s.options,
            )
            for s in specs
        ]
        plan = self.plan(wanted, removals=False)
        result = self.apply(plan)
        created = tuple(s.name for s in result.applied if s.action == "create_property")
        updated = tuple(s.name for s in result.applied if s.action == "add_options")
        return EnsureResult(created, updated)
