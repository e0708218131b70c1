"""Small pure paginators: the ``after`` cursor with a loop guard, and the capped-search walker.

Both take a ``fetch`` callable and hand-made answers in unit tests, so their edge cases (a
repeated token, ties on a page boundary, a tie group larger than a page) are tested without HTTP.

**Why the search walker never pages with ``after``.** CRM search refuses to page past 10,000
results (400, facts §2.6, Gotcha 8), and offset paging over a result set that changes while we read
it skips records (a record edited mid-pull moves to the end and shifts the rest one slot left).
So every page is a *fresh* search ``modified >= last timestamp seen``, sorted ascending — the
restart-with-a-moving-watermark workaround done on every page rather than near the cap. Records
sharing the boundary timestamp come back and are dropped by id. If a whole page holds nothing but
already-seen records of one timestamp (a tie group larger than a page: a bulk import), the walker
switches to keyset order inside that timestamp (``modified == ts and hs_object_id > last id``,
sorted by id) and then continues with ``modified > ts``. No query ever pages, so the cap is never
reached, and nothing is lost or duplicated however many records share a window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from crm_sync.errors import PermanentError

__all__ = ["AfterCursor", "inline_links", "iso_to_ms", "walk_list", "walk_search"]

Fetch = Callable[[Mapping[str, Any]], Mapping[str, Any]]


class AfterCursor:
    """Follows ``paging.next.after``; refuses a token it has already seen (singer-sdk loop guard)."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.seen: set[str] = set()
        self.token: str | None = None

    def advance(self, body: Mapping[str, Any] | None) -> bool:
        """Take the next token from an answer; ``False`` when there are no more pages."""
        nxt = ((body or {}).get("paging") or {}).get("next") or {}
        token = nxt.get("after")
        if token in (None, ""):
            return False
        token = str(token)
        if token in self.seen:
            msg = f"HubSpot {self.operation} repeated paging token {token!r}; stopping to avoid a loop"
            raise PermanentError(msg, crm="hubspot", operation=self.operation)
        self.seen.add(token)
        self.token = token
        return True


def walk_list(
    fetch: Callable[[str | None], Mapping[str, Any]], operation: str
) -> Iterator[list[dict[str, Any]]]:
    """Every page of a ``GET /crm/v3/objects/{type}`` listing (id order), with the loop guard.

    Used for first, full pulls: a listing is not rate-limited like search, carries associations
    inline (one request instead of three), and has no 10,000 cap — but it is in id order, so
    callers only report a cursor once the whole listing is read.
    """
    pager = AfterCursor(operation)
    token: str | None = None
    while True:
        data = fetch(token)
        rows = list(data.get("results") or [])
        if rows:
            yield rows
        if not pager.advance(data):
            return
        token = pager.token


def inline_links(row: Mapping[str, Any], to_type: str) -> list[str] | None:
    """Ids of ``to_type`` associated inline (``?associations=``); None when not requested."""
    assoc = row.get("associations")
    if assoc is None:
        return None
    block = assoc.get(to_type) or {}
    return [str(r["id"]) for r in block.get("results") or []]


def iso_to_ms(value: Any) -> int | None:
    """HubSpot datetime (ISO 8601 with ``Z``, or epoch ms) → epoch milliseconds."""
    if value in (None, ""):
        return None
    text = str(value)
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return int(stamp.timestamp() * 1000)


def _body(
    filters: list[dict[str, Any]], sort: str, properties: Sequence[str], limit: int
) -> dict[str, Any]:
    return {
        "filterGroups": [{"filters": filters}],
        "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
        "properties": list(properties),
        "limit": limit,
    }


def walk_search(
    fetch: Fetch,
    *,
    modified_prop: str,
    since_ms: int,
    properties: Sequence[str],
    page_size: int,
    extra_filters: Sequence[Mapping[str, Any]] = (),
) -> Iterator[list[dict[str, Any]]]:
    """Pages of records with ``modified >= since_ms`` in ascending modified order, each id once."""
    limit = max(1, min(page_size, 200))  # search pages hold at most 200 (facts §2.6)
    props = list(dict.fromkeys([*properties, modified_prop, "hs_object_id"]))
    extra = [dict(f) for f in extra_filters]
    ts, strict = since_ms, False
    seen_at_ts: set[str] = set()
    while True:
        op = "GT" if strict else "GTE"
        flt = [{"propertyName": modified_prop, "operator": op, "value": str(ts)}, *extra]
        results = list(fetch(_body(flt, modified_prop, props, limit)).get("results") or [])
        fresh: list[dict[str, Any]] = []
        for rec in results:
            stamp = iso_to_ms((rec.get("properties") or {}).get(modified_prop))
            if stamp is None or stamp < ts or (stamp == ts and str(rec["id"]) in seen_at_ts):
                continue
            fresh.append(rec)
        if fresh:
            yield fresh
            for rec in fresh:
                stamp = iso_to_ms(rec["properties"][modified_prop]) or ts
                if stamp > ts:
                    ts, seen_at_ts = stamp, set()
                seen_at_ts.add(str(rec["id"]))
            strict = False
        if len(results) < limit:
            return
        if not fresh:
            # A page of nothing but seen ties: walk this timestamp by id, then move past it.
            yield from _walk_tie(
                fetch,
                modified_prop=modified_prop,
                ts=ts,
                seen=seen_at_ts,
                props=props,
                limit=limit,
                extra=extra,
            )
            strict, seen_at_ts = True, set()


def _walk_tie(
    fetch: Fetch,
    *,
    modified_prop: str,
    ts: int,
    seen: set[str],
    props: list[str],
    limit: int,
    extra: list[dict[str, Any]],
) -> Iterator[list[dict[str, Any]]]:
    last_id = -1
    while True:
        flt = [
            {"propertyName": modified_prop, "operator": "EQ", "value": str(ts)},
            {"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)},
            *extra,
        ]
        results = list(fetch(_body(flt, "hs_object_id", props, limit)).get("results") or [])
        fresh = [r for r in results if str(r["id"]) not in seen]
        if fresh:
            yield fresh
            seen.update(str(r["id"]) for r in fresh)
        if len(results) < limit:
            return
        last_id = max(int(r["id"]) for r in results)
