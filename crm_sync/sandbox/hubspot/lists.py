"""Lists API v3 (facts §5.4, Gotcha 15): MANUAL / DYNAMIC / SNAPSHOT lists and memberships.

Membership changes are ``PUT`` with a bare JSON array of record-id strings and answer with the
real keys — including the vendor's typo ``recordsIdsAdded``. They are refused on DYNAMIC lists,
whose members come from their filters (evaluated here for the simple PROPERTY filters; any other
filter type is refused at creation rather than silently mis-evaluated). Records that do not exist
are reported in ``recordIdsMissing``; records already members are ignored.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from crm_sync.sandbox.http import Request, Response, Router
from crm_sync.sandbox.hubspot.errors import fail, not_found, validation_error
from crm_sync.sandbox.hubspot.properties import OBJECT_TYPES, iso_ms
from crm_sync.sandbox.hubspot.state import HsObject, Portal

__all__ = ["add_list_routes"]

_BY_TYPE_ID = {type_id: plural for plural, (type_id, _s) in OBJECT_TYPES.items()}
PROCESSING_TYPES = ("MANUAL", "DYNAMIC", "SNAPSHOT")


def _operation_ok(obj: HsObject, flt: dict[str, Any]) -> bool:
    """Evaluate one ``PROPERTY`` filter of a DYNAMIC list's filterBranch."""
    op = flt.get("operation") or {}
    stored = (obj.props.get(str(flt.get("property"))) or "").lower()
    operator = op.get("operator")
    values = [
        str(v).lower() for v in (op.get("values") or ([op["value"]] if "value" in op else []))
    ]
    have = set(stored.split(";")) if stored else set()
    if operator == "IS_KNOWN":
        return bool(stored)
    if operator == "IS_UNKNOWN":
        return not stored
    if operator in ("IS_EQUAL_TO", "IS_ANY_OF", "CONTAINS_ALL"):
        return (
            all(v in have for v in values)
            if operator == "CONTAINS_ALL"
            else bool(have & set(values))
        )
    if operator in ("IS_NOT_EQUAL_TO", "IS_NONE_OF"):
        return not have & set(values)
    if operator == "CONTAINS":
        return any(v in stored for v in values)
    return False


_OPERATORS = {
    "IS_KNOWN",
    "IS_UNKNOWN",
    "IS_EQUAL_TO",
    "IS_ANY_OF",
    "CONTAINS_ALL",
    "IS_NOT_EQUAL_TO",
    "IS_NONE_OF",
    "CONTAINS",
}


def _branch_ok(obj: HsObject, branch: dict[str, Any]) -> bool:
    results = [_operation_ok(obj, f) for f in branch.get("filters") or []]
    results += [_branch_ok(obj, b) for b in branch.get("filterBranches") or []]
    if branch.get("filterBranchType") == "OR":
        return any(results)
    return all(results)


def _check_branch(branch: Any) -> None:
    if not isinstance(branch, dict) or branch.get("filterBranchType") not in ("OR", "AND"):
        raise validation_error("filterBranch must be an OR or AND branch")
    for flt in branch.get("filters") or []:
        operator = (flt.get("operation") or {}).get("operator")
        if flt.get("filterType") != "PROPERTY" or operator not in _OPERATORS:
            raise validation_error(f"Unsupported filter in the sandbox: {flt!r}")
    for child in branch.get("filterBranches") or []:
        _check_branch(child)


def add_list_routes(router: Router, portal: Portal) -> None:
    """Register ``/crm/v3/lists/...``."""

    def get_list(list_id: str) -> dict[str, Any]:
        found = portal.lists.get(list_id)
        if found is None or found.get("deletedAt"):
            raise not_found(f"List {list_id} does not exist")
        return found

    def members(lst: dict[str, Any]) -> dict[str, int]:
        if lst["processingType"] != "DYNAMIC":
            return portal.list_members[lst["listId"]]
        object_type = _BY_TYPE_ID[lst["objectTypeId"]]
        rows = [o for o in portal.objects[object_type].values() if not o.archived]
        return {o.id: o.updated_ms for o in rows if _branch_ok(o, lst["filterBranch"])}

    def render(lst: dict[str, Any]) -> dict[str, Any]:
        return {
            **{k: v for k, v in lst.items() if k != "filterBranch" or v},
            "size": len(members(lst)),
        }

    def create(request: Request) -> Response:
        body = request.json() or {}
        name, type_id, processing = (
            body.get("name"),
            body.get("objectTypeId"),
            body.get("processingType"),
        )
        if not name or type_id not in _BY_TYPE_ID or processing not in PROCESSING_TYPES:
            raise validation_error(
                "name, objectTypeId and processingType (MANUAL, DYNAMIC or SNAPSHOT) are required"
            )
        if processing == "DYNAMIC":
            _check_branch(body.get("filterBranch"))
        with portal.lock:
            if any(
                lst["name"] == name and not lst.get("deletedAt") for lst in portal.lists.values()
            ):
                raise fail(
                    409, "CONFLICT", f"A list named {name!r} already exists"
                )  # [UNVERIFIED] status
            list_id, stamp = portal.new_id(), iso_ms(portal.now_ms())
            portal.lists[list_id] = {
                "listId": list_id,
                "name": name,
                "objectTypeId": type_id,
                "processingType": processing,
                "processingStatus": "COMPLETE",
                "listVersion": 1,
                "createdAt": stamp,
                "updatedAt": stamp,
                "filterBranch": body.get("filterBranch"),
            }
            portal.list_members[list_id] = {}
            return Response.json(200, {"list": render(portal.lists[list_id])})

    def read(request: Request, list_id: str) -> Response:
        return Response.json(200, {"list": render(get_list(list_id))})

    def by_name(request: Request, type_id: str, name: str) -> Response:
        name = unquote(name)  # a path segment: "Newsletter subscribers" arrives as %20-encoded
        for lst in portal.lists.values():
            if lst["objectTypeId"] == type_id and lst["name"] == name and not lst.get("deletedAt"):
                return Response.json(200, {"list": render(lst)})
        raise not_found(f"List {name} does not exist")

    def search(request: Request) -> Response:
        body = request.json() or {}
        query = str(body.get("query") or "").lower()
        kinds = body.get("processingTypes") or PROCESSING_TYPES
        found = [
            render(x)
            for x in portal.lists.values()
            if not x.get("deletedAt")
            and query in x["name"].lower()
            and x["processingType"] in kinds
        ]
        offset, count = int(body.get("offset", 0)), int(body.get("count", 20))
        page = found[offset : offset + count]
        return Response.json(
            200,
            {
                "lists": page,
                "offset": offset + len(page),
                "hasMore": offset + count < len(found),
                "total": len(found),
            },
        )

    def delete(request: Request, list_id: str) -> Response:
        get_list(list_id)["deletedAt"] = iso_ms(portal.now_ms())
        return Response(204)

    def change(list_id: str, add: list[Any], remove: list[Any]) -> dict[str, list[str]]:
        with portal.lock:
            lst = get_list(list_id)
            if lst["processingType"] == "DYNAMIC":
                raise validation_error(
                    f"List {list_id} is a DYNAMIC list; memberships can only be changed on MANUAL or SNAPSHOT lists"
                )
            object_type = _BY_TYPE_ID[lst["objectTypeId"]]
            current = portal.list_members[list_id]
            added, removed, missing = [], [], []
            for rid in map(str, add):
                if portal.live(object_type, rid) is None:
                    missing.append(rid)
                elif rid not in current:
                    current[rid] = portal.now_ms()
                    added.append(rid)
            for rid in map(str, remove):
                if rid in current:
                    del current[rid]
                    removed.append(rid)
                elif portal.live(object_type, rid) is None:
                    missing.append(rid)
            if added or removed:
                lst["listVersion"] += 1
                lst["updatedAt"] = iso_ms(portal.now_ms())
            return {
                "recordsIdsAdded": added,
                "recordIdsRemoved": removed,
                "recordIdsMissing": missing,
            }

    def ids(request: Request) -> list[Any]:
        body = request.json()
        if not isinstance(body, list):
            raise validation_error("The request body must be a JSON array of record ids")
        return body

    def add(request: Request, list_id: str) -> Response:
        out = change(list_id, ids(request), [])
        return Response.json(
            200,
            {
                "recordsIdsAdded": out["recordsIdsAdded"],
                "recordIdsMissing": out["recordIdsMissing"],
            },
        )

    def remove(request: Request, list_id: str) -> Response:
        out = change(list_id, [], ids(request))
        return Response.json(
            200,
            {
                "recordIdsRemoved": out["recordIdsRemoved"],
                "recordIdsMissing": out["recordIdsMissing"],
            },
        )

    def add_and_remove(request: Request, list_id: str) -> Response:
        body = request.json() or {}
        return Response.json(
            200,
            change(list_id, body.get("recordIdsToAdd") or [], body.get("recordIdsToRemove") or []),
        )

    def add_from(request: Request, list_id: str, source: str) -> Response:
        change(list_id, list(members(get_list(source))), [])
        return Response(204)

    def clear(request: Request, list_id: str) -> Response:
        change(list_id, [], list(portal.list_members.get(list_id, {})))
        return Response(204)

    def page(request: Request, list_id: str) -> Response:
        current = sorted(members(get_list(list_id)).items(), key=lambda kv: int(kv[0]))
        limit = min(int(request.arg("limit", "100") or 100), 250)
        after = int(request.arg("after", "0") or 0)
        chunk = current[after : after + limit]
        body: dict[str, Any] = {
            "results": [{"recordId": r, "membershipTimestamp": iso_ms(ms)} for r, ms in chunk],
            "total": len(current),
        }
        if after + limit < len(current):
            body["paging"] = {"next": {"after": str(after + limit)}}
        return Response.json(200, body)

    def record_memberships(request: Request, type_id: str, record_id: str) -> Response:
        results = []
        for lst in portal.lists.values():
            if (
                lst["objectTypeId"] == type_id
                and not lst.get("deletedAt")
                and record_id in members(lst)
            ):
                stamp = iso_ms(members(lst)[record_id])
                results.append(
                    {
                        "listId": lst["listId"],
                        "listVersion": lst["listVersion"],
                        "firstAddedTimestamp": stamp,
                        "lastAddedTimestamp": stamp,
                    }
                )
        return Response.json(200, {"results": results})

    router.add("POST", "/crm/v3/lists", create)
    router.add("POST", "/crm/v3/lists/search", search)
    router.add("GET", "/crm/v3/lists/object-type-id/{type_id}/name/{name}", by_name)
    router.add("GET", "/crm/v3/lists/records/{type_id}/{record_id}/memberships", record_memberships)
    router.add("GET", "/crm/v3/lists/{list_id}", read)
    router.add("DELETE", "/crm/v3/lists/{list_id}", delete)
    router.add("PUT", "/crm/v3/lists/{list_id}/memberships/add", add)
    router.add("PUT", "/crm/v3/lists/{list_id}/memberships/remove", remove)
    router.add("PUT", "/crm/v3/lists/{list_id}/memberships/add-and-remove", add_and_remove)
    router.add("PUT", "/crm/v3/lists/{list_id}/memberships/add-from/{source}", add_from)
    router.add("DELETE", "/crm/v3/lists/{list_id}/memberships", clear)
    router.add("GET", "/crm/v3/lists/{list_id}/memberships", page)
