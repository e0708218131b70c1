"""SOQL builders: every literal through ``format_soql``, cursors, and URI-safe ``IN`` chunks.

Why: string-built SOQL breaks on ``o'brien@x.com`` and naive datetimes are read as local time
(facts §4.2, Gotcha 11); a long ``IN (...)`` list exceeds the 16,384-byte URI-plus-headers limit
and fails 414/431 (Gotcha 14). Queries go out as ``GET ...?q=`` so the *encoded* length is what
counts: :func:`chunked_in` measures it, keeping each URI under :data:`URI_BUDGET` (well below the
limit, leaving room for headers; Salesforce recommends short URIs).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from urllib.parse import quote_plus

from crm_sync.adapters.base import Cursor
from crm_sync.adapters.salesforce.client import soql

__all__ = ["URI_BUDGET", "chunked_in", "cursor_where", "select"]

URI_BUDGET = 8_000  # bytes of encoded query text per request (limit 16,384 incl. headers)


def select(
    fields: Sequence[str], sobject: str, where: str = "", *, order_by_cursor: bool = True
) -> str:
    """``SELECT f1, f2 FROM T [WHERE ...] ORDER BY SystemModstamp, Id``; names are literals."""
    names = ", ".join(dict.fromkeys(fields))  # dedupe, keep order
    text = soql("SELECT {:literal} FROM {:literal}", names, sobject)
    if where:
        text += f" WHERE {where}"
    if order_by_cursor:
        text += " ORDER BY SystemModstamp, Id"
    return text


def cursor_where(since: Cursor | None) -> str:
    """Closed start at ``(SystemModstamp, Id)``: ties are re-read from ``Id`` on (facts §4.2)."""
    if since is None:
        return ""
    stamp = since.modified_at
    if stamp.tzinfo is None:  # never send naive datetimes (Gotcha 11)
        stamp = stamp.replace(tzinfo=dt.UTC)
    stamp = stamp.astimezone(dt.UTC).replace(microsecond=stamp.microsecond // 1000 * 1000)
    if not since.record_id:
        return soql("SystemModstamp >= {}", stamp)
    return soql(
        "(SystemModstamp > {} OR (SystemModstamp = {} AND Id >= {}))",
        stamp,
        stamp,
        since.record_id,
    )


def chunked_in(
    template: str, field: str, values: Sequence[str], *, budget: int = URI_BUDGET
) -> Iterator[str]:
    """Yield ``template`` with ``{in}`` replaced by ``field IN (...)`` chunks under ``budget``.

    ``template`` is already-formatted SOQL containing the marker ``{in}``.
    """
    base = len(quote_plus(template.replace("{in}", f"{field} IN ()")))
    chunk: list[str] = []
    size = base
    for value in values:
        literal = soql("{}", value)
        cost = len(quote_plus(literal)) + 3  # ", " separator, encoded
        if chunk and size + cost > budget:
            yield template.replace("{in}", soql("{:literal} IN {}", field, chunk))
            chunk, size = [], base
        chunk.append(value)
        size += cost
    if chunk:
        yield template.replace("{in}", soql("{:literal} IN {}", field, chunk))
