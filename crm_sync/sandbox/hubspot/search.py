"""CRM search: filterGroups, one sort, ``limit`` ≤ 200, ``after``, the 10,000 cap, indexing lag.

Limits enforced (facts §2.6 "Search API", Gotcha 8): ≤ 5 filterGroups × ≤ 6 filters and ≤ 18
filters in total (the safe reading where docs and changelog disagree), body ≤ 3,000 characters,
``limit`` ≤ 200 (default 10), one sort rule ([UNVERIFIED] but the docs' reading), and paging to
``after`` ≥ 10,000 answers 400 while ``paging.next`` is still offered up to there — exactly the
trap a client must survive by restarting with a moving ``GTE`` watermark.

Indexing lag (facts §2.6 "a few moments"): a record becomes visible to search only ``lag``
seconds after its last write (configured lag plus any injected ``search_lag`` fault); reads by
id see it at once. Archived records never match (facts §4.7).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import Any

from crm_sync.sandbox.http import Request, Response, Router
from crm_sync.sandbox.hubspot.errors import validation_error
from crm_sync.sandbox.hubspot.properties import PropertyDef, epoch_ms, resolve_type
from crm_sync.sandbox.hubspot.state import HsObject, Portal, default_properties

__all__ = ["add_search_routes"]

MAX_GROUPS, MAX_PER_GROUP, MAX_FILTERS = 5, 6, 18
MAX_LIMIT, RESULT_CAP, MAX_BODY_CHARS = 200, 10_000, 3_000
OPERATORS = frozenset(
    {
        "EQ",
        "NEQ",
        "LT",
        "LTE",
        "GT",
        "GTE",
        "BETWEEN",
        "IN",
        "NOT_IN",
        "HAS_PROPERTY",
        "NOT_HAS_PROPERTY",
        "CONTAINS_TOKEN",
        "NOT_CONTAINS_TOKEN",
    }
)


def _key(defn: PropertyDef | None, raw: Any) -> Any:
    """Comparable form of a stored or filter value for the property's type."""
    text = str(raw)
    if defn is not None and defn.type == "number":
        try:
            return float(text)
        except ValueError:
            return None
    if defn is not None and defn.type in ("date", "datetime"):
        return epoch_ms(text)
    return text.lower()


def _matches(obj: HsObject, defs: dict[str, PropertyDef], flt: dict[str, Any]) -> bool:
    name, op = flt["propertyName"], flt["operator"]
    defn = defs.get(name)
    stored = obj.props.get(name)
    if op == "HAS_PROPERTY":
        return bool(stored)
    if op == "NOT_HAS_PROPERTY":
        return not stored
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        pattern = str(flt.get("value", "")).lower()
        tokens = re.split(r"[\s;,.@]+", (stored or "").lower())
        hit = any(fnmatch.fnmatchcase(t, pattern) for t in tokens if t) or pattern in (
            stored or ""
        ).lower().split(";")
        return hit if op == "CONTAINS_TOKEN" else not hit
    if op in ("IN", "NOT_IN"):
        wanted = {_key(defn, v) for v in flt.get("values") or []}
        have = _values(defn, stored)
        hit = bool(have & wanted)
        return hit if op == "IN" else not hit
    if op == "NEQ":
        return _key(defn, flt.get("value")) not in _values(defn, stored)
    if stored is None or stored == "":
        return False
    if op == "EQ":
        return _key(defn, flt.get("value")) in _values(defn, stored)
    left, right = _key(defn, stored), _key(defn, flt.get("value"))
    if left is None or right is None:
        return False
    try:
        if op == "BETWEEN":
            high = _key(defn, flt.get("highValue"))
            return high is not None and bool(right <= left <= high)
        return bool(
            {"LT": left < right, "LTE": left <= right, "GT": left > right, "GTE": left >= right}[op]
        )
    except TypeError:
        return False


def _values(defn: PropertyDef | None, stored: str | None) -> set[Any]:
    if not stored:
        return set()
    if defn is not None and defn.field_type == "checkbox":
        return {_key(defn, part) for part in stored.split(";")}
    return {_key(defn, stored)}


def _check(body: Any, defs: dict[str, PropertyDef]) -> tuple[list[list[dict[str, Any]]], int, int]:
    """Validate the request; return (filter groups, limit, offset)."""
    if not isinstance(body, dict):
        raise validation_error("Invalid input JSON: expected an object")
    groups = body.get("filterGroups") or []
    if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
        raise validation_error(f"The maximum number of filterGroups is {MAX_GROUPS}")
    parsed: list[list[dict[str, Any]]] = []
    for group in groups:
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list) or len(filters) > MAX_PER_GROUP:
            raise validation_error(f"Each filterGroup may hold at most {MAX_PER_GROUP} filters")
        for flt in filters:
            if not isinstance(flt, dict) or flt.get("operator") not in OPERATORS:
                raise validation_error(f"Invalid filter operator in {flt!r}")
            if flt.get("propertyName") not in defs:
                raise validation_error(
                    f"Property {flt.get('propertyName')!r} does not exist and cannot be used in a filter"
                )
        parsed.append(filters)
    if sum(len(g) for g in parsed) > MAX_FILTERS:
        raise validation_error(
            f"The maximum number of filters across all filterGroups is {MAX_FILTERS}"
        )
    limit = body.get("limit", 10)
    if not isinstance(limit, int) or limit < 0 or limit > MAX_LIMIT:
        raise validation_error(f"limit must be between 0 and {MAX_LIMIT}")
    try:
        offset = int(body.get("after") or 0)
    except (TypeError, ValueError) as exc:
        raise validation_error(f"Invalid after: {body.get('after')!r}") from exc
    if offset >= RESULT_CAP:
        # facts §2.6 / Gotcha 8: paging beyond 10,000 results returns 400 ([UNVERIFIED] wording).
        raise validation_error(
            f"Cannot page past {RESULT_CAP} results (after={offset}). Narrow the filters, e.g. restart with a GTE watermark on the modified date."
        )
    return parsed, limit, offset


def _sort(body: dict[str, Any], defs: dict[str, PropertyDef]) -> tuple[str, bool]:
    sorts = body.get("sorts") or []
    if not isinstance(sorts, list) or len(sorts) > 1:
        raise validation_error("Only one sort rule is supported")
    if not sorts:
        return "hs_object_id", False
    rule = sorts[0]
    if isinstance(rule, str):
        name, desc = rule.lstrip("-"), rule.startswith("-")
    elif isinstance(rule, dict):
        name, desc = (
            str(rule.get("propertyName")),
            str(rule.get("direction", "ASCENDING")).upper() == "DESCENDING",
        )
    else:
        raise validation_error(f"Invalid sort {rule!r}")
    if name not in defs:
        raise validation_error(f"Property {name!r} does not exist and cannot be used to sort")
    return name, desc


def add_search_routes(router: Router, portal: Portal, lag: Callable[[], float]) -> None:
    """Register ``POST /crm/v3/objects/{type}/search``; ``lag()`` gives this request's lag."""

    def search(request: Request, type: str) -> Response:  # noqa: A002
        object_type = resolve_type(type)
        if object_type is None:
            raise validation_error(f"Unable to infer object type from: {type}")
        if len(request.body) > MAX_BODY_CHARS:
            raise validation_error(f"The request body must be at most {MAX_BODY_CHARS} characters")
        try:
            body = request.json() or {}
        except ValueError as exc:
            raise validation_error(f"Invalid input JSON: {exc}") from exc
        defs = portal.properties[object_type]
        groups, limit, offset = _check(body, defs)
        sort_name, descending = _sort(body, defs)
        names = body.get("properties") or list(default_properties(object_type))
        query = str(body.get("query") or "").lower()
        visible_before = portal.clock() - lag()
        with portal.lock:
            candidates = [
                o
                for o in portal.objects[object_type].values()
                if not o.archived and o.written_at <= visible_before
            ]
            hits = [
                o
                for o in candidates
                if (not groups or any(all(_matches(o, defs, f) for f in g) for g in groups))
                and (
                    not query
                    or any(
                        query in (o.props.get(n) or "").lower()
                        for n in default_properties(object_type)
                    )
                )
            ]
            defn = defs[sort_name]
            present = [o for o in hits if o.props.get(sort_name)]
            absent = [o for o in hits if not o.props.get(sort_name)]
            present.sort(
                key=lambda o: (_key(defn, o.props[sort_name]) or 0, int(o.id)), reverse=descending
            )
            ordered = present + sorted(absent, key=lambda o: int(o.id))
            page = ordered[offset : min(offset + limit, RESULT_CAP)]
            results = [o.to_json(names) for o in page]
        out: dict[str, Any] = {"total": len(ordered), "results": results}
        if offset + limit < len(ordered):
            out["paging"] = {"next": {"after": str(offset + limit), "link": ""}}
        return Response.json(200, out)

    router.add("POST", "/crm/v3/objects/{type}/search", search)
