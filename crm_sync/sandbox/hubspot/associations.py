"""Associations v4: batch read (≤ 1,000 ids), batch create/default/archive, per-record routes.

Why the type table: every association has a direction-specific ``associationTypeId``. Reads
must echo the id a real portal would (facts §4.5: contact→company unlabeled is 279; call→contact
194; note→contact 202). The other ids below are the widely used HubSpot-defined values,
[UNVERIFIED] in the facts file — clients should read them from the labels endpoint, which this
sandbox serves from the same table, so a client that does so is correct either way.
"""

from __future__ import annotations

from typing import Any

from crm_sync.sandbox.http import Request, Response, Router
from crm_sync.sandbox.hubspot.errors import (
    batch_too_large,
    fail,
    not_found,
    standard_error,
    validation_error,
)
from crm_sync.sandbox.hubspot.properties import OBJECT_TYPES, iso_ms, resolve_type
from crm_sync.sandbox.hubspot.state import Portal

__all__ = ["HUBSPOT_DEFINED", "add_association_routes", "default_type", "link_default"]

READ_LIMIT = 1_000  # facts §2.2 (changelog 2025-02-10)
WRITE_LIMIT = 100  # facts §2.2 general batch limit (association writes: [UNVERIFIED] exact value)

# (from, to, typeId, reverse typeId, label or None for the unlabeled default)
HUBSPOT_DEFINED: list[tuple[str, str, int, int, str | None]] = [
    ("contacts", "companies", 279, 280, None),
    ("contacts", "companies", 1, 2, "Primary"),
    ("deals", "contacts", 3, 4, None),
    ("deals", "companies", 341, 342, None),
    ("deals", "companies", 5, 6, "Primary"),
    ("line_items", "deals", 20, 19, None),
    ("companies", "companies", 13, 14, "Child Company"),  # parent→child; reverse is the parent
    ("calls", "contacts", 194, 193, None),
    ("calls", "companies", 182, 181, None),
    ("calls", "deals", 206, 205, None),
    ("emails", "contacts", 198, 197, None),
    ("emails", "companies", 186, 185, None),
    ("emails", "deals", 210, 209, None),
    ("meetings", "contacts", 200, 199, None),
    ("meetings", "companies", 188, 187, None),
    ("meetings", "deals", 212, 211, None),
    ("notes", "contacts", 202, 201, None),
    ("notes", "companies", 190, 189, None),
    ("notes", "deals", 214, 213, None),
    ("tasks", "contacts", 204, 203, None),
    ("tasks", "companies", 192, 191, None),
    ("tasks", "deals", 216, 215, None),
]
_REVERSE_LABELS = {14: "Parent Company"}


def _directed(portal: Portal, a: str, b: str) -> list[tuple[str, int, int, str | None]]:
    """(category, typeId a→b, typeId b→a, label) for every type defined between ``a`` and ``b``."""
    out: list[tuple[str, int, int, str | None]] = []
    for frm, to, fwd, rev, label in HUBSPOT_DEFINED:
        if (frm, to) == (a, b):
            out.append(("HUBSPOT_DEFINED", fwd, rev, label))
        if (frm, to) == (b, a) and (a != b or fwd != rev):
            out.append(("HUBSPOT_DEFINED", rev, fwd, _REVERSE_LABELS.get(rev, label)))
    for frm, to, fwd, rev, label in portal.assoc_labels:
        if (frm, to) == (a, b):
            out.append(("USER_DEFINED", fwd, rev, label))
        elif (frm, to) == (b, a):
            out.append(("USER_DEFINED", rev, fwd, label))
    return out


def default_type(portal: Portal, a: str, b: str) -> tuple[int, int] | None:
    """The unlabeled default (a→b, b→a) type ids, or ``None`` when the pair has none."""
    for category, fwd, rev, label in _directed(portal, a, b):
        if category == "HUBSPOT_DEFINED" and label is None:
            return fwd, rev
    return None


def link_default(portal: Portal, a: tuple[str, str], b: tuple[str, str]) -> None:
    """Associate two records with their default type (used by seeding and batch routes)."""
    pair = default_type(portal, a[0], b[0])
    if pair is None:
        raise validation_error(f"No default association type from {a[0]} to {b[0]}")
    portal.associate(a, b, ("HUBSPOT_DEFINED", pair[0]), ("HUBSPOT_DEFINED", pair[1]))


def _label(portal: Portal, a: str, b: str, type_id: int) -> str | None:
    for _cat, fwd, _rev, label in _directed(portal, a, b):
        if fwd == type_id:
            return label
    return None


def _types_json(
    portal: Portal, a: str, b: str, types: set[tuple[str, int]]
) -> list[dict[str, Any]]:
    return [
        {"category": cat, "typeId": tid, "label": _label(portal, a, b, tid)}
        for cat, tid in sorted(types, key=lambda t: t[1])
    ]


def _types(request: Request, a: str, b: str) -> tuple[str, str]:
    frm, to = resolve_type(a), resolve_type(b)
    if frm is None or to is None:
        raise fail(400, "VALIDATION_ERROR", f"Unknown object type {a if frm is None else b}")
    return frm, to


def _inputs(request: Request, limit: int) -> list[dict[str, Any]]:
    try:
        body = request.json() or {}
    except ValueError as exc:
        raise validation_error(f"Invalid input JSON: {exc}") from exc
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise validation_error("Invalid input JSON: 'inputs' must be a list of objects")
    if not inputs or len(inputs) > limit:
        raise batch_too_large(len(inputs), limit)
    return inputs


def _spec_ids(portal: Portal, frm: str, to: str, specs: Any) -> tuple[set[int], set[int]]:
    """Validate ``[{associationCategory, associationTypeId}]``; return (a→b ids, b→a ids)."""
    known = {fwd: rev for _c, fwd, rev, _l in _directed(portal, frm, to)}
    if not isinstance(specs, list) or not specs:
        raise validation_error("types must be a non-empty list of association specs")
    fwd_ids: set[int] = set()
    for spec in specs:
        type_id = spec.get("associationTypeId") if isinstance(spec, dict) else None
        if not isinstance(type_id, int) or type_id not in known:
            raise validation_error(
                f"association type id {type_id} doesn't exist between {frm} and {to}"
            )
        fwd_ids.add(type_id)
    return fwd_ids, {known[t] for t in fwd_ids}


def add_association_routes(router: Router, portal: Portal) -> None:
    """Register the v4 association endpoints (facts §4.5)."""

    def now() -> str:
        return iso_ms(portal.now_ms())

    def require(object_type: str, object_id: str) -> None:
        if portal.live(object_type, str(object_id)) is None:
            raise not_found(f"No {OBJECT_TYPES[object_type][1]} with id {object_id} exists")

    def batch_read(request: Request, frm: str, to: str) -> Response:
        a, b = _types(request, frm, to)
        started = now()
        results, errors = [], []
        for item in _inputs(request, READ_LIMIT):
            from_id = str(item.get("id", ""))
            linked = portal.associated((a, from_id), b) if portal.live(a, from_id) else {}
            if not linked:
                errors.append(
                    standard_error(
                        "OBJECT_NOT_FOUND",
                        f"No {OBJECT_TYPES[b][1]} is associated with {OBJECT_TYPES[a][1]} {from_id}.",
                        context={"fromObjectId": [from_id]},
                        sub_category="crm.associations.NO_ASSOCIATIONS_FOUND",
                    )
                )
                continue
            to_list = [
                {"toObjectId": int(tid), "associationTypes": _types_json(portal, a, b, types)}
                for tid, types in sorted(linked.items(), key=lambda kv: int(kv[0]))
            ]
            results.append({"from": {"id": from_id}, "to": to_list})
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": now(),
        }
        if errors:
            body |= {"numErrors": len(errors), "errors": errors}
            return Response.json(207, body)
        return Response.json(200, body)

    def batch_create(request: Request, frm: str, to: str) -> Response:
        a, b = _types(request, frm, to)
        started, results = now(), []
        with portal.lock:
            inputs = _inputs(request, WRITE_LIMIT)
            planned = []
            for item in inputs:
                fid, tid = (
                    str(item.get("from", {}).get("id", "")),
                    str(item.get("to", {}).get("id", "")),
                )
                require(a, fid)
                require(b, tid)
                planned.append((fid, tid, *_spec_ids(portal, a, b, item.get("types"))))
            for fid, tid, fwd, rev in planned:
                for f, r in zip(sorted(fwd), sorted(rev), strict=True):
                    cat = "USER_DEFINED" if f > 1000 else "HUBSPOT_DEFINED"
                    portal.associate((a, fid), (b, tid), (cat, f), (cat, r))
                results.append(
                    {
                        "fromObjectTypeId": OBJECT_TYPES[a][0],
                        "fromObjectId": int(fid),
                        "toObjectTypeId": OBJECT_TYPES[b][0],
                        "toObjectId": int(tid),
                        "labels": [lab for t in sorted(fwd) if (lab := _label(portal, a, b, t))],
                    }
                )
        return Response.json(
            201,
            {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": now()},
        )

    def batch_default(request: Request, frm: str, to: str) -> Response:
        a, b = _types(request, frm, to)
        started, results = now(), []
        pair = default_type(portal, a, b)
        if pair is None:
            raise validation_error(f"No default association type from {a} to {b}")
        with portal.lock:
            inputs = _inputs(request, WRITE_LIMIT)
            pairs = [
                (str(i.get("from", {}).get("id", "")), str(i.get("to", {}).get("id", "")))
                for i in inputs
            ]
            for fid, tid in pairs:
                require(a, fid)
                require(b, tid)
            for fid, tid in pairs:
                link_default(portal, (a, fid), (b, tid))
                results.append(
                    {
                        "from": {"id": fid},
                        "to": {"id": tid},
                        "associationSpec": {
                            "associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": pair[0],
                        },
                    }
                )
        return Response.json(
            200,
            {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": now()},
        )

    def batch_archive(request: Request, frm: str, to: str) -> Response:
        a, b = _types(request, frm, to)
        for item in _inputs(request, WRITE_LIMIT):
            fid = str(item.get("from", {}).get("id", ""))
            for target in item.get("to", []) or []:
                portal.dissociate((a, fid), (b, str(target.get("id", ""))))
        return Response(204)

    def batch_archive_labels(request: Request, frm: str, to: str) -> Response:
        a, b = _types(request, frm, to)
        for item in _inputs(request, WRITE_LIMIT):
            fid, tid = (
                str(item.get("from", {}).get("id", "")),
                str(item.get("to", {}).get("id", "")),
            )
            fwd, rev = _spec_ids(portal, a, b, item.get("types"))
            portal.dissociate((a, fid), (b, tid), fwd, rev)
        return Response(204)

    def record_list(request: Request, type: str, id: str, to: str) -> Response:  # noqa: A002
        a, b = _types(request, type, to)
        require(a, id)
        limit = min(int(request.arg("limit", "500") or 500), 500)
        after = int(request.arg("after", "0") or 0)
        linked = sorted(portal.associated((a, id), b).items(), key=lambda kv: int(kv[0]))
        page = linked[after : after + limit]
        body: dict[str, Any] = {
            "results": [
                {"toObjectId": int(t), "associationTypes": _types_json(portal, a, b, ty)}
                for t, ty in page
            ]
        }
        if after + limit < len(linked):
            body["paging"] = {"next": {"after": str(after + limit)}}
        return Response.json(200, body)

    def record_default(request: Request, type: str, id: str, to: str, to_id: str) -> Response:  # noqa: A002
        a, b = _types(request, type, to)
        require(a, id)
        require(b, to_id)
        link_default(portal, (a, id), (b, to_id))
        pair = default_type(portal, a, b)
        assert pair is not None
        spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": pair[0]}
        result = {"from": {"id": id}, "to": {"id": to_id}, "associationSpec": spec}
        return Response.json(
            200,
            {"status": "COMPLETE", "results": [result], "startedAt": now(), "completedAt": now()},
        )

    def record_put(request: Request, type: str, id: str, to: str, to_id: str) -> Response:  # noqa: A002
        a, b = _types(request, type, to)
        require(a, id)
        require(b, to_id)
        fwd, rev = _spec_ids(portal, a, b, request.json())
        for f, r in zip(sorted(fwd), sorted(rev), strict=True):
            cat = "USER_DEFINED" if f > 1000 else "HUBSPOT_DEFINED"
            portal.associate((a, id), (b, to_id), (cat, f), (cat, r))
        body = {
            "fromObjectTypeId": OBJECT_TYPES[a][0],
            "fromObjectId": int(id),
            "toObjectTypeId": OBJECT_TYPES[b][0],
            "toObjectId": int(to_id),
            "labels": [lab for t in sorted(fwd) if (lab := _label(portal, a, b, t))],
        }
        return Response.json(201, body)

    def record_delete(request: Request, type: str, id: str, to: str, to_id: str) -> Response:  # noqa: A002
        a, b = _types(request, type, to)
        portal.dissociate((a, id), (b, to_id))
        return Response(204)

    def labels(request: Request, frm: str, to: str) -> Response:
        a, b = _types(request, frm, to)
        results = [
            {"category": c, "typeId": f, "label": lab} for c, f, _r, lab in _directed(portal, a, b)
        ]
        return Response.json(200, {"results": results})

    def create_label(request: Request, frm: str, to: str) -> Response:
        a, b = _types(request, frm, to)
        body = request.json() or {}
        label = body.get("label") if isinstance(body, dict) else None
        if not isinstance(label, str) or not label:
            raise validation_error(
                "label is required", errors=[{"message": "label is required", "in": "label"}]
            )
        with portal.lock:
            if any(lab == label for _c, _f, _r, lab in _directed(portal, a, b)):
                raise fail(409, "CONFLICT", f"An association label named {label} already exists")
            fwd = 1000 + 2 * len(portal.assoc_labels) + 1
            portal.assoc_labels.append((a, b, fwd, fwd + 1, label))
        return Response.json(
            200, {"results": [{"category": "USER_DEFINED", "typeId": fwd, "label": label}]}
        )

    base = "/crm/v4/associations/{frm}/{to}"
    router.add("POST", f"{base}/batch/read", batch_read)
    router.add("POST", f"{base}/batch/create", batch_create)
    router.add("POST", f"{base}/batch/associate/default", batch_default)
    router.add("POST", f"{base}/batch/archive", batch_archive)
    router.add("POST", f"{base}/batch/labels/archive", batch_archive_labels)
    router.add("GET", f"{base}/labels", labels)
    router.add("POST", f"{base}/labels", create_label)
    router.add("GET", "/crm/associations/v4/{frm}/{to}/labels", labels)
    router.add("POST", "/crm/associations/v4/{frm}/{to}/labels", create_label)
    obj = "/crm/v4/objects/{type}/{id}/associations"
    router.add("GET", f"{obj}/{{to}}", record_list)
    router.add("PUT", f"{obj}/default/{{to}}/{{to_id}}", record_default)
    router.add("PUT", f"{obj}/{{to}}/{{to_id}}", record_put)
    router.add("DELETE", f"{obj}/{{to}}/{{to_id}}", record_delete)
