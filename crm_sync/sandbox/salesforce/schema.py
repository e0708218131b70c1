"""The standard objects and fields of a fresh org, and the describe JSON built from them.

Why a hand-written schema: the adapter reads picklist values, the restricted flag and the
createable/updateable flags from ``describe`` (facts §3.4, Gotcha 9 and 15), and the sandbox
refuses writes with the same rules, so both must come from one definition. Only the objects and
fields crm_sync touches are modelled; anything else answers ``INVALID_TYPE``/``INVALID_FIELD``
exactly as a real org answers for a name it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "NUMBER_TYPES",
    "SYSTEM_FIELDS",
    "TEXT_TYPES",
    "FieldDef",
    "ObjectDef",
    "describe_field",
    "describe_global_entry",
    "describe_object",
]

# Audit fields the platform maintains on every write; never writable through the API.
SYSTEM_FIELDS = (
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
)

# Field types whose values are text (length applies; comparisons are case-insensitive in SOQL).
TEXT_TYPES = frozenset(
    {"string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox"}
)
NUMBER_TYPES = frozenset({"double", "currency", "percent", "int"})

# describe ``soapType`` per field type, as a real org reports it.
_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
}


@dataclass
class FieldDef:
    """One field. ``createable``/``updateable`` are what the *integration user* may write."""

    name: str
    type: str
    label: str = ""
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    required: bool = False  # required on create (describe: nillable false, not defaulted)
    picklist: tuple[str, ...] = ()
    default_value: str | None = None
    restricted: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    custom: bool = False
    external_id: bool = False
    unique: bool = False
    precision: int = 0
    scale: int = 0
    visible_lines: int = 0
    default_checkbox: bool | None = None

    def __post_init__(self) -> None:
        if not self.label:
            self.label = self.name.removesuffix("Id") if self.type == "reference" else self.name
        if self.type in ("string", "email", "phone", "url") and not self.length:
            self.length = 255
        if self.type in ("picklist",) and not self.length:
            self.length = 255
        if self.type == "multipicklist" and not self.length:
            self.length = 4099


@dataclass
class ObjectDef:
    """One sObject: key prefix, fields in describe order, and what the API may do with it."""

    name: str
    key_prefix: str
    label: str = ""
    fields: dict[str, FieldDef] = field(default_factory=dict)
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    queryable: bool = True
    name_field: str | None = "Name"

    def __post_init__(self) -> None:
        if not self.label:
            self.label = self.name

    def field(self, name: str) -> FieldDef | None:
        """Case-insensitive lookup: SOQL and REST bodies both ignore field-name case."""
        found = self.fields.get(name)
        if found is not None:
            return found
        lowered = name.lower()
        for key, value in self.fields.items():
            if key.lower() == lowered:
                return value
        return None

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field whose relationship name is ``name`` (``Account`` → ``AccountId``)."""
        lowered = name.lower()
        for value in self.fields.values():
            if value.relationship_name and value.relationship_name.lower() == lowered:
                return value
        return None


def _picklist_values(f: FieldDef) -> list[dict[str, Any]]:
    return [
        {
            "active": True,
            "defaultValue": v == f.default_value,
            "label": v,
            "validFor": None,
            "value": v,
        }
        for v in f.picklist
    ]


def describe_field(f: FieldDef) -> dict[str, Any]:
    """The describe entry of one field, with the keys clients read (facts §3.4)."""
    text_like = f.type in TEXT_TYPES
    return {
        "aggregatable": f.type not in ("textarea", "multipicklist"),
        "autoNumber": False,
        "byteLength": f.length * 3 if text_like else (18 if f.type in ("id", "reference") else 0),
        "calculated": False,
        "caseSensitive": False,
        "createable": f.createable,
        "custom": f.custom,
        "defaultValue": f.default_checkbox if f.type == "boolean" else None,
        "defaultedOnCreate": f.type == "boolean" or f.name in SYSTEM_FIELDS,
        "dependentPicklist": False,
        "externalId": f.external_id,
        "filterable": f.type not in ("textarea",),
        "groupable": f.type not in ("double", "currency", "percent", "textarea", "multipicklist"),
        "idLookup": f.type == "id" or f.external_id,
        "label": f.label,
        "length": f.length if text_like else (18 if f.type in ("id", "reference") else 0),
        "name": f.name,
        "nameField": False,
        "nillable": f.nillable,
        "picklistValues": _picklist_values(f),
        "polymorphicForeignKey": len(f.reference_to) > 1,
        "precision": f.precision,
        "referenceTo": list(f.reference_to),
        "relationshipName": f.relationship_name,
        "restrictedPicklist": f.restricted,
        "scale": f.scale,
        "soapType": _SOAP_TYPES.get(f.type, "xsd:string"),
        "sortable": f.type not in ("textarea", "multipicklist"),
        "type": f.type,
        "unique": f.unique,
        "updateable": f.updateable,
    }


def _urls(version: str, name: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{name}"
    return {
        "sobject": base,
        "describe": f"{base}/describe",
        "rowTemplate": f"{base}/{{ID}}",
    }


def describe_global_entry(obj: ObjectDef, version: str) -> dict[str, Any]:
    """One element of ``GET /sobjects``' ``sobjects`` list."""
    return {
        "activateable": False,
        "createable": obj.createable,
        "custom": False,
        "customSetting": False,
        "deletable": obj.deletable,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label + "s",
        "layoutable": True,
        "name": obj.name,
        "queryable": obj.queryable,
        "retrieveable": True,
        "searchable": obj.queryable,
        "triggerable": True,
        "undeletable": obj.deletable,
        "updateable": obj.updateable,
        "urls": _urls(version, obj.name),
    }


def describe_object(obj: ObjectDef, visible: list[FieldDef], version: str) -> dict[str, Any]:
    """``GET /sobjects/{T}/describe``: only the fields the caller can see (facts §3.3)."""
    out = describe_global_entry(obj, version)
    out["fields"] = [describe_field(f) for f in visible]
    out["childRelationships"] = []
    out["recordTypeInfos"] = []
    return out
