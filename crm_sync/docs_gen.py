"""JSON Schemas and reference documentation generated from the file schemas, so neither can drift.

The model file (:class:`crm_sync.rules.schema.ModelFile`) and the mapping files
(:class:`crm_sync.mapping.schema.HubSpotMapping`, :class:`~crm_sync.mapping.schema.SalesforceMapping`)
are pydantic models. From them this module produces:

* the JSON Schemas editors use for completion and red underlines (``schemas/*.schema.json``,
  referenced from the first line of every shipped YAML file);
* the key tables of ``docs/reference/model.md`` and ``docs/reference/mapping.md``, the function
  table of ``docs/reference/rule-language.md`` and the activity-type table, written between
  ``<!-- BEGIN GENERATED: name -->`` / ``<!-- END GENERATED: name -->`` markers so the prose
  around them stays hand-written.

The mapping schema classes carry no ``Field`` descriptions, so the admin-facing text for their keys
lives in :data:`MAPPING_DESCRIPTIONS` below and is injected into the JSON Schema as well as the
docs. :func:`undocumented_keys` lists any key without a description: the doc tests fail on it, so a
new key cannot ship undocumented.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from crm_sync.mapping.schema import HubSpotMapping, SalesforceMapping
from crm_sync.model.activities import ACTIVITY_DOCS
from crm_sync.rules.expr.functions import FUNCTIONS
from crm_sync.rules.schema import ModelFile

__all__ = [
    "MAPPING_DESCRIPTIONS",
    "SCHEMA_FILES",
    "generated_sections",
    "json_schemas",
    "regenerate_docs",
    "render_schema_file",
    "replace_sections",
    "undocumented_keys",
    "write_schemas",
]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

SCHEMA_FILES: dict[str, type[BaseModel]] = {
    "model.schema.json": ModelFile,
    "hubspot-mapping.schema.json": HubSpotMapping,
    "salesforce-mapping.schema.json": SalesforceMapping,
}
"""File name under ``schemas/`` → the pydantic class it describes."""

_ENTITY_TEXT = "`company` or `contact`"

MAPPING_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "_root": {
        "version": "Format version; always `1`.",
        "crm": "Which CRM this file maps to: `hubspot` or `salesforce`.",
        "group": (
            "Internal name of the property group (HubSpot) that provisioning creates and puts every "
            "crm_sync property in."
        ),
        "group_label": "Label of that property group, as CRM users see it.",
        "pull": (
            "Which CRM properties feed which model fields, per entity "
            f"({_ENTITY_TEXT} → model field name → pull field)."
        ),
        "objects": "Which CRM object each entity lives in, and its upsert key.",
        "properties": (
            f"Where each model output is written, per entity ({_ENTITY_TEXT} → the output's name "
            "in the model file → property). The output name is a segment set, tag set or "
            "lifecycle name from the model file."
        ),
    },
    "HubSpotObjects": {
        "company": "Object for companies (default `companies`, keyed by `crm_sync_id`).",
        "contact": "Object for contacts (default `contacts`, keyed by `crm_sync_id`).",
    },
    "SalesforceObjects": {
        "company": "Object for companies (default `Account`, keyed by `CRM_Sync_Id__c`).",
        "contact": "Object for contacts (default `Contact`, keyed by `CRM_Sync_Id__c`).",
        "leads": (
            "Also write people who are still unconverted Leads (the same field names must exist "
            "on Lead). Leave out to write Contacts only."
        ),
    },
    "ObjectTarget": {
        "object": (
            "The CRM object: `companies`/`contacts` in HubSpot, `Account`/`Contact` in Salesforce."
        ),
        "external_id": (
            "A unique-value property (HubSpot) or External ID field (Salesforce) crm_sync upserts "
            "by, so a retried batch can never create a duplicate. Provisioning creates it."
        ),
    },
    "LeadRouting": {
        "enabled": "Write unconverted Leads too (default true when the section is present).",
        "object": "Always `Lead`.",
        "external_id": "The External ID field on Lead (ends in `__c`).",
    },
    "PullField": {
        "source": (
            "The CRM property / field API name to read, e.g. `hs_analytics_source` or `LeadSource`. "
            "Give `source` or `list`, not both."
        ),
        "values": (
            "Optional CRM value → model value map (many-to-one). A CRM value not listed becomes "
            "empty (unknown), never a guess."
        ),
        "list": (
            "HubSpot only, instead of `source`: the name of a contact/company list (Lists v3). The "
            "field is `true` for the list's members and `false` for every other record; it must "
            "be a `type: bool` field in the model. Re-read on every sync, since a membership "
            "change does not change a record's last-modified date."
        ),
    },
    "OptionSpec": {
        "value": "The option's internal value / picklist API name stored in the CRM.",
        "label": "The option label CRM users see.",
        "description": "Optional help text on the option.",
    },
    "HubSpotProperty": {
        "property": "HubSpot internal property name: lower case, digits and `_`, e.g. `crm_persona`.",
        "label": "The property label users see in HubSpot.",
        "description": "Help text shown under the property in HubSpot.",
        "type": "HubSpot property `type`; outputs with options use `enumeration`.",
        "field_type": (
            "HubSpot `fieldType`: `select` for one value (segments, personas, lifecycle), "
            "`checkbox` (multiple checkboxes) for tags."
        ),
        "write_policy": (
            "`overwrite` (crm_sync's value wins), `if_empty` (only fill an empty property) or "
            "`respect_manual_edits` (never overwrite a value someone changed by hand)."
        ),
        "options": (
            "Model value → HubSpot option. Every value the model can emit needs one; crm_sync owns "
            "exactly these option values on a tag property."
        ),
        "triggers": "Optional workflow plumbing beyond property-change enrollment triggers.",
    },
    "SalesforceField": {
        "field": "Custom field API name, ending in `__c`, e.g. `Persona__c`.",
        "label": "The field label users see in Salesforce.",
        "description": "The field's description in Setup.",
        "type": (
            "Salesforce field type: `Picklist` for one value, `MultiselectPicklist` for tags, or "
            "`Text`, `Number`, `Checkbox`, `Date`."
        ),
        "write_policy": (
            "`overwrite` (crm_sync's value wins), `if_empty` (only fill an empty field) or "
            "`respect_manual_edits` (never overwrite a value someone changed by hand)."
        ),
        "options": (
            "Model value → picklist value (API name and label). Every value the model can emit "
            "needs one; crm_sync owns exactly these values on a tag field."
        ),
        "triggers": "Optional workflow plumbing beyond record-triggered flows.",
    },
    "HubSpotTriggers": {
        "lists": (
            "Model value → name of a MANUAL contact/company list kept in sync (Lists v3): records "
            "holding the value are added, records losing it removed. Missing lists are created."
        ),
        "workflow_enrollment": (
            "Model value → legacy (v2) workflow id: contacts that gain the value are enrolled "
            "(contacts only, by e-mail; a HubSpot limit)."
        ),
    },
    "SalesforceTriggers": {
        "campaigns": (
            "Model value → Campaign Id (`701…`): records holding the value are kept as "
            "CampaignMembers, with the campaign's default member status."
        ),
        "flow": (
            "API name of an active autolaunched Flow invoked once per changed record "
            "(input variable `recordId`)."
        ),
    },
}
"""Admin-facing text for mapping-file keys (``_root`` holds the top-level keys)."""

_TITLES: dict[str, str] = {
    "ModelFile": "Model file (top level)",
    "FieldSpec": "Field",
    "MetricSpec": "Metric",
    "MetricFilter": "Metric filter",
    "DerivedSpec": "Derived value",
    "AbcSpec": "ABC classes",
    "PeerMedianSpec": "Peer median",
    "ChainSpec": "Chain roll-up",
    "SegmentSetSpec": "Segment set",
    "RuleSpec": "Rule",
    "OtherwiseSpec": "Catch-all",
    "TagSetSpec": "Tag set",
    "TagRuleSpec": "Tag rule",
    "LifecycleSpec": "Lifecycle",
    "TransitionSpec": "Transition",
    "HubSpotMapping": "HubSpot mapping file (top level)",
    "SalesforceMapping": "Salesforce mapping file (top level)",
    "HubSpotObjects": "Objects",
    "SalesforceObjects": "Objects",
    "ObjectTarget": "Object target",
    "LeadRouting": "Lead routing",
    "PullField": "Pull field",
    "HubSpotProperty": "Property",
    "SalesforceField": "Field",
    "OptionSpec": "Option",
    "HubSpotTriggers": "Triggers",
    "SalesforceTriggers": "Triggers",
}

_PATTERN_WORDS: dict[str, str] = {
    r"^[A-Za-z_][A-Za-z0-9_]*$": "name",
    r"^[A-Za-z_{][A-Za-z0-9_{}]*$": "name (may hold `{placeholder}`)",
    r"^[1-9][0-9]{0,3}[dwmy]$": "window: `90d`, `8w`, `12m`, `2y`",
    r"^[a-z][a-z0-9_]*$": "lower-case name",
    r"^[A-Za-z][A-Za-z0-9_]*__c$": "custom field name ending in `__c`",
    r"^[A-Za-z][A-Za-z0-9_]*$": "API name",
    r"^[A-Za-z][A-Za-z0-9_.]*$": "API name",
    r"^701[A-Za-z0-9]{12,15}$": "Campaign Id (`701…`)",
}


# -- JSON Schema --------------------------------------------------------------------------------


def _fill_descriptions(schema: dict[str, Any]) -> None:
    """Inject :data:`MAPPING_DESCRIPTIONS` where a mapping key has no description of its own."""
    targets: list[tuple[str, dict[str, Any]]] = [("_root", schema)]
    targets += list(schema.get("$defs", {}).items())
    for name, node in targets:
        texts = MAPPING_DESCRIPTIONS.get(name, {})
        for key, prop in node.get("properties", {}).items():
            if "description" not in prop and key in texts:
                prop["description"] = texts[key]


def _schema_for(cls: type[BaseModel], file_name: str) -> dict[str, Any]:
    schema = copy.deepcopy(cls.model_json_schema())
    _fill_descriptions(schema)
    out: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"https://crm-sync.invalid/schemas/{file_name}",
    }
    out.update(schema)
    return out


def json_schemas() -> dict[str, dict[str, Any]]:
    """Every schema file's content, by file name (see :data:`SCHEMA_FILES`)."""
    return {name: _schema_for(cls, name) for name, cls in SCHEMA_FILES.items()}


def render_schema_file(schema: dict[str, Any]) -> str:
    """The exact text written to disk (stable key order, trailing newline)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(out_dir: Path) -> list[Path]:
    """Write every schema under ``out_dir``; return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        path = out_dir / name
        path.write_text(render_schema_file(schema), encoding="utf-8")
        written.append(path)
    return written


def _walk_properties(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    yield from (("_root", k, v) for k, v in schema.get("properties", {}).items())
    for name, node in schema.get("$defs", {}).items():
        yield from ((name, k, v) for k, v in node.get("properties", {}).items())


def undocumented_keys() -> list[str]:
    """``file: Class.key`` for every key whose schema carries no description (should be empty)."""
    missing = []
    for file_name, schema in json_schemas().items():
        for owner, key, prop in _walk_properties(schema):
            if not prop.get("description"):
                missing.append(f"{file_name}: {owner}.{key}")
    return missing


# -- Markdown rendering -------------------------------------------------------------------------


def _md(text: str) -> str:
    """Docstring text (reST-ish) as Markdown: double backticks become single ones."""
    return text.replace("``", "`").strip()


def _cell(text: str) -> str:
    """Text fit for a table cell: one line, pipes escaped."""
    return " ".join(_md(text).split()).replace("|", "\\|")


def _anchor(prefix: str, def_name: str) -> str:
    return f"{prefix}-{def_name.lower()}"


def _ref_name(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _literal(value: Any) -> str:
    return f"`{json.dumps(value) if not isinstance(value, str) else value}`"


def _type_text(node: dict[str, Any], link: Callable[[str], str]) -> str:
    """A short, admin-readable type for a JSON Schema fragment, linking to other sections."""
    ref = _ref_name(node)
    if ref is not None:
        return link(ref)
    if "const" in node:
        return _literal(node["const"])
    if "enum" in node:
        return " or ".join(_literal(v) for v in node["enum"])
    if "anyOf" in node:
        parts = [p for p in node["anyOf"] if p.get("type") != "null"]
        texts = list(dict.fromkeys(_type_text(p, link) for p in parts))
        return " or ".join(texts)
    kind = node.get("type")
    if kind == "array":
        return f"list of {_type_text(node.get('items', {}), link)}"
    if kind == "object":
        keys = "name"
        names = node.get("propertyNames", {})
        if "enum" in names:
            keys = " / ".join(_literal(v) for v in names["enum"])
        extra = node.get("additionalProperties")
        inner: dict[str, Any] = extra if isinstance(extra, dict) else {}
        if not inner and "patternProperties" in node:
            pattern, inner = next(iter(node["patternProperties"].items()))
            keys = _PATTERN_WORDS.get(pattern, keys) if keys == "name" else keys
        if not inner:
            return "mapping"
        return f"map: {keys} → {_type_text(inner, link)}"
    if kind == "string":
        if node.get("format") == "date":
            return "date (`YYYY-MM-DD`)"
        pattern = node.get("pattern")
        if pattern:
            return _PATTERN_WORDS.get(pattern, f"text matching `{pattern}`")
        return "text"
    if kind == "integer":
        return "whole number"
    if kind == "number":
        return "number"
    if kind == "boolean":
        return "`true` or `false`"
    return "any"


def _default_text(prop: dict[str, Any], required: bool) -> str:
    if required:
        return "**required**"
    if "default" not in prop:
        return "optional"
    default = prop["default"]
    if default in (None, "", [], {}) or isinstance(default, dict):
        return "optional"
    return f"default {_literal(default)}"


def _sections(
    schema: dict[str, Any], root_name: str, root_path: str, prefix: str, *, skip: frozenset[str]
) -> list[str]:
    """One section per class reachable from the root, breadth first, with its key table."""
    defs: dict[str, Any] = schema.get("$defs", {})
    order: list[str] = [root_name]
    paths: dict[str, str] = {root_name: root_path}
    nodes: dict[str, dict[str, Any]] = {root_name: schema, **defs}

    def children(node: dict[str, Any], path: str) -> Iterator[tuple[str, str]]:
        ref = _ref_name(node)
        if ref is not None:
            yield ref, path
            return
        for sub in node.get("anyOf", []):
            yield from children(sub, path)
        if node.get("type") == "array":
            yield from children(node.get("items", {}), f"{path}[]")
        if node.get("type") == "object":
            names = node.get("propertyNames", {})
            key = "company|contact" if "enum" in names else "NAME"
            inner = node.get("additionalProperties")
            if isinstance(inner, dict):
                yield from children(inner, f"{path}.{key}")
            for sub in node.get("patternProperties", {}).values():
                yield from children(sub, f"{path}.{key if key != 'company|contact' else 'NAME'}")

    also: dict[str, list[str]] = {}
    i = 0
    while i < len(order):
        name = order[i]
        i += 1
        for key, prop in nodes[name].get("properties", {}).items():
            base = paths[name]
            for ref, path in children(prop, f"{base}.{key}" if base else key):
                if ref in skip:
                    continue
                if ref not in paths:
                    paths[ref] = path
                    order.append(ref)
                elif path != paths[ref] and path.rsplit(".", 1)[0] == paths[ref].rsplit(".", 1)[0]:
                    also.setdefault(ref, []).append(path.rsplit(".", 1)[1])

    def link(ref: str) -> str:
        if ref in skip or ref not in nodes:
            return f"[{ref}](#{_anchor(prefix, ref)})"
        return f"[{_TITLES.get(ref, ref).lower()}](#{_anchor(prefix, ref)})"

    out: list[str] = []
    for name in order:
        node = nodes[name]
        title = _TITLES.get(name, name)
        shown = paths[name]
        if name in also:  # siblings of one parent: objects.company|contact
            shown = "|".join([shown, *also[name]])
        where = f" — `{shown}`" if shown else ""
        out.append(f"### {title}{where} {{#{_anchor(prefix, name)}}}\n")
        if node.get("description"):
            out.append(_md(node["description"]) + "\n")
        required = set(node.get("required", []))
        rows = ["| Key | Value | Required / default | Meaning |", "|---|---|---|---|"]
        for key, prop in node.get("properties", {}).items():
            rows.append(
                f"| `{key}` | {_cell(_type_text(prop, link))} | "
                f"{_default_text(prop, key in required)} | {_cell(prop.get('description', ''))} |"
            )
        out.append("\n".join(rows) + "\n")
    return out


def _activity_section_link(ref: str) -> str:
    return "[activity type](#activity-types)"


def render_model_keys() -> str:
    """Every key of the model file, one table per section of the file."""
    schema = json_schemas()["model.schema.json"]
    skip = frozenset({"ActivityType"})
    body = _sections(schema, "ModelFile", "", "model", skip=skip)
    text = "\n".join(body)
    # The activity-type enum is documented in its own table below; link there.
    return text.replace("[ActivityType](#model-activitytype)", "[activity type](#activity-types)")


def render_activity_types() -> str:
    """The closed list of activity types metrics can aggregate, with their attributes."""
    rows = ["| Type | Meaning | Attributes it may carry |", "|---|---|---|"]
    for kind, (meaning, attrs) in ACTIVITY_DOCS.items():
        attr_text = ", ".join(f"`{a}`" for a in sorted(attrs)) or "—"
        rows.append(f"| `{kind.value}` | {_cell(meaning)} | {attr_text} |")
    return "\n".join(rows) + "\n"


def render_functions() -> str:
    """The function library, from :data:`crm_sync.rules.expr.functions.FUNCTIONS`."""
    rows = ["| Function | What it does | Example |", "|---|---|---|"]
    for fn in FUNCTIONS.values():
        rows.append(f"| `{fn.signature}` | {_cell(fn.description)} | `{fn.example}` |")
    return "\n".join(rows) + "\n"


def render_mapping_keys(crm: str) -> str:
    """Every key of one CRM's mapping file."""
    file_name = f"{crm}-mapping.schema.json"
    schema = json_schemas()[file_name]
    root = "HubSpotMapping" if crm == "hubspot" else "SalesforceMapping"
    return "\n".join(_sections(schema, root, "", crm, skip=frozenset()))


def _command_rows(group: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    for name in sorted(group.commands):
        command = group.commands[name]
        full = f"{prefix} {name}"
        if hasattr(command, "commands"):
            yield from _command_rows(command, full)
        else:
            yield full, command


def render_commands() -> str:
    """Every ``crm-sync`` command with its arguments and options, from the CLI itself."""
    import typer  # noqa: PLC0415 - only the docs generator needs the CLI tree

    from crm_sync.cli.main import app  # noqa: PLC0415 - importing registers every command

    out: list[str] = []
    for full, command in _command_rows(typer.main.get_command(app), "crm-sync"):
        args = " ".join(p.name.upper() for p in command.params if p.param_type_name == "argument")
        out.append(f"### `{full}{' ' + args if args else ''}`\n")
        help_text = (command.help or "").strip().split("\n\n")[0]
        out.append(_md(" ".join(help_text.split())) + "\n")
        rows = ["| Option | Meaning | Default |", "|---|---|---|"]
        for param in command.params:
            if param.param_type_name != "option" or param.name == "help":
                continue
            name = "/".join(param.opts)
            if not getattr(param, "is_flag", False):
                name += f" {param.metavar or param.name.upper()}" if param.metavar else " VALUE"
            default = param.default
            shown = "" if default in (None, False, (), []) else f"`{default}`"
            if getattr(param, "multiple", False):
                shown = (shown + " " if shown else "") + "(repeatable)"
            rows.append(f"| `{name}` | {_cell(param.help or '')} | {shown} |")
        if len(rows) > 2:
            out.append("\n".join(rows) + "\n")
    return "\n".join(out)


def generated_sections() -> dict[str, dict[str, Callable[[], str]]]:
    """Docs page (relative to ``docs/``) → generated section name → renderer."""
    return {
        "reference/model.md": {
            "model-keys": render_model_keys,
            "activity-types": render_activity_types,
        },
        "reference/rule-language.md": {"functions": render_functions},
        "reference/commands.md": {"commands": render_commands},
        "reference/mapping.md": {
            "hubspot-keys": lambda: render_mapping_keys("hubspot"),
            "salesforce-keys": lambda: render_mapping_keys("salesforce"),
        },
    }


_SECTION_RE = re.compile(
    r"(<!-- BEGIN GENERATED: (?P<name>[a-z-]+) [^\n]*-->\n)(?P<body>.*?)(<!-- END GENERATED: (?P=name) -->)",
    re.DOTALL,
)


def replace_sections(text: str, renderers: dict[str, Callable[[], str]], page: str) -> str:
    """``text`` with every generated section re-rendered; a missing marker is an error."""
    found: set[str] = set()

    def sub(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in renderers:
            msg = f"{page}: unknown generated section '{name}'"
            raise ValueError(msg)
        found.add(name)
        return f"{match.group(1)}\n{renderers[name]().rstrip()}\n\n{match.group(4)}"

    new = _SECTION_RE.sub(sub, text)
    missing = sorted(set(renderers) - found)
    if missing:
        msg = f"{page}: missing markers for generated section(s) {', '.join(missing)}"
        raise ValueError(msg)
    return new


def regenerate_docs(docs_dir: Path, *, write: bool = True) -> list[Path]:
    """Re-render every generated section under ``docs_dir``; return the pages that changed."""
    changed = []
    for page, renderers in generated_sections().items():
        path = docs_dir / page
        old = path.read_text(encoding="utf-8")
        new = replace_sections(old, renderers, page)
        if new != old:
            changed.append(path)
            if write:
                path.write_text(new, encoding="utf-8")
    return changed
