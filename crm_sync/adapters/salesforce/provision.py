"""Provisioning: custom fields through the Metadata API, then field-level security, plan first.

Why two steps (facts §3.1, §3.3, Gotcha 10): a field created through the Metadata API is
*invisible* to the integration user — describe omits it and SOQL answers ``No such column`` —
until a permission set with ``FieldPermissions`` (Read + Edit) is assigned to that user. So a
field missing from ``describe`` is either absent or merely not granted. :func:`apply_provision`
grants first; only the fields whose grant is refused because they do not exist are created
(``upsertMetadata``, at most 10 per call) and then granted. That way an existing field whose
FLS was lost is never overwritten.

Drift is describe-based: a visible field of another type, a picklist that is not restricted, a
label that differs, or picklist values crm_sync does not define are reported; only missing
fields and missing picklist values are changed, unless ``force`` is given (then a drifted field
is re-declared with the mapping's definition, keeping every existing picklist value).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from crm_sync.adapters import provisioning as shared
from crm_sync.adapters.base import PropertySpec
from crm_sync.adapters.salesforce.client import SalesforceClient, soql
from crm_sync.errors import PermanentError

__all__ = [
    "PERMISSION_SET",
    "FieldPlan",
    "ProvisionPlan",
    "ProvisionResult",
    "apply_provision",
    "describe_fields",
    "from_shared",
    "plan_provision",
    "to_shared",
]

PERMISSION_SET = "CRM_Sync_Fields"
METADATA_BATCH = 10  # facts §3.1: at most 10 components per Metadata CRUD call
DESCRIBE_TYPES = {
    "Text": "string",
    "Number": "double",
    "Checkbox": "boolean",
    "Date": "date",
    "Picklist": "picklist",
    "MultiselectPicklist": "multipicklist",
}


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """One field: what exists (from describe) and what provisioning will do about it."""

    object: str
    name: str
    type: str
    label: str
    options: tuple[tuple[str, str], ...] = ()
    action: str = "ok"  # create_or_grant | add_options | ok
    missing_options: tuple[str, ...] = ()
    existing_options: tuple[str, ...] = ()
    drift: tuple[str, ...] = ()

    @property
    def full_name(self) -> str:
        """``Object.Field__c`` as Metadata API and FieldPermissions spell it."""
        return f"{self.object}.{self.name}"


@dataclass(frozen=True, slots=True)
class ProvisionPlan:
    """Everything ``crm-sync provision`` prints before ``--apply``."""

    crm: str
    fields: tuple[FieldPlan, ...]
    permission_set: str = PERMISSION_SET

    @property
    def changes(self) -> tuple[FieldPlan, ...]:
        """Fields that need work."""
        return tuple(f for f in self.fields if f.action != "ok")

    @property
    def drift(self) -> tuple[str, ...]:
        """Every drift finding, ``Object.Field: detail``."""
        return tuple(f"{f.full_name}: {d}" for f in self.fields for d in f.drift)

    def to_dict(self) -> dict[str, Any]:
        """JSON form for ``--json``."""
        return {
            "crm": self.crm,
            "permission_set": self.permission_set,
            "changes": [asdict(f) for f in self.changes],
            "drift": list(self.drift),
            "unchanged": [f.full_name for f in self.fields if f.action == "ok"],
        }


@dataclass
class ProvisionResult:
    """What :func:`apply_provision` did."""

    created: list[str] = field(default_factory=list)
    granted: list[str] = field(default_factory=list)
    options_added: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def describe_fields(client: SalesforceClient, sobject: str) -> dict[str, dict[str, Any]]:
    """Visible fields of ``sobject`` by name (describe honours FLS, facts §3.3)."""
    return {str(f["name"]): f for f in client.describe(sobject).get("fields", [])}


def _plan_one(spec: PropertySpec, sobject: str, have: dict[str, Any] | None) -> FieldPlan:
    base = FieldPlan(sobject, spec.name, spec.type, spec.label, spec.options)
    if have is None:
        return _replace(base, action="create_or_grant")
    drift: list[str] = []
    want_type = DESCRIBE_TYPES.get(spec.type, spec.type.lower())
    if have.get("type") != want_type:
        drift.append(f"type is {have.get('type')}, the mapping says {want_type}")
    if have.get("label") != spec.label:
        drift.append(f"label is {have.get('label')!r}, the mapping says {spec.label!r}")
    existing = tuple(str(v["value"]) for v in have.get("picklistValues") or [])
    missing: tuple[str, ...] = ()
    if spec.options:
        missing = tuple(v for v, _ in spec.options if v not in existing)
        if not have.get("restrictedPicklist"):
            drift.append("picklist is not restricted")
        extra = sorted(set(existing) - {v for v, _ in spec.options})
        if extra:
            drift.append(f"values not in the mapping (kept): {', '.join(extra)}")
    action = "add_options" if missing else "ok"
    return _replace(
        base,
        action=action,
        missing_options=missing,
        existing_options=existing,
        drift=tuple(drift),
    )


def _replace(plan: FieldPlan, **changes: Any) -> FieldPlan:
    data = {k: getattr(plan, k) for k in FieldPlan.__slots__}
    data.update(changes)
    return FieldPlan(**data)


def plan_provision(
    client: SalesforceClient, specs: Sequence[tuple[str, PropertySpec]]
) -> ProvisionPlan:
    """Compare ``(object, spec)`` pairs with describe; nothing is changed."""
    described: dict[str, dict[str, dict[str, Any]]] = {}
    plans: list[FieldPlan] = []
    for sobject, spec in specs:
        if sobject not in described:
            described[sobject] = describe_fields(client, sobject)
        plans.append(_plan_one(spec, sobject, described[sobject].get(spec.name)))
    return ProvisionPlan("salesforce", tuple(plans))


def _metadata(plan: FieldPlan) -> dict[str, Any]:
    """The neutral CustomField definition the client turns into zeep objects (facts §3.1)."""
    out: dict[str, Any] = {"fullName": plan.full_name, "label": plan.label, "type": plan.type}
    if plan.type == "Text":
        out["length"] = 255
    elif plan.type == "Number":
        out.update(precision=18, scale=2)
    elif plan.type == "Checkbox":
        out["defaultValue"] = "false"
    elif plan.type in ("Picklist", "MultiselectPicklist"):
        labels = dict(plan.options)
        names = list(plan.existing_options) + [
            v for v, _ in plan.options if v not in plan.existing_options
        ]
        out["values"] = [(v, labels.get(v, v)) for v in names]
        out["restricted"] = True
        if plan.type == "MultiselectPicklist":
            out["visibleLines"] = 4
    return out


def _permission_set(client: SalesforceClient, name: str) -> str:
    """Find or create the permission set and assign it to the calling (integration) user."""
    rows = list(
        client.query(soql("SELECT Id, CreatedById FROM PermissionSet WHERE Name = {}", name))
    )
    if rows:
        perm_id = str(rows[0]["Id"])
    else:
        created = client.restful(
            "provision",
            "sobjects/PermissionSet",
            method="POST",
            body={"Name": name, "Label": "CRM Sync fields", "Description": "Created by crm_sync"},
        )
        perm_id = str(created["id"])
    user = _current_user(client, perm_id)
    assigned = list(
        client.query(
            soql(
                "SELECT Id FROM PermissionSetAssignment WHERE PermissionSetId = {} AND AssigneeId = {}",
                perm_id,
                user,
            )
        )
    )
    if not assigned:
        client.restful(
            "provision",
            "sobjects/PermissionSetAssignment",
            method="POST",
            body={"AssigneeId": user, "PermissionSetId": perm_id},
        )
    return perm_id


def _current_user(client: SalesforceClient, perm_id: str) -> str:
    """The integration user: the token's identity, else who created our permission set."""
    user = getattr(client.tokens, "user_id", None)
    if user:
        return str(user)
    rows = list(client.query(soql("SELECT CreatedById FROM PermissionSet WHERE Id = {}", perm_id)))
    return str(rows[0]["CreatedById"])


def _grant(client: SalesforceClient, perm_id: str, plans: Sequence[FieldPlan]) -> dict[str, str]:
    """Insert Read+Edit FieldPermissions; returns ``{full_name: error}`` for refused grants."""
    have = {
        str(r["Field"]).lower()
        for r in client.query(
            soql("SELECT Field FROM FieldPermissions WHERE ParentId = {}", perm_id)
        )
    }
    todo = [p for p in plans if p.full_name.lower() not in have]
    failed: dict[str, str] = {}
    for start in range(0, len(todo), 200):
        chunk = todo[start : start + 200]
        records = [
            {
                "attributes": {"type": "FieldPermissions"},
                "ParentId": perm_id,
                "SobjectType": p.object,
                "Field": p.full_name,
                "PermissionsRead": True,
                "PermissionsEdit": True,
            }
            for p in chunk
        ]
        results = client.restful(
            "provision",
            "composite/sobjects",
            method="POST",
            body={"allOrNone": False, "records": records},
        )
        for p, res in zip(chunk, results or [], strict=False):
            if not res.get("success"):
                errors = res.get("errors") or [{}]
                failed[p.full_name] = f"{errors[0].get('statusCode')}: {errors[0].get('message')}"
    return failed


def apply_provision(
    client: SalesforceClient, plan: ProvisionPlan, *, force: bool = False
) -> ProvisionResult:
    """Execute ``plan`` idempotently; see the module docstring for the order of steps."""
    result = ProvisionResult()
    perm_id = _permission_set(client, plan.permission_set)
    missing = [p for p in plan.fields if p.action == "create_or_grant"]
    refused = _grant(client, perm_id, missing)
    result.granted = [p.full_name for p in missing if p.full_name not in refused]
    to_create = [p for p in missing if p.full_name in refused]
    to_update = [p for p in plan.fields if p.action == "add_options" or (force and p.drift)]
    for group in (to_create, to_update):
        for start in range(0, len(group), METADATA_BATCH):
            chunk = group[start : start + METADATA_BATCH]
            errors = client.upsert_custom_fields([_metadata(p) for p in chunk])
            result.failed.update(errors)
            ok = [p for p in chunk if p.full_name not in errors]
            if group is to_create:
                result.created.extend(p.full_name for p in ok)
            else:
                result.options_added.extend(p.full_name for p in ok)
    created = [p for p in to_create if p.full_name in result.created]
    late = _grant(client, perm_id, created)
    result.failed.update(late)
    result.granted.extend(p.full_name for p in created if p.full_name not in late)
    return result


def add_picklist_values(
    client: SalesforceClient,
    sobject: str,
    spec_name: str,
    have: dict[str, Any],
    values: Sequence[str],
) -> None:
    """Add ``values`` to an existing restricted picklist before a write needs them (Gotcha 9)."""
    existing = tuple(str(v["value"]) for v in have.get("picklistValues") or [])
    kind = "MultiselectPicklist" if have.get("type") == "multipicklist" else "Picklist"
    plan = FieldPlan(
        sobject,
        spec_name,
        kind,
        str(have.get("label") or spec_name),
        tuple((v, v) for v in values),
        existing_options=existing,
    )
    errors = client.upsert_custom_fields([_metadata(plan)])
    if errors:
        msg = f"could not add picklist values to {plan.full_name}: {errors[plan.full_name]}"
        raise PermanentError(msg, crm="salesforce", operation="metadata.upsert")


def to_shared(plan: ProvisionPlan, account: str, *, force: bool = False) -> shared.ProvisionPlan:
    """The CLI's plan: a step per field needing work (drifted fields only with ``force``)."""
    steps: list[shared.ProvisionStep] = []
    drift: list[shared.DriftItem] = []
    for f in plan.fields:
        payload = asdict(f)
        if f.action != "ok":
            detail = (
                ", ".join(f.missing_options)
                if f.missing_options
                else "create if absent, grant Read+Edit"
            )
            steps.append(shared.ProvisionStep(f.action, f.object, f.name, detail, payload))
        elif f.drift:
            steps.append(
                shared.ProvisionStep(
                    "redeclare", f.object, f.name, "; ".join(f.drift), payload, needs_force=True
                )
            )
        drift.extend(
            shared.DriftItem(f.object, f.name, d.split(" ", 1)[0], detail=d) for d in f.drift
        )
    if not force:  # the redeclare steps are listed, and run only with --force
        steps.sort(key=lambda s: s.needs_force)
    return shared.ProvisionPlan("salesforce", account, tuple(steps), tuple(drift))


def from_shared(plan: shared.ProvisionPlan) -> ProvisionPlan:
    """Rebuild the Salesforce plan from the steps' payloads (what the admin reviewed)."""
    fields = []
    for step in plan.steps:
        data = dict(step.payload)
        data["options"] = tuple(tuple(o) for o in data.get("options", ()))
        for key in ("missing_options", "existing_options", "drift"):
            data[key] = tuple(data.get(key, ()))
        fields.append(FieldPlan(**data))
    return ProvisionPlan("salesforce", tuple(fields))
