"""Property definitions of a fresh portal, and the rules HubSpot applies to them and to values.

Why here and not in the routes: the same rules guard property creation (type/fieldType pairing,
options with ``label``/``value``/``hidden``, facts §3.2), property PATCH (options list replaced
whole, §3.4) and every record write (values are strings, options must exist, ``;``-joined
multi-checkbox values, §3.3/§3.5, Gotchas 5, 6, 19).

The standard set is representative, not exhaustive: the properties crm_sync and its tests touch,
with HubSpot's internal names and types. Lifecycle-stage defaults are facts §7.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from crm_sync.sandbox.hubspot.errors import property_error

__all__ = [
    "FIELD_TYPES",
    "LIFECYCLE_STAGES",
    "OBJECT_TYPES",
    "PropertyDef",
    "check_value",
    "modified_property",
    "resolve_type",
    "standard_groups",
    "standard_properties",
]

# plural name -> (objectTypeId, singular used in messages). Facts §2.1 lists the names.
OBJECT_TYPES: dict[str, tuple[str, str]] = {
    "contacts": ("0-1", "contact"),
    "companies": ("0-2", "company"),
    "deals": ("0-3", "deal"),
    "line_items": ("0-8", "line_item"),
    "emails": ("0-49", "email"),
    "calls": ("0-48", "call"),
    "meetings": ("0-47", "meeting"),
    "notes": ("0-46", "note"),
    "tasks": ("0-27", "task"),
}
ENGAGEMENTS = ("emails", "calls", "meetings", "notes", "tasks")

# Facts §3.2: valid type -> fieldType pairings.
FIELD_TYPES: dict[str, frozenset[str]] = {
    "bool": frozenset({"booleancheckbox"}),
    "enumeration": frozenset({"booleancheckbox", "checkbox", "radio", "select"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"date"}),
    "string": frozenset({"text", "textarea", "file", "html", "phonenumber"}),
    "number": frozenset({"number", "calculation_equation"}),
    "phone_number": frozenset({"phonenumber"}),
}

# Facts §7: default lifecycle stages, in order; the stage only moves forward.
LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def resolve_type(name: str) -> str | None:
    """``contacts``, ``contact`` or ``0-1`` -> ``contacts``; ``None`` when unknown."""
    lowered = name.lower()
    for plural, (type_id, singular) in OBJECT_TYPES.items():
        if lowered in (plural, singular, type_id):
            return plural
    return None


def modified_property(object_type: str) -> str:
    """Facts Gotcha 9: contacts use ``lastmodifieddate``, every other object ``hs_lastmodifieddate``."""
    return "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"


def created_property(object_type: str) -> str:
    """Engagements carry ``hs_createdate``; CRM objects ``createdate``."""
    return "hs_createdate" if object_type in ENGAGEMENTS else "createdate"


@dataclass
class PropertyDef:
    """One property definition as the Properties API v3 returns it."""

    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    options: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""
    display_order: int = -1
    has_unique_value: bool = False
    hidden: bool = False
    hubspot_defined: bool = False
    read_only_value: bool = False
    read_only_definition: bool = False
    external_options: bool = False
    calculated: bool = False
    created_at: str = "2020-01-01T00:00:00.000Z"
    updated_at: str = "2020-01-01T00:00:00.000Z"
    archived: bool = False

    def to_json(self) -> dict[str, Any]:
        """The wire shape (``Property`` in the v3 spec)."""
        body: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group_name,
            "options": [dict(o) for o in self.options],
            "displayOrder": self.display_order,
            "calculated": self.calculated,
            "externalOptions": self.external_options,
            "hasUniqueValue": self.has_unique_value,
            "hidden": self.hidden,
            "formField": not self.read_only_value,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.read_only_definition,
                "readOnlyValue": self.read_only_value,
            },
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "archived": self.archived,
        }
        if self.hubspot_defined:
            body["hubspotDefined"] = True
        return body

    def option_values(self) -> set[str]:
        """The values a write may use (hidden options still validate)."""
        return {str(o["value"]) for o in self.options}


def _opts(*values: str) -> list[dict[str, Any]]:
    return [
        {"label": v.replace("_", " ").title(), "value": v, "displayOrder": i, "hidden": False}
        for i, v in enumerate(values)
    ]


_BOOL_OPTS = [
    {"label": "Yes", "value": "true", "displayOrder": 0, "hidden": False},
    {"label": "No", "value": "false", "displayOrder": 1, "hidden": False},
]

# (name, type, fieldType, group, options, flags) — flags: r=read-only value, u=unique, x=external options
_Spec = tuple[str, str, str, str, list[dict[str, Any]] | None, str]
_COMMON: list[_Spec] = [
    ("hs_object_id", "number", "number", "", None, "r"),
    ("hubspot_owner_id", "enumeration", "select", "", None, "x"),
]
_STANDARD: dict[str, list[_Spec]] = {
    "contacts": [
        ("email", "string", "text", "contactinformation", None, ""),
        ("firstname", "string", "text", "contactinformation", None, ""),
        ("lastname", "string", "text", "contactinformation", None, ""),
        ("phone", "string", "phonenumber", "contactinformation", None, ""),
        ("company", "string", "text", "contactinformation", None, ""),
        ("jobtitle", "string", "text", "contactinformation", None, ""),
        ("city", "string", "text", "contactinformation", None, ""),
        ("country", "string", "text", "contactinformation", None, ""),
        (
            "lifecyclestage",
            "enumeration",
            "radio",
            "contactinformation",
            _opts(*LIFECYCLE_STAGES),
            "",
        ),
        (
            "hs_lead_status",
            "enumeration",
            "radio",
            "sales_properties",
            _opts(
                "NEW",
                "OPEN",
                "IN_PROGRESS",
                "OPEN_DEAL",
                "UNQUALIFIED",
                "ATTEMPTED_TO_CONTACT",
                "CONNECTED",
                "BAD_TIMING",
            ),
            "",
        ),
        (
            "hs_persona",
            "enumeration",
            "radio",
            "contactinformation",
            _opts("persona_1", "persona_2", "persona_3"),
            "",
        ),
        (
            "hs_buying_role",
            "enumeration",
            "checkbox",
            "contactinformation",
            _opts(
                "BLOCKER",
                "BUDGET_HOLDER",
                "CHAMPION",
                "DECISION_MAKER",
                "END_USER",
                "EXECUTIVE_SPONSOR",
                "INFLUENCER",
                "LEGAL_AND_COMPLIANCE",
                "OTHER",
            ),
            "",
        ),
        (
            "hs_analytics_source",
            "enumeration",
            "select",
            "analyticsinformation",
            _opts(
                "ORGANIC_SEARCH",
                "PAID_SEARCH",
                "EMAIL_MARKETING",
                "SOCIAL_MEDIA",
                "REFERRALS",
                "OTHER_CAMPAIGNS",
                "DIRECT_TRAFFIC",
                "OFFLINE",
                "PAID_SOCIAL",
            ),
            "r",
        ),
        ("createdate", "datetime", "date", "contactinformation", None, "r"),
        ("lastmodifieddate", "datetime", "date", "contactinformation", None, "r"),
    ],
    "companies": [
        ("name", "string", "text", "companyinformation", None, ""),
        ("domain", "string", "text", "companyinformation", None, ""),
        (
            "industry",
            "enumeration",
            "select",
            "companyinformation",
            _opts(
                "COMPUTER_SOFTWARE",
                "INFORMATION_TECHNOLOGY_AND_SERVICES",
                "MACHINERY",
                "RETAIL",
                "WHOLESALE",
                "FOOD_BEVERAGES",
                "HOSPITAL_HEALTH_CARE",
                "CONSTRUCTION",
                "AUTOMOTIVE",
                "FINANCIAL_SERVICES",
            ),
            "",
        ),
        ("country", "string", "text", "companyinformation", None, ""),
        ("city", "string", "text", "companyinformation", None, ""),
        ("phone", "string", "phonenumber", "companyinformation", None, ""),
        ("numberofemployees", "number", "number", "companyinformation", None, ""),
        ("annualrevenue", "number", "number", "companyinformation", None, ""),
        (
            "lifecyclestage",
            "enumeration",
            "radio",
            "companyinformation",
            _opts(*LIFECYCLE_STAGES),
            "",
        ),
        (
            "hs_analytics_source",
            "enumeration",
            "select",
            "analyticsinformation",
            _opts(
                "ORGANIC_SEARCH",
                "PAID_SEARCH",
                "EMAIL_MARKETING",
                "SOCIAL_MEDIA",
                "REFERRALS",
                "OTHER_CAMPAIGNS",
                "DIRECT_TRAFFIC",
                "OFFLINE",
                "PAID_SOCIAL",
            ),
            "r",
        ),
        ("hs_parent_company_id", "number", "number", "companyinformation", None, "r"),
        ("createdate", "datetime", "date", "companyinformation", None, "r"),
        ("hs_lastmodifieddate", "datetime", "date", "companyinformation", None, "r"),
    ],
    "deals": [
        ("dealname", "string", "text", "dealinformation", None, ""),
        ("amount", "number", "number", "dealinformation", None, ""),
        (
            "dealstage",
            "enumeration",
            "radio",
            "dealinformation",
            _opts(
                "appointmentscheduled",
                "qualifiedtobuy",
                "presentationscheduled",
                "decisionmakerboughtin",
                "contractsent",
                "closedwon",
                "closedlost",
            ),
            "",
        ),
        ("pipeline", "enumeration", "select", "dealinformation", _opts("default"), ""),
        ("closedate", "datetime", "date", "dealinformation", None, ""),
        ("createdate", "datetime", "date", "dealinformation", None, "r"),
        ("hs_lastmodifieddate", "datetime", "date", "dealinformation", None, "r"),
    ],
    "line_items": [
        ("name", "string", "text", "lineiteminformation", None, ""),
        ("quantity", "number", "number", "lineiteminformation", None, ""),
        ("price", "number", "number", "lineiteminformation", None, ""),
        ("amount", "number", "number", "lineiteminformation", None, ""),
        ("hs_sku", "string", "text", "lineiteminformation", None, ""),
        ("createdate", "datetime", "date", "lineiteminformation", None, "r"),
        ("hs_lastmodifieddate", "datetime", "date", "lineiteminformation", None, "r"),
    ],
    "emails": [
        ("hs_timestamp", "datetime", "date", "email", None, ""),
        ("hs_email_subject", "string", "text", "email", None, ""),
        ("hs_email_text", "string", "textarea", "email", None, ""),
        (
            "hs_email_direction",
            "enumeration",
            "select",
            "email",
            _opts("EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"),
            "",
        ),
        (
            "hs_email_status",
            "enumeration",
            "select",
            "email",
            _opts("BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT"),
            "",
        ),
    ],
    "calls": [
        ("hs_timestamp", "datetime", "date", "call", None, ""),
        ("hs_call_title", "string", "text", "call", None, ""),
        ("hs_call_body", "string", "textarea", "call", None, ""),
        ("hs_call_direction", "enumeration", "select", "call", _opts("INBOUND", "OUTBOUND"), ""),
        ("hs_call_disposition", "string", "text", "call", None, ""),
        ("hs_call_duration", "number", "number", "call", None, ""),
    ],
    "meetings": [
        ("hs_timestamp", "datetime", "date", "meeting", None, ""),
        ("hs_meeting_title", "string", "text", "meeting", None, ""),
        ("hs_meeting_body", "string", "textarea", "meeting", None, ""),
        ("hs_meeting_location", "string", "text", "meeting", None, ""),
        ("hs_meeting_start_time", "datetime", "date", "meeting", None, ""),
        ("hs_meeting_end_time", "datetime", "date", "meeting", None, ""),
        (
            "hs_meeting_outcome",
            "enumeration",
            "select",
            "meeting",
            _opts("SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED"),
            "",
        ),
    ],
    "notes": [
        ("hs_timestamp", "datetime", "date", "note", None, ""),
        ("hs_note_body", "string", "textarea", "note", None, ""),
    ],
    "tasks": [
        ("hs_timestamp", "datetime", "date", "task", None, ""),
        ("hs_task_subject", "string", "text", "task", None, ""),
        ("hs_task_body", "string", "textarea", "task", None, ""),
        (
            "hs_task_status",
            "enumeration",
            "select",
            "task",
            _opts("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"),
            "",
        ),
        ("hs_task_type", "enumeration", "select", "task", _opts("CALL", "EMAIL", "TODO"), ""),
    ],
}


def standard_groups(object_type: str) -> list[dict[str, Any]]:
    """Groups of a fresh portal for ``object_type`` (e.g. ``contactinformation`` for contacts)."""
    names = {spec[3] for spec in _STANDARD[object_type] if spec[3]}
    names |= {f"{OBJECT_TYPES[object_type][1].replace('_', '')}information"}
    return [
        {"name": n, "label": n.replace("_", " ").title(), "displayOrder": i, "archived": False}
        for i, n in enumerate(sorted(names))
    ]


def standard_properties(object_type: str) -> dict[str, PropertyDef]:
    """HubSpot-defined properties of ``object_type`` on a fresh portal."""
    out: dict[str, PropertyDef] = {}
    default_group = f"{OBJECT_TYPES[object_type][1].replace('_', '')}information"
    specs = list(_STANDARD[object_type]) + _COMMON
    if object_type in ENGAGEMENTS:
        specs += [
            ("hs_createdate", "datetime", "date", "", None, "r"),
            ("hs_lastmodifieddate", "datetime", "date", "", None, "r"),
        ]
    for i, (name, ptype, ftype, group, options, flags) in enumerate(specs):
        out[name] = PropertyDef(
            name=name,
            label=name.replace("hs_", "").replace("_", " ").title(),
            type=ptype,
            field_type=ftype,
            group_name=group or default_group,
            options=options
            if options is not None
            else (list(_BOOL_OPTS) if ptype == "bool" else []),
            display_order=i,
            hubspot_defined=True,
            read_only_value="r" in flags,
            read_only_definition="r" in flags,
            external_options="x" in flags,
            calculated=name == "hs_object_id",
        )
    return out


def _epoch_ms(value: str) -> int | None:
    """Epoch-ms string or ISO 8601 -> epoch ms; ``None`` if neither (facts §3.2, §4.6)."""
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp() * 1000)


def iso_ms(ms: int) -> str:
    """Epoch ms -> ``2024-01-01T00:00:00.000Z`` (how v3 returns datetimes)."""
    stamp = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def check_value(
    defn: PropertyDef | None, name: str, value: Any
) -> tuple[str, dict[str, Any] | None]:
    """Validate one written value; returns the stored form and an error item (or ``None``).

    Values must be JSON strings (facts Gotcha 19; the spec types them ``string``). The sandbox is
    stricter than HubSpot here on purpose: a number that HubSpot might coerce is refused, so the
    product never depends on coercion.
    """
    if defn is None or defn.archived:
        return "", property_error(
            name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'
        )
    if not isinstance(value, str):
        msg = f"{value!r} is not a valid value for {name}: property values must be strings"
        return "", property_error(name, "INVALID_PROPERTY_VALUE", msg)
    if defn.read_only_value:
        # Facts §3.5: "Read-only and non-existent properties will result in an error" ([UNVERIFIED] code).
        return "", property_error(
            name,
            "READ_ONLY_VALUE",
            f'Property "{name}" is a read only property; its value cannot be set.',
        )
    if value == "":
        return "", None  # "" clears any property (facts §3.3, §7)
    if defn.type == "enumeration" and not defn.external_options:
        allowed = defn.option_values()
        parts = value.split(";") if defn.field_type == "checkbox" else [value]
        for part in parts:
            if part not in allowed:
                msg = f"{part} was not one of the allowed options: [{', '.join(sorted(allowed))}]"
                return "", property_error(name, "INVALID_OPTION", msg)
        if defn.field_type == "checkbox":
            return ";".join(dict.fromkeys(parts)), None
        return value, None
    if defn.type == "bool":
        if value.lower() not in ("true", "false"):
            return "", property_error(
                name, "INVALID_OPTION", f"{value} was not one of the allowed options: [false, true]"
            )
        return value.lower(), None
    if defn.type == "number":
        try:
            float(value)
        except ValueError:
            return "", property_error(name, "INVALID_NUMBER", f"{value} is not a valid number")
        return value, None
    if defn.type in ("date", "datetime"):
        ms = _epoch_ms(value)
        if ms is None:
            return "", property_error(name, "INVALID_DATE", f"{value} is not a valid date")
        if defn.type == "date":
            if ms % 86_400_000:
                msg = f"{value} is not a valid date: dates must be midnight UTC"
                return "", property_error(name, "INVALID_DATE", msg)
            return iso_ms(ms)[:10], None
        return iso_ms(ms), None
    if name == "email" and not _EMAIL.match(value):
        return "", property_error(name, "INVALID_EMAIL", f"Email address {value} is invalid")
    return value, None


def epoch_ms(value: str) -> int | None:
    """Public alias used by search filters."""
    return _epoch_ms(value)
