"""REST resources: versions, limits, sObject CRUD and describe, updated/deleted, query paging.

Why each answer looks the way it does: simple-salesforce maps status codes to exceptions and
hands ``e.content`` (the parsed error array) to the caller (facts §1.3), so the status and the
``[{"message","errorCode","fields"}]`` body are part of the contract the adapter is tested
against. Collections live in ``collections.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from crm_sync.sandbox.http import Request, Response, Router
from crm_sync.sandbox.salesforce.context import current_user, lock_fault
from crm_sync.sandbox.salesforce.errors import SfError
from crm_sync.sandbox.salesforce.limits import ApiLimits
from crm_sync.sandbox.salesforce.query import QueryEngine
from crm_sync.sandbox.salesforce.schema import describe_global_entry, describe_object
from crm_sync.sandbox.salesforce.state import Org, Record
from crm_sync.sandbox.salesforce.values import format_datetime, parse_datetime, render

__all__ = ["LATEST_VERSION", "RestApi", "lock_error", "parse_body"]

LATEST_VERSION = "62.0"
_UPDATED_DAYS = 30  # facts §4.2: getUpdated covers 30 days back
_DELETED_DAYS = 15  # facts §4.2: getDeleted covers 15 days back
_MAX_IDS = 600_000


def lock_error(record_id: str | None) -> SfError:
    """Facts §5: ``UNABLE_TO_LOCK_ROW`` (400 on single-record calls, per record in collections)."""
    suffix = f" or 1 records: {record_id}" if record_id else ""
    return SfError(
        "UNABLE_TO_LOCK_ROW", f"unable to obtain exclusive access to this record{suffix}"
    )


def parse_body(request: Request) -> Any:
    """The JSON body or the real ``JSON_PARSER_ERROR`` 400."""
    try:
        return request.json()
    except ValueError as exc:
        raise SfError("JSON_PARSER_ERROR", f"Unexpected character: {exc}").http() from None


def _v(version: str) -> str:
    return version[1:]


class RestApi:
    """The ``/services/data/vXX.X`` REST resources backed by one :class:`Org`."""

    def __init__(self, org: Org, engine: QueryEngine, limits: ApiLimits) -> None:
        self.org = org
        self.engine = engine
        self.limits = limits

    def register(self, router: Router) -> None:
        """Add the routes; specific paths before the ``{id}`` catch-alls."""
        base = "/services/data/{version}"
        router.add("GET", base, self.resources)
        router.add("GET", f"{base}/limits", self.limits_resource)
        router.add("GET", f"{base}/sobjects", self.describe_global)
        router.add("GET", f"{base}/sobjects/{{sobject}}", self.object_info)
        router.add("POST", f"{base}/sobjects/{{sobject}}", self.create)
        router.add("GET", f"{base}/sobjects/{{sobject}}/describe", self.describe)
        router.add("GET", f"{base}/sobjects/{{sobject}}/updated", self.updated)
        router.add("GET", f"{base}/sobjects/{{sobject}}/deleted", self.deleted)
        router.add("GET", f"{base}/sobjects/{{sobject}}/{{record_id}}", self.retrieve)
        router.add("PATCH", f"{base}/sobjects/{{sobject}}/{{record_id}}", self.update)
        router.add("DELETE", f"{base}/sobjects/{{sobject}}/{{record_id}}", self.delete)
        router.add("GET", f"{base}/query", self.query)
        router.add("GET", f"{base}/queryAll", self.query_all)
        router.add("GET", f"{base}/query/{{locator}}", self.query_more)
        router.add("GET", f"{base}/queryAll/{{locator}}", self.query_more)

    # --- discovery -----------------------------------------------------------------------

    def resources(self, request: Request, version: str) -> Response:
        """``GET /services/data/vXX.X``: the resource directory."""
        names = ["sobjects", "query", "queryAll", "limits", "composite", "jobs"]
        return Response.json(200, {n: f"/services/data/{version}/{n}" for n in names})

    def limits_resource(self, request: Request, version: str) -> Response:
        """``GET /limits``."""
        return Response.json(200, self.limits.resource())

    def describe_global(self, request: Request, version: str) -> Response:
        """``GET /sobjects``."""
        objs = [describe_global_entry(o, _v(version)) for o in self.org.schema.values()]
        return Response.json(200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objs})

    def object_info(self, request: Request, version: str, sobject: str) -> Response:
        """``GET /sobjects/{T}``: basic info."""
        obj = self.org.object(sobject)
        info = describe_global_entry(obj, _v(version))
        return Response.json(200, {"objectDescribe": info, "recentItems": []})

    def describe(self, request: Request, version: str, sobject: str) -> Response:
        """``GET /sobjects/{T}/describe``: fields the caller can see (FLS, facts §3.3)."""
        obj = self.org.object(sobject)
        visible = self.org.visible_fields(obj, current_user.get())
        return Response.json(200, describe_object(obj, visible, _v(version)))

    # --- records -------------------------------------------------------------------------

    def render_record(
        self, sobject: str, rec: Record, version: str, fields: list[str] | None = None
    ) -> dict[str, Any]:
        """A record as REST returns it: ``attributes`` then every requested visible field."""
        obj = self.org.object(sobject)
        visible = self.org.visible_fields(obj, current_user.get())
        if fields is not None:
            by_lower = {f.name.lower(): f for f in visible}
            missing = [n for n in fields if n.lower() not in by_lower]
            if missing:
                raise SfError(
                    "INVALID_FIELD",
                    f"No such column '{missing[0]}' on entity '{obj.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                )
            visible = [by_lower[n.lower()] for n in fields]
        out: dict[str, Any] = {
            "attributes": {
                "type": obj.name,
                "url": f"/services/data/{version}/sobjects/{obj.name}/{rec['Id']}",
            }
        }
        for f in visible:
            out[f.name] = render(f, rec.get(f.name))
        return out

    def create(self, request: Request, version: str, sobject: str) -> Response:
        """``POST /sobjects/{T}`` → 201 ``{"id","success","errors"}``."""
        obj = self.org.object(sobject)
        body = parse_body(request)
        if not isinstance(body, dict):
            raise SfError(
                "JSON_PARSER_ERROR",
                "Cannot deserialize instance of " + obj.name + " from START_ARRAY value",
            ).http()
        if lock_fault.get():
            raise lock_error(None).http()
        record_id = self.org.create(obj.name, body, current_user.get())
        return Response.json(201, {"id": record_id, "success": True, "errors": []})

    def retrieve(self, request: Request, version: str, sobject: str, record_id: str) -> Response:
        """``GET /sobjects/{T}/{id}[?fields=a,b]``."""
        obj = self.org.object(sobject)
        full = self.org.get(obj.name, record_id, include_deleted=True)
        if full is None:
            raise SfError("NOT_FOUND", "The requested resource does not exist", status=404).http()
        if full["IsDeleted"]:
            raise SfError("ENTITY_IS_DELETED", "entity is deleted", status=404).http()
        wanted = request.arg("fields")
        fields = [f.strip() for f in wanted.split(",") if f.strip()] if wanted else None
        return Response.json(200, self.render_record(obj.name, full, version, fields))

    def update(self, request: Request, version: str, sobject: str, record_id: str) -> Response:
        """``PATCH /sobjects/{T}/{id}`` → 204."""
        obj = self.org.object(sobject)
        body = parse_body(request)
        if not isinstance(body, dict):
            raise SfError(
                "JSON_PARSER_ERROR",
                "Cannot deserialize instance of " + obj.name + " from START_ARRAY value",
            ).http()
        if lock_fault.get():
            raise lock_error(record_id).http()
        self.org.update(obj.name, record_id, body, current_user.get())
        return Response(204)

    def delete(self, request: Request, version: str, sobject: str, record_id: str) -> Response:
        """``DELETE /sobjects/{T}/{id}`` → 204; the row goes to the recycle bin."""
        obj = self.org.object(sobject)
        if lock_fault.get():
            raise lock_error(record_id).http()
        self.org.delete(obj.name, record_id, current_user.get())
        return Response(204)

    # --- replication (facts §4.2) ---------------------------------------------------------

    def _window(self, request: Request, days: int) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
        raw_start, raw_end = request.arg("start"), request.arg("end")
        if not raw_start or not raw_end:
            raise SfError("MISSING_ARGUMENT", "Both start and end parameters are required").http()
        start, end = parse_datetime(raw_start), parse_datetime(raw_end)
        if start is None or end is None:
            bad = raw_start if start is None else raw_end
            raise SfError("INVALID_REPLICATION_DATE", f"Invalid date/time format: {bad}").http()
        now = self.org.now()
        earliest = (now - dt.timedelta(days=days)).replace(second=0, microsecond=0)
        if start < earliest:
            raise SfError(
                "INVALID_REPLICATION_DATE", f"startDate cannot be more than {days} days ago"
            ).http()
        if end <= start:
            raise SfError("INVALID_REPLICATION_DATE", "EndDate must be after StartDate").http()
        covered = min(end, now).replace(second=0, microsecond=0)  # seconds are truncated
        return start, covered, earliest

    def updated(self, request: Request, version: str, sobject: str) -> Response:
        """``GET /sobjects/{T}/updated?start&end`` → ``{"ids", "latestDateCovered"}``."""
        obj = self.org.object(sobject)
        start, covered, _ = self._window(request, _UPDATED_DAYS)
        with self.org.lock:
            ids = [
                r["Id"] for r in self.org.rows(obj.name) if start <= r["SystemModstamp"] < covered
            ]
        if len(ids) > _MAX_IDS:
            raise SfError("EXCEEDED_ID_LIMIT", "Too many ids: narrow the start/end window").http()
        return Response.json(200, {"ids": ids, "latestDateCovered": format_datetime(covered)})

    def deleted(self, request: Request, version: str, sobject: str) -> Response:
        """``GET /sobjects/{T}/deleted?start&end`` → deletedRecords, earliest/latest dates."""
        obj = self.org.object(sobject)
        start, covered, earliest = self._window(request, _DELETED_DAYS)
        with self.org.lock:
            rows = [
                {"id": rid, "deletedDate": format_datetime(when)}
                for name, rid, when in self.org.deleted_log
                if name == obj.name and start <= when < covered
            ]
        if len(rows) > _MAX_IDS:
            raise SfError("EXCEEDED_ID_LIMIT", "Too many ids: narrow the start/end window").http()
        return Response.json(
            200,
            {
                "deletedRecords": rows,
                "earliestDateAvailable": format_datetime(earliest),
                "latestDateCovered": format_datetime(covered),
            },
        )

    # --- SOQL ------------------------------------------------------------------------------

    def _batch_size(self, request: Request) -> int | None:
        options = request.header("Sforce-Query-Options") or ""
        for part in options.split(","):
            key, _, value = part.strip().partition("=")
            if key.strip() == "batchSize" and value.strip().isdigit():
                return int(value)
        return None

    def _run(self, request: Request, version: str, include_deleted: bool) -> Response:
        text = request.arg("q")
        if text is None:
            raise SfError("MALFORMED_QUERY", "A query string has to be specified").http()
        result = self.engine.execute(
            text,
            include_deleted=include_deleted,
            user=current_user.get(),
            version=_v(version),
            batch_size=self._batch_size(request),
        )
        return Response.json(200, result)

    def query(self, request: Request, version: str) -> Response:
        """``GET /query?q=``."""
        return self._run(request, version, include_deleted=False)

    def query_all(self, request: Request, version: str) -> Response:
        """``GET /queryAll?q=``: also soft-deleted rows (facts §4.2)."""
        return self._run(request, version, include_deleted=True)

    def query_more(self, request: Request, version: str, locator: str) -> Response:
        """``GET /query/01g…-N``: the next page of a cursor."""
        return Response.json(200, self.engine.more(locator, _v(version)))
