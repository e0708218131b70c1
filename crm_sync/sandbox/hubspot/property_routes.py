"""Properties API v3 routes: properties and property groups (facts §3.1–3.4, Gotcha 6, 10).

Refusals a real portal makes and a sloppy fake would not: missing required fields, a type that
does not pair with the fieldType, an option lacking ``label``/``value``/``hidden``, duplicate
option values, an unknown group, a second property or group of the same name (409), more than
10 unique properties per object, changing ``hasUniqueValue`` after creation, and editing or
archiving a read-only HubSpot-defined property. PATCH replaces the whole ``options`` list.
"""

from __future__ import annotations

import re
from typing import Any

from crm_sync.sandbox.http import Request, Response, Router
from crm_sync.sandbox.hubspot.errors import fail, not_found, validation_error
from crm_sync.sandbox.hubspot.properties import FIELD_TYPES, PropertyDef, iso_ms, resolve_type
from crm_sync.sandbox.hubspot.state import Portal

__all__ = ["add_property_routes"]

MAX_UNIQUE = 10  # facts §2.3
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")  # facts §3.6 safe reading [UNVERIFIED]


def _type(name: str) -> str:
    resolved = resolve_type(name)
    if resolved is None:
        raise validation_error(f"Unable to infer object type from: {name}")
    return resolved


def _json(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError as exc:
        raise validation_error(f"Invalid input JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise validation_error("Invalid input JSON: expected an object")
    return body


def _options(raw: Any) -> list[dict[str, Any]]:
    """Validate an options list (``OptionInput`` requires label, value, hidden — facts §3.2)."""
    if not isinstance(raw, list):
        raise validation_error("options must be a list")
    seen: set[str] = set()
    out = []
    for i, option in enumerate(raw):
        if not isinstance(option, dict):
            raise validation_error(f"options[{i}] must be an object")
        missing = [k for k in ("label", "value", "hidden") if k not in option]
        if missing:
            raise validation_error(
                f"options[{i}] is missing required field(s): {', '.join(missing)}",
                errors=[
                    {"message": f"{k} is required", "in": f"options[{i}].{k}"} for k in missing
                ],
            )
        value = option["value"]
        if not isinstance(value, str) or not value or not isinstance(option["label"], str):
            raise validation_error(f"options[{i}]: label and value must be non-empty strings")
        if not isinstance(option["hidden"], bool):
            raise validation_error(f"options[{i}].hidden must be a boolean")
        if value in seen:
            raise validation_error(f"Duplicate option value {value!r}")
        seen.add(value)
        out.append(
            {
                "label": option["label"],
                "value": value,
                "displayOrder": option.get("displayOrder", i),
                "hidden": option["hidden"],
                **({"description": option["description"]} if "description" in option else {}),
            }
        )
    return out


def add_property_routes(router: Router, portal: Portal) -> None:
    """Register ``/crm/v3/properties/...``."""

    def now() -> str:
        return iso_ms(portal.now_ms())

    def build(object_type: str, body: dict[str, Any]) -> PropertyDef:
        missing = [
            k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)
        ]
        if missing:
            raise validation_error(
                f"Missing required field(s): {', '.join(missing)}",
                errors=[{"message": f"{k} is required", "in": k} for k in missing],
            )
        name, ptype, ftype = body["name"], body["type"], body["fieldType"]
        if not isinstance(name, str) or not _NAME.match(name):
            raise validation_error(
                f"Invalid property name {name!r}: use lowercase letters, digits and underscores"
            )
        if ptype not in FIELD_TYPES:
            raise validation_error(f"Invalid type {ptype!r}; expected one of {sorted(FIELD_TYPES)}")
        if ftype not in FIELD_TYPES[ptype]:
            raise validation_error(
                f"fieldType {ftype!r} is not valid for type {ptype!r}; use one of {sorted(FIELD_TYPES[ptype])}"
            )
        if body["groupName"] not in portal.groups[object_type]:
            raise validation_error(f"Property group {body['groupName']!r} does not exist")
        defs = portal.properties[object_type]
        if name in defs and not defs[name].archived:
            raise fail(409, "OBJECT_ALREADY_EXISTS", f"Property named {name!r} already exists.")
        unique = bool(body.get("hasUniqueValue", False))
        if (
            unique
            and sum(p.has_unique_value for p in defs.values() if not p.archived) >= MAX_UNIQUE
        ):
            raise validation_error(f"An object can have at most {MAX_UNIQUE} unique properties")
        options = _options(body.get("options", [])) if ptype in ("enumeration", "bool") else []
        if ptype == "bool" and not options:
            options = [
                {"label": "Yes", "value": "true", "displayOrder": 0, "hidden": False},
                {"label": "No", "value": "false", "displayOrder": 1, "hidden": False},
            ]
        stamp = now()
        return PropertyDef(
            name=name,
            label=str(body["label"]),
            type=ptype,
            field_type=ftype,
            group_name=body["groupName"],
            options=options,
            description=str(body.get("description", "")),
            display_order=int(body.get("displayOrder", -1)),
            has_unique_value=unique,
            hidden=bool(body.get("hidden", False)),
            created_at=stamp,
            updated_at=stamp,
        )

    def get_def(object_type: str, name: str) -> PropertyDef:
        defn = portal.properties[object_type].get(name)
        if defn is None or defn.archived:
            raise not_found(f"Property {name} does not exist")
        return defn

    def list_all(request: Request, type: str) -> Response:  # noqa: A002
        archived = (request.arg("archived") or "false").lower() == "true"
        defs = portal.properties[_type(type)].values()
        return Response.json(
            200, {"results": [d.to_json() for d in defs if d.archived == archived]}
        )

    def create(request: Request, type: str) -> Response:  # noqa: A002
        object_type = _type(type)
        with portal.lock:
            defn = build(object_type, _json(request))
            portal.properties[object_type][defn.name] = defn
            return Response.json(201, defn.to_json())

    def get_one(request: Request, type: str, name: str) -> Response:  # noqa: A002
        return Response.json(200, get_def(_type(type), name).to_json())

    def patch(request: Request, type: str, name: str) -> Response:  # noqa: A002
        object_type = _type(type)
        body = _json(request)
        with portal.lock:
            defn = get_def(object_type, name)
            if defn.read_only_definition:
                raise validation_error(f"Property {name} is read-only and cannot be modified")
            if "hasUniqueValue" in body and bool(body["hasUniqueValue"]) != defn.has_unique_value:
                raise validation_error("hasUniqueValue can only be set when a property is created")
            ptype = body.get("type", defn.type)
            ftype = body.get("fieldType", defn.field_type)
            if ptype not in FIELD_TYPES or ftype not in FIELD_TYPES[ptype]:
                raise validation_error(f"fieldType {ftype!r} is not valid for type {ptype!r}")
            if "groupName" in body and body["groupName"] not in portal.groups[object_type]:
                raise validation_error(f"Property group {body['groupName']!r} does not exist")
            if "options" in body:
                defn.options = _options(body["options"])  # the whole list is replaced (facts §3.4)
            defn.type, defn.field_type = ptype, ftype
            for key, attr in (
                ("label", "label"),
                ("description", "description"),
                ("groupName", "group_name"),
            ):
                if key in body:
                    setattr(defn, attr, body[key])
            if "hidden" in body:
                defn.hidden = bool(body["hidden"])
            if "displayOrder" in body:
                defn.display_order = int(body["displayOrder"])
            defn.updated_at = now()
            return Response.json(200, defn.to_json())

    def archive(request: Request, type: str, name: str) -> Response:  # noqa: A002
        with portal.lock:
            defn = get_def(_type(type), name)
            if defn.hubspot_defined:
                raise validation_error(f"Property {name} is HubSpot-defined and cannot be archived")
            defn.archived = True
        return Response(204)

    def batch_create(request: Request, type: str) -> Response:  # noqa: A002
        object_type = _type(type)
        inputs = _json(request).get("inputs")
        if not isinstance(inputs, list) or not inputs or len(inputs) > 100:
            raise validation_error("inputs must hold between 1 and 100 properties")
        with portal.lock:
            built = [build(object_type, i if isinstance(i, dict) else {}) for i in inputs]
            if len({d.name for d in built}) != len(built):
                raise validation_error("Duplicate property names in batch input")
            for defn in built:
                portal.properties[object_type][defn.name] = defn
        body = {
            "status": "COMPLETE",
            "results": [d.to_json() for d in built],
            "startedAt": now(),
            "completedAt": now(),
        }
        return Response.json(201, body)

    def batch_read(request: Request, type: str) -> Response:  # noqa: A002
        object_type = _type(type)
        inputs = _json(request).get("inputs") or []
        defs = portal.properties[object_type]
        names = [str(i.get("name")) for i in inputs if isinstance(i, dict)]
        found = [defs[n].to_json() for n in names if n in defs and not defs[n].archived]
        return Response.json(
            200, {"status": "COMPLETE", "results": found, "startedAt": now(), "completedAt": now()}
        )

    def batch_archive(request: Request, type: str) -> Response:  # noqa: A002
        object_type = _type(type)
        with portal.lock:
            for item in _json(request).get("inputs") or []:
                defn = portal.properties[object_type].get(str(item.get("name")))
                if defn is not None and not defn.hubspot_defined:
                    defn.archived = True
        return Response(204)

    # -- groups -------------------------------------------------------------------------------
    def list_groups(request: Request, type: str) -> Response:  # noqa: A002
        groups = portal.groups[_type(type)].values()
        return Response.json(200, {"results": [dict(g) for g in groups if not g["archived"]]})

    def create_group(request: Request, type: str) -> Response:  # noqa: A002
        object_type = _type(type)
        body = _json(request)
        missing = [k for k in ("name", "label") if not body.get(k)]
        if missing:
            raise validation_error(f"Missing required field(s): {', '.join(missing)}")
        with portal.lock:
            existing = portal.groups[object_type].get(body["name"])
            if existing is not None and not existing["archived"]:
                raise fail(
                    409,
                    "OBJECT_ALREADY_EXISTS",
                    f"A property group named {body['name']!r} already exists.",
                )
            group = {
                "name": body["name"],
                "label": body["label"],
                "displayOrder": int(body.get("displayOrder", -1)),
                "archived": False,
            }
            portal.groups[object_type][body["name"]] = group
        return Response.json(201, dict(group))

    def get_group(request: Request, type: str, name: str) -> Response:  # noqa: A002
        group = portal.groups[_type(type)].get(name)
        if group is None or group["archived"]:
            raise not_found(f"Property group {name} does not exist")
        return Response.json(200, dict(group))

    def patch_group(request: Request, type: str, name: str) -> Response:  # noqa: A002
        body = _json(request)
        with portal.lock:
            group = portal.groups[_type(type)].get(name)
            if group is None or group["archived"]:
                raise not_found(f"Property group {name} does not exist")
            group.update({k: body[k] for k in ("label", "displayOrder") if k in body})
            return Response.json(200, dict(group))

    def archive_group(request: Request, type: str, name: str) -> Response:  # noqa: A002
        object_type = _type(type)
        with portal.lock:
            group = portal.groups[object_type].get(name)
            if group is None or group["archived"]:
                raise not_found(f"Property group {name} does not exist")
            group["archived"] = True
        return Response(204)

    base = "/crm/v3/properties/{type}"
    router.add("GET", f"{base}/groups", list_groups)
    router.add("POST", f"{base}/groups", create_group)
    router.add("GET", f"{base}/groups/{{name}}", get_group)
    router.add("PATCH", f"{base}/groups/{{name}}", patch_group)
    router.add("DELETE", f"{base}/groups/{{name}}", archive_group)
    router.add("POST", f"{base}/batch/create", batch_create)
    router.add("POST", f"{base}/batch/read", batch_read)
    router.add("POST", f"{base}/batch/archive", batch_archive)
    router.add("GET", base, list_all)
    router.add("POST", base, create)
    router.add("GET", f"{base}/{{name}}", get_one)
    router.add("PATCH", f"{base}/{{name}}", patch)
    router.add("DELETE", f"{base}/{{name}}", archive)
