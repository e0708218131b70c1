"""CRM v3 object routes: list/get/create/patch/archive and the five batch endpoints.

Batch semantics (facts §2.2–2.5, Gotchas 4, 5, 7, 10):

* at most 100 inputs, else a whole-request 400; duplicate ids are a 400 too;
* any invalid property value (unknown, read-only, bad option, non-string …) fails the **whole**
  batch with 400 ``VALIDATION_ERROR`` and the ``Property values were not valid: [...]`` message —
  nothing is written;
* unknown ids in read/update answer 207 with one ``OBJECT_NOT_FOUND`` item listing the ids;
* batch create is all-or-nothing unless **every** input carries an ``objectWriteTraceId``; then
  bad inputs become 207 error items keyed by their trace id and the rest are created;
* upsert needs a unique ``idProperty`` (``hasUniqueValue`` or contact ``email``); anything else,
  ``hs_object_id`` included, is the documented "non-unique" 400. Update by ``email`` is refused
  the same way (facts §2.3, reported [3P]; the stricter reading).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from crm_sync.sandbox.http import HttpError, Request, Response, Router
from crm_sync.sandbox.hubspot.errors import (
    batch_too_large,
    fail,
    not_found,
    property_validation_error,
    standard_error,
    validation_error,
)
from crm_sync.sandbox.hubspot.properties import (
    OBJECT_TYPES,
    check_value,
    created_property,
    iso_ms,
    modified_property,
    resolve_type,
)
from crm_sync.sandbox.hubspot.state import HsObject, Portal, default_properties

__all__ = ["add_object_routes", "validate_properties"]

BATCH_LIMIT = 100
LIST_LIMIT = 100  # facts §2.2: list default 10, max 100 [3P]

Attach = Callable[[HsObject, dict[str, Any], list[str]], dict[str, Any]]


def validate_properties(
    portal: Portal, object_type: str, props: Any
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Normalise written values; return them with the per-property error items."""
    if not isinstance(props, dict):
        return {}, [
            {
                "isValid": False,
                "message": "properties must be an object",
                "error": "INVALID_INPUT",
                "name": "properties",
            }
        ]
    defs = portal.properties[object_type]
    clean: dict[str, str] = {}
    errors: list[dict[str, Any]] = []
    for name, value in props.items():
        stored, error = check_value(defs.get(name), name, value)
        if error is not None:
            errors.append(error)
        else:
            clean[name] = stored
    return clean, errors


def _type(name: str) -> str:
    resolved = resolve_type(name)
    if resolved is None:
        raise fail(400, "VALIDATION_ERROR", f"Unable to infer object type from: {name}")
    return resolved


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError as exc:
        raise validation_error(f"Invalid input JSON on line 1: {exc}") from exc
    if not isinstance(body, dict):
        raise validation_error("Invalid input JSON: expected an object")
    return body


def _inputs(body: dict[str, Any]) -> list[dict[str, Any]]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise validation_error("Invalid input JSON: 'inputs' must be a list of objects")
    if not inputs or len(inputs) > BATCH_LIMIT:
        raise batch_too_large(len(inputs), BATCH_LIMIT)
    return inputs


def _no_duplicates(ids: list[str]) -> None:
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise validation_error(
            f"Duplicate IDs found in batch input: [{', '.join(dupes)}]. IDs must be unique",
            context={"ids": dupes},
        )


def _non_unique(portal: Portal, object_type: str, prop: str) -> HttpError:
    type_id = OBJECT_TYPES[object_type][0]
    return validation_error(
        f"Unable to perform update/upsert by non-unique {type_id} property {prop}"
    )


def _props_arg(request: Request) -> list[str] | None:
    values = request.query.get("properties")
    if not values:
        return None
    return [p for v in values for p in v.split(",") if p]


def _missing(object_type: str, ids: list[str]) -> dict[str, Any]:
    label = OBJECT_TYPES[object_type][1].upper()
    return standard_error(
        "OBJECT_NOT_FOUND",
        f"Could not get some {label} objects, they may be deleted or not exist. Check that ids are valid.",
        context={"ids": ids},
    )


def _batch(
    portal: Portal,
    started: str,
    results: list[dict[str, Any]],
    errors: list[dict[str, Any]],
    *,
    ok: int,
) -> Response:
    """``BatchResponse``: ``ok`` when clean, 207 with ``numErrors``/``errors`` otherwise (facts §2.4)."""
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": started,
        "completedAt": iso_ms(portal.now_ms()),
    }
    if errors:
        body |= {"numErrors": len(errors), "errors": errors}
        return Response.json(207, body)
    return Response.json(ok, body)


def add_object_routes(router: Router, portal: Portal, attach: Attach) -> None:
    """Register ``/crm/v3/objects/...``; ``attach`` adds ``?associations=`` data to a read."""

    def conflict_for(object_type: str, props: dict[str, str], own_id: str | None) -> str | None:
        for prop in portal.unique_properties(object_type):
            value = props.get(prop)
            found = portal.find_unique(object_type, prop, value) if value else None
            if found is not None and found.id != own_id:
                return found.id
        return None

    def lookup(object_type: str, key: str, id_property: str | None) -> HsObject | None:
        if id_property is None or id_property == "hs_object_id":
            return portal.live(object_type, key)
        if id_property not in portal.unique_properties(object_type):
            raise _non_unique(portal, object_type, id_property)
        return portal.find_unique(object_type, id_property, key)

    def render(obj: HsObject, request: Request) -> dict[str, Any]:
        """Requested properties (plus id and dates, as HubSpot adds them) or the defaults."""
        names = _props_arg(request)
        if names is not None:
            base = [
                "hs_object_id",
                created_property(obj.object_type),
                modified_property(obj.object_type),
            ]
            names = list(dict.fromkeys([*base, *names]))
        out = obj.to_json(names)
        wanted = [a for v in request.query.get("associations", []) for a in v.split(",") if a]
        return attach(obj, out, wanted) if wanted else out

    def _defaults(obj: HsObject) -> list[str]:
        return list(default_properties(obj.object_type))

    # -- single-record routes -----------------------------------------------------------------
    def list_page(request: Request, type: str) -> Response:  # noqa: A002
        object_type = _type(type)
        limit = int(request.arg("limit", "10") or 10)
        if limit > LIST_LIMIT:
            raise validation_error(f"limit must be at most {LIST_LIMIT}")
        archived = (request.arg("archived", "false") or "false").lower() == "true"
        after = int(request.arg("after", "0") or 0)
        with portal.lock:
            rows = [
                o
                for o in portal.objects[object_type].values()
                if o.archived == archived and int(o.id) > after
            ]
            rows.sort(key=lambda o: int(o.id))
            page = rows[:limit]
            body: dict[str, Any] = {"results": [render(o, request) for o in page]}
        if len(rows) > limit:
            body["paging"] = {"next": {"after": page[-1].id, "link": f"?after={page[-1].id}"}}
        return Response.json(200, body)

    def create_one(request: Request, type: str) -> Response:  # noqa: A002
        object_type = _type(type)
        body = _body(request)
        with portal.lock:
            clean, errors = validate_properties(portal, object_type, body.get("properties", {}))
            if errors:
                raise property_validation_error(errors)
            existing = conflict_for(object_type, clean, None)
            if existing is not None:
                raise _conflict(object_type, existing)
            obj = portal.create(object_type, clean)
            return Response.json(201, obj.to_json([*_defaults(obj), *clean]))

    def get_one(request: Request, type: str, id: str) -> Response:  # noqa: A002
        object_type, id = _type(type), unquote(id)  # noqa: A001
        with portal.lock:
            obj = lookup(object_type, id, request.arg("idProperty"))
            if obj is None and (request.arg("archived") or "").lower() == "true":
                obj = portal.objects[object_type].get(id)
            if obj is None:
                raise not_found()
            return Response.json(200, render(obj, request))

    def patch_one(request: Request, type: str, id: str) -> Response:  # noqa: A002
        object_type, id = _type(type), unquote(id)  # noqa: A001
        body = _body(request)
        with portal.lock:
            obj = lookup(object_type, id, request.arg("idProperty"))
            if obj is None:
                raise not_found()
            clean, errors = validate_properties(portal, object_type, body.get("properties", {}))
            if errors:
                raise property_validation_error(errors)
            existing = conflict_for(object_type, clean, obj.id)
            if existing is not None:
                raise _conflict(object_type, existing)
            portal.write(obj, clean)
            return Response.json(200, obj.to_json([*_defaults(obj), *clean]))

    def delete_one(request: Request, type: str, id: str) -> Response:  # noqa: A002
        object_type = _type(type)
        obj = portal.live(object_type, id)
        if obj is not None:
            portal.archive(obj)
        return Response(204)

    # -- batch routes -------------------------------------------------------------------------
    def batch_read(request: Request, type: str) -> Response:  # noqa: A002
        object_type = _type(type)
        body = _body(request)
        inputs = _inputs(body)
        id_property = body.get("idProperty")
        keys = [str(i.get("id", "")) for i in inputs]
        _no_duplicates(keys)
        names = body.get("properties") or None
        started = iso_ms(portal.now_ms())
        results, missing = [], []
        with portal.lock:
            for key in keys:
                obj = lookup(object_type, key, id_property)
                if obj is None:
                    missing.append(key)
                else:
                    results.append(obj.to_json(names))
        errors = [_missing(object_type, missing)] if missing else []
        return _batch(portal, started, results, errors, ok=200)

    def batch_create(request: Request, type: str) -> Response:  # noqa: A002
        object_type = _type(type)
        inputs = _inputs(_body(request))
        traced = all(
            isinstance(i.get("objectWriteTraceId"), str) and i["objectWriteTraceId"] for i in inputs
        )
        started = iso_ms(portal.now_ms())
        with portal.lock:
            planned: list[tuple[dict[str, Any], dict[str, str]]] = []
            errors: list[dict[str, Any]] = []
            all_items: list[dict[str, Any]] = []
            conflicts: list[str] = []
            claimed: dict[tuple[str, str], int] = {}
            for position, item in enumerate(inputs):
                clean, items = validate_properties(portal, object_type, item.get("properties", {}))
                trace = (
                    {"objectWriteTraceId": [str(item.get("objectWriteTraceId"))]}
                    if traced
                    else None
                )
                if items:
                    all_items += items
                    errors.append(
                        standard_error("VALIDATION_ERROR", _embedded(items), context=trace)
                    )
                    continue
                existing = conflict_for(object_type, clean, None)
                for prop in portal.unique_properties(object_type):
                    value = clean.get(prop)
                    key = (prop, value.lower() if value and prop == "email" else value or "")
                    if value and key in claimed and existing is None:
                        existing = f"(input {claimed[key]} of this batch)"
                    if value:
                        claimed.setdefault(key, position)
                if existing is not None:
                    conflicts.append(existing)
                    errors.append(
                        standard_error(
                            "CONFLICT", _conflict_message(object_type, existing), context=trace
                        )
                    )
                    continue
                planned.append((item, clean))
            if errors and not traced:
                if all_items:
                    raise property_validation_error(all_items)
                raise _conflict(object_type, conflicts[0])
            results = []
            for item, clean in planned:
                obj = portal.create(object_type, clean)
                out = obj.to_json([*_defaults(obj), *clean])
                if traced:
                    out["objectWriteTraceId"] = item["objectWriteTraceId"]
                results.append(out)
        return _batch(portal, started, results, errors, ok=201)

    def batch_update(request: Request, type: str) -> Response:  # noqa: A002
        object_type = _type(type)
        inputs = _inputs(_body(request))
        keys = [str(i.get("id", "")) for i in inputs]
        _no_duplicates(keys)
        started = iso_ms(portal.now_ms())
        with portal.lock:
            found: list[tuple[HsObject, dict[str, str]]] = []
            missing: list[str] = []
            bad: list[dict[str, Any]] = []
            for key, item in zip(keys, inputs, strict=True):
                id_property = item.get("idProperty")
                if id_property is not None and id_property != "hs_object_id":
                    raise _non_unique(portal, object_type, str(id_property))
                clean, items = validate_properties(portal, object_type, item.get("properties", {}))
                bad += items
                obj = portal.live(object_type, key)
                if obj is None:
                    missing.append(key)
                elif not items:
                    found.append((obj, clean))
            if bad:
                raise property_validation_error(bad)
            for obj, clean in found:
                existing = conflict_for(object_type, clean, obj.id)
                if existing is not None:
                    raise _conflict(object_type, existing)
            results = []
            for obj, clean in found:
                portal.write(obj, clean)
                results.append(obj.to_json([*_defaults(obj), *clean]))
        errors = [_missing(object_type, missing)] if missing else []
        return _batch(portal, started, results, errors, ok=200)

    def batch_upsert(request: Request, type: str) -> Response:  # noqa: A002
        object_type = _type(type)
        inputs = _inputs(_body(request))
        keys = [str(i.get("id", "")) for i in inputs]
        _no_duplicates(keys)
        started = iso_ms(portal.now_ms())
        with portal.lock:
            plan: list[tuple[dict[str, Any], str, str | None, HsObject | None, dict[str, str]]] = []
            bad: list[dict[str, Any]] = []
            missing: list[str] = []
            for key, item in zip(keys, inputs, strict=True):
                id_property = item.get("idProperty")
                if id_property is not None and id_property not in portal.unique_properties(
                    object_type
                ):
                    raise _non_unique(portal, object_type, str(id_property))
                clean, items = validate_properties(portal, object_type, item.get("properties", {}))
                if id_property is not None:
                    _stored, key_error = check_value(
                        portal.properties[object_type].get(id_property), id_property, key
                    )
                    if key_error is not None:
                        items.append(key_error)
                bad += items
                obj = lookup(object_type, key, id_property)
                if obj is None and id_property is None:
                    missing.append(key)
                    continue
                plan.append((item, key, id_property, obj, clean))
            if bad:
                raise property_validation_error(bad)
            results = []
            for item, key, id_property, obj, clean in plan:
                new = obj is None
                if obj is None:
                    assert id_property is not None
                    target = portal.create(object_type, {**clean, id_property: key})
                else:
                    target = obj
                    portal.write(target, clean)
                names = [*_defaults(target), *clean, *([id_property] if id_property else [])]
                out = target.to_json(names) | {"new": new}
                if item.get("objectWriteTraceId"):
                    out["objectWriteTraceId"] = item["objectWriteTraceId"]
                results.append(out)
        errors = [_missing(object_type, missing)] if missing else []
        return _batch(portal, started, results, errors, ok=200)

    def batch_archive(request: Request, type: str) -> Response:  # noqa: A002
        object_type = _type(type)
        inputs = _inputs(_body(request))
        with portal.lock:
            for item in inputs:
                obj = portal.live(object_type, str(item.get("id", "")))
                if obj is not None:
                    portal.archive(obj)
        return Response(204)

    base = "/crm/v3/objects/{type}"
    router.add("GET", base, list_page)
    router.add("POST", base, create_one)
    for name, handler in (
        ("read", batch_read),
        ("create", batch_create),
        ("update", batch_update),
        ("upsert", batch_upsert),
        ("archive", batch_archive),
    ):
        router.add("POST", f"{base}/batch/{name}", handler)
    router.add("GET", f"{base}/{{id}}", get_one)
    router.add("PATCH", f"{base}/{{id}}", patch_one)
    router.add("DELETE", f"{base}/{{id}}", delete_one)


def _embedded(items: list[dict[str, Any]]) -> str:
    return f"Property values were not valid: {json.dumps(items, separators=(',', ':'))}"


def _conflict_message(object_type: str, existing: str) -> str:
    label = OBJECT_TYPES[object_type][1].replace("_", " ").capitalize()
    return f"{label} already exists. Existing ID: {existing}"


def _conflict(object_type: str, existing: str) -> HttpError:
    """409 ``CONFLICT`` (facts §2.5: "Contact already exists. Existing ID: …")."""
    return fail(409, "CONFLICT", _conflict_message(object_type, existing))
