"""Running parsed SOQL against the org: field resolution with FLS, filters, ordering, paging.

Why the checks happen before any row is read: a real org validates the whole statement first,
so a filter on an invisible custom field fails ``INVALID_FIELD`` even on an empty table (facts
§3.3), and a quoted datetime fails even if nothing would match.

Paging follows facts §4.2: ``done``/``nextRecordsUrl`` of the form
``/services/data/vXX.X/query/01g…-2000`` (also for queryAll), pages of the configured size
(``Sforce-Query-Options: batchSize`` is a hint clamped to 200–2,000), locators that expire after
15 minutes idle, and at most 10 open cursors per user (the oldest is released).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crm_sync.sandbox.salesforce.dates import date_range
from crm_sync.sandbox.salesforce.errors import SfError
from crm_sync.sandbox.salesforce.ids import normalize_id
from crm_sync.sandbox.salesforce.schema import NUMBER_TYPES, TEXT_TYPES, FieldDef, ObjectDef
from crm_sync.sandbox.salesforce.soql import (
    BoolOp,
    Compare,
    Condition,
    FieldPath,
    Literal,
    Not,
    Query,
    located_error,
    parse,
)
from crm_sync.sandbox.salesforce.state import Org, Record
from crm_sync.sandbox.salesforce.values import parse_date, parse_datetime, render

__all__ = ["QueryEngine"]

_CURSOR_IDLE = dt.timedelta(minutes=15)
_MAX_CURSORS = 10
_MAX_OFFSET = 2000
_MAX_DEPTH = 5  # facts §4.2: child-to-parent traversal is at most 5 levels
_NO_COLUMN = (
    "No such column '{}' on entity '{}'. If you are attempting to use a custom field, be sure to "
    "append the '__c' after the custom field name. Please reference your WSDL or the describe "
    "call for the appropriate names."
)
_NO_RELATIONSHIP = (
    "Didn't understand relationship '{}' in field path. If you are attempting to use a custom "
    "relationship, be sure to append the '__r' after the custom relationship name. Please "
    "reference your WSDL or the describe call for the appropriate names."
)
_NO_TYPE = (
    "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to "
    "append the '__c' after the entity name. Please reference your WSDL or the describe call for "
    "the appropriate names."
)
_POLY_NAME = FieldDef("Name", "string")


@dataclass(frozen=True)
class _Col:
    """A resolved path: reference hops, then the terminal field (``None`` = polymorphic Type)."""

    hops: tuple[FieldDef, ...]
    field: FieldDef | None
    keys: tuple[str, ...]  # canonical output keys, e.g. ("Account", "Name")


class QueryEngine:
    """Executes SOQL for one org and keeps the server-side cursors for ``nextRecordsUrl``."""

    def __init__(self, org: Org, page_size: int = 2000) -> None:
        self.org = org
        self.page_size = page_size
        self._lock = threading.Lock()
        self._cursors: OrderedDict[str, tuple[list[dict[str, Any]], dt.datetime, int]] = (
            OrderedDict()
        )

    # --- resolution ----------------------------------------------------------------------

    def _resolve(self, q: Query, obj: ObjectDef, path: FieldPath, user: str) -> _Col:
        hops: list[FieldDef] = []
        keys: list[str] = []
        current: ObjectDef | None = obj
        if len(path.parts) > _MAX_DEPTH + 1:
            raise located_error(
                q.text, path.pos, "MALFORMED_QUERY",
                "SOQL statements cannot query relationships that are more than 5 levels away from the root entity object.",
            )  # fmt: skip
        parts = list(path.parts)
        if len(parts) > 1 and parts[0].lower() == obj.name.lower():
            parts = parts[1:]  # "Contact.Email" FROM Contact is allowed
        for part in parts[:-1]:
            ref = current.relationship(part) if current else None
            if ref is None:
                raise located_error(
                    q.text, path.pos, "INVALID_FIELD", _NO_RELATIONSHIP.format(part)
                )
            hops.append(ref)
            keys.append(ref.relationship_name or part)
            current = (
                self.org.find_object(ref.reference_to[0]) if len(ref.reference_to) == 1 else None
            )
        last = parts[-1]
        if current is None:  # polymorphic (Who, What): only Id, Name and Type are known
            if last.lower() == "type":
                return _Col(tuple(hops), None, (*keys, "Type"))
            if last.lower() in ("id", "name"):
                poly = FieldDef("Id", "id") if last.lower() == "id" else _POLY_NAME
                return _Col(tuple(hops), poly, (*keys, poly.name))
            raise located_error(q.text, path.pos, "INVALID_FIELD", _NO_COLUMN.format(last, "Name"))
        f, _ = self.org.field_access(current, last, user)
        if f is None:
            raise located_error(
                q.text, path.pos, "INVALID_FIELD", _NO_COLUMN.format(last, current.name)
            )
        return _Col(tuple(hops), f, (*keys, f.name))

    def _value(self, rec: Record | None, col: _Col) -> Any:
        for hop in col.hops:
            if rec is None or rec.get(hop.name) is None:
                return None
            target = self.org.object_for_id(rec[hop.name])
            rec = self.org.get(target.name, rec[hop.name], include_deleted=True) if target else None
        if rec is None:
            return None
        if col.field is None:
            target = self.org.object_for_id(rec["Id"])
            return target.name if target else None
        return rec.get(col.field.name)

    # --- filters -------------------------------------------------------------------------

    def _bad_type(self, q: Query, f: FieldDef, lit: Literal) -> SfError:
        soql_type = {"datetime": "dateTime", "reference": "id", "int": "integer"}.get(
            f.type, f.type
        )
        quoted = (
            "should be enclosed in quotes"
            if f.type in TEXT_TYPES or f.type in ("id", "reference")
            else "should not be enclosed in quotes"
        )
        return located_error(
            q.text, lit.pos, "INVALID_FIELD",
            f"value of filter criterion for field '{f.name}' must be of type {soql_type} and {quoted}",
        )  # fmt: skip

    def _literal(self, q: Query, f: FieldDef, lit: Literal) -> Any:
        """The comparable value of ``lit`` for field ``f``; a (start, end) tuple for date keywords."""
        t = f.type
        if lit.kind == "null":
            return None
        if t in ("id", "reference"):
            if lit.kind != "string":
                raise self._bad_type(q, f, lit)
            full = normalize_id(lit.value)
            if full is None:
                raise located_error(
                    q.text,
                    lit.pos,
                    "INVALID_QUERY_FILTER_OPERATOR",
                    f"invalid ID field: {lit.value}",
                )
            return full
        if t in TEXT_TYPES:
            if lit.kind != "string":
                raise self._bad_type(q, f, lit)
            return str(lit.value).lower()
        if t == "boolean" and lit.kind == "bool":
            return lit.value
        if t in NUMBER_TYPES and lit.kind == "number":
            return lit.value
        if t in ("date", "datetime") and lit.kind == "dateliteral":
            name, n = lit.value
            span = date_range(name, n, self.org.now().date())
            if span is None:
                raise located_error(
                    q.text, lit.pos, "MALFORMED_QUERY", f"unexpected token: '{lit.text}'"
                )
            if t == "date":
                return span
            return tuple(dt.datetime.combine(d, dt.time(), dt.UTC) for d in span)
        if t == "date" and lit.kind == "date":
            return parse_date(lit.value)
        if t == "datetime" and lit.kind == "datetime":
            return parse_datetime(lit.value)
        raise self._bad_type(q, f, lit)

    def _predicate(
        self, q: Query, obj: ObjectDef, cond: Condition, user: str
    ) -> Callable[[Record], bool]:
        if isinstance(cond, BoolOp):
            preds = [self._predicate(q, obj, c, user) for c in cond.items]
            if cond.op == "and":
                return lambda r: all(p(r) for p in preds)
            return lambda r: any(p(r) for p in preds)
        if isinstance(cond, Not):
            inner = self._predicate(q, obj, cond.item, user)
            return lambda r: not inner(r)
        return self._compare(q, obj, cond, user)

    def _compare(
        self, q: Query, obj: ObjectDef, cond: Compare, user: str
    ) -> Callable[[Record], bool]:
        col = self._resolve(q, obj, cond.path, user)
        f = col.field or FieldDef("Type", "string")
        if f.type == "textarea":
            raise located_error(
                q.text,
                cond.path.pos,
                "INVALID_FIELD",
                f"field '{f.name}' can not be filtered in a query call",
            )
        op = cond.op
        text_like = f.type in TEXT_TYPES

        def get(r: Record) -> Any:
            v = self._value(r, col)
            return v.lower() if isinstance(v, str) and text_like else v

        if op in ("includes", "excludes"):
            if f.type != "multipicklist":
                raise located_error(
                    q.text,
                    cond.path.pos,
                    "INVALID_QUERY_FILTER_OPERATOR",
                    "includes or excludes operator only valid on multipicklist field",
                )
            assert isinstance(cond.value, tuple)
            wanted = [set(str(self._literal(q, f, lit)).split(";")) for lit in cond.value]

            def includes(r: Record) -> bool:
                v = get(r)
                have = set(v.split(";")) if v else set()
                return any(w <= have for w in wanted)

            return includes if op == "includes" else (lambda r: not includes(r))
        if op in ("in", "not in"):
            assert isinstance(cond.value, tuple)
            values = {self._literal(q, f, lit) for lit in cond.value}
            return (lambda r: get(r) in values) if op == "in" else (lambda r: get(r) not in values)
        assert isinstance(cond.value, Literal)
        if op == "like":
            if not text_like:
                raise located_error(
                    q.text,
                    cond.path.pos,
                    "INVALID_QUERY_FILTER_OPERATOR",
                    f"invalid operator on {f.type} field: LIKE",
                )
            regex = re.compile(_like_regex(str(cond.value.value)), re.IGNORECASE | re.DOTALL)
            return lambda r: (v := get(r)) is not None and regex.fullmatch(v) is not None
        value = self._literal(q, f, cond.value)
        if f.type == "multipicklist" and isinstance(value, str) and op in ("=", "!="):
            wanted_set = set(value.split(";"))

            def same(r: Record) -> bool:
                v = get(r)
                return v is not None and set(v.split(";")) == wanted_set

            return same if op == "=" else (lambda r: not same(r))
        return lambda r: _compare_values(get(r), op, value)

    # --- execution -----------------------------------------------------------------------

    def execute(
        self,
        text: str,
        *,
        include_deleted: bool,
        user: str,
        version: str,
        batch_size: int | None = None,
    ) -> dict[str, Any]:
        """Run ``text``; return the first page, registering a cursor when more remain."""
        q = parse(text)
        with self.org.lock:
            obj = self.org.find_object(q.sobject)
            if obj is None:
                raise located_error(
                    q.text, q.sobject_pos, "INVALID_TYPE", _NO_TYPE.format(q.sobject)
                )
            cols = [self._resolve(q, obj, p, user) for p in q.fields]
            seen: set[tuple[str, ...]] = set()
            for p, c in zip(q.fields, cols, strict=True):
                if c.keys in seen:
                    raise located_error(
                        q.text,
                        p.pos,
                        "MALFORMED_QUERY",
                        f"duplicate field selected: {'.'.join(c.keys)}",
                    )
                seen.add(c.keys)
            pred = self._predicate(q, obj, q.where, user) if q.where else None
            orders = []
            for item in q.order:
                col = self._resolve(q, obj, item.path, user)
                if col.field is not None and col.field.type in ("textarea", "multipicklist"):
                    raise located_error(
                        q.text,
                        item.path.pos,
                        "INVALID_FIELD",
                        f"field '{col.field.name}' can not be sorted in a query call",
                    )
                orders.append((col, item))
            if q.offset is not None and q.offset > _MAX_OFFSET:
                raise SfError(
                    "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {_MAX_OFFSET}"
                )
            rows = [
                r
                for r in self.org.rows(obj.name, include_deleted=include_deleted)
                if pred is None or pred(r)
            ]
            for col, item in reversed(orders):
                high = item.nulls_last != item.desc

                def key(r: Record, c: _Col = col, h: bool = high) -> tuple[int, Any]:
                    return _sort_key(self._value(r, c), h)

                rows.sort(
                    key=key,
                    reverse=item.desc,
                )
            rows = rows[q.offset or 0 :]
            if q.limit is not None:
                rows = rows[: q.limit]
            if q.count:
                return {"totalSize": len(rows), "done": True, "records": []}
            records = [self._render(obj, r, cols, version) for r in rows]
        return self._page_out(records, 0, version, batch_size)

    def _render(
        self, obj: ObjectDef, rec: Record, cols: list[_Col], version: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": _attributes(obj.name, rec["Id"], version)}
        for col in cols:
            target: dict[str, Any] | None = out
            source: Record | None = rec
            for hop, key in zip(col.hops, col.keys, strict=False):
                parent_id = source.get(hop.name) if source else None
                parent_obj = self.org.object_for_id(parent_id) if parent_id else None
                source = (
                    self.org.get(parent_obj.name, parent_id, include_deleted=True)
                    if parent_obj and parent_id
                    else None
                )
                if target is None:
                    break
                if source is None or parent_obj is None:
                    target.setdefault(key, None)
                    target = None
                    break
                if target.get(key) is None:
                    target[key] = {
                        "attributes": _attributes(parent_obj.name, source["Id"], version)
                    }
                target = target[key]
            if target is None or source is None:
                continue
            if col.field is None:
                found = self.org.object_for_id(source["Id"])
                target["Type"] = found.name if found else None
            else:
                target[col.field.name] = render(col.field, source.get(col.field.name))
        return out

    # --- cursors (facts §4.2) --------------------------------------------------------------

    def _page_out(
        self,
        records: list[dict[str, Any]],
        start: int,
        version: str,
        batch_size: int | None,
        locator: str | None = None,
    ) -> dict[str, Any]:
        size = (
            self.page_size
            if batch_size is None
            else min(self.page_size, max(200, min(batch_size, 2000)))
        )
        page = records[start : start + size]
        out: dict[str, Any] = {
            "totalSize": len(records),
            "done": start + size >= len(records),
            "records": page,
        }
        if not out["done"]:
            with self._lock:
                if locator is None:
                    locator = self.org.ids.new15("01g")
                self._cursors[locator] = (records, self.org.now(), size)
                self._cursors.move_to_end(locator)
                while len(self._cursors) > _MAX_CURSORS:
                    self._cursors.popitem(last=False)
            out["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{start + size}"
        elif locator is not None:
            with self._lock:
                self._cursors.pop(locator, None)
        return out

    def more(self, token: str, version: str) -> dict[str, Any]:
        """The page at ``01g…-N``; ``INVALID_QUERY_LOCATOR`` when unknown, released or idle 15 min."""
        locator, _, offset = token.partition("-")
        with self._lock:
            entry = self._cursors.get(locator)
            if entry is not None and self.org.now() - entry[1] > _CURSOR_IDLE:
                del self._cursors[locator]
                entry = None
        if entry is None or not offset.isdigit():
            raise SfError("INVALID_QUERY_LOCATOR", "invalid query locator")
        records, _, size = entry
        return self._page_out(records, int(offset), version, size, locator)


def _attributes(sobject: str, record_id: str, version: str) -> dict[str, str]:
    return {"type": sobject, "url": f"/services/data/v{version}/sobjects/{sobject}/{record_id}"}


def _like_regex(pattern: str) -> str:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return "".join(out)


def _compare_values(v: Any, op: str, lit: Any) -> bool:
    if isinstance(lit, tuple):  # a date keyword's [start, end)
        if v is None:
            return op == "!="
        start, end = lit
        inside = bool(start <= v < end)
        outcome: bool = {
            "=": inside,
            "!=": not inside,
            "<": v < start,
            "<=": v < end,
            ">": v >= end,
            ">=": v >= start,
        }[op]
        return outcome
    if op == "=":
        return bool(v == lit)
    if op == "!=":
        return bool(v != lit)
    if v is None or lit is None:
        return False
    result: bool = {"<": v < lit, "<=": v <= lit, ">": v > lit, ">=": v >= lit}[op]
    return result


def _sort_key(value: Any, nulls_high: bool) -> tuple[int, Any]:
    if value is None:
        return (1 if nulls_high else -1, 0)
    return (0, value.lower() if isinstance(value, str) else value)
