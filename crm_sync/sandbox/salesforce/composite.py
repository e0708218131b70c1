"""sObject Collections (``/composite/sobjects``): up to 200 records, one result per record.

Why this matters most: it is how crm_sync writes segments and tags (facts §0 item 3). A
well-formed request answers HTTP 200 *even when records fail*; each result carries
``success`` and ``errors`` keyed ``statusCode`` (Gotcha 5), results come back in request order,
and ``allOrNone: true`` rolls every record back when one fails. Only a malformed request (over
200 records, bad JSON) is a 400.
"""

from __future__ import annotations

from typing import Any

from crm_sync.sandbox.http import Request, Response, Router
from crm_sync.sandbox.salesforce.context import current_user, lock_fault
from crm_sync.sandbox.salesforce.errors import SfError
from crm_sync.sandbox.salesforce.ids import normalize_id
from crm_sync.sandbox.salesforce.rest import RestApi, lock_error, parse_body
from crm_sync.sandbox.salesforce.state import Org

__all__ = ["MAX_RECORDS", "Collections"]

MAX_RECORDS = 200
MAX_CHUNKS = 10  # facts §2.3: object types may be mixed in up to 10 consecutive chunks
_TOO_MANY = "record limit reached. cannot submit more than 200 records into this call"
_ROLLED_BACK = SfError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone header",
)


def _rolled_back(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """allOrNone: every record that had succeeded reports the roll-back error instead."""
    return [
        r if not r["success"] else {"success": False, "errors": [_ROLLED_BACK.save_error()]}
        for r in results
    ]


def _min_version(version: str) -> None:
    if float(version[1:]) < 42.0:  # collections exist from API v42.0
        raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)


class Collections:
    """The four collection verbs over one org."""

    def __init__(self, org: Org, rest: RestApi) -> None:
        self.org = org
        self.rest = rest

    def register(self, router: Router) -> None:
        """Add the ``composite/sobjects`` routes."""
        base = "/services/data/{version}/composite/sobjects"
        router.add("POST", base, self.create)
        router.add("PATCH", base, self.update)
        router.add("DELETE", base, self.delete)
        router.add("GET", f"{base}/{{sobject}}", self.retrieve)

    def _records(self, request: Request, version: str) -> tuple[list[Any], bool]:
        _min_version(version)
        body = parse_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise SfError(
                "JSON_PARSER_ERROR",
                'The request body must be {"allOrNone": bool, "records": [...]}',
            )
        records = body["records"]
        if len(records) > MAX_RECORDS:
            raise SfError("EXCEEDED_ID_LIMIT", _TOO_MANY)
        types = [
            r.get("attributes", {}).get("type") if isinstance(r, dict) else None for r in records
        ]
        chunks = sum(1 for i, t in enumerate(types) if i == 0 or t != types[i - 1])
        if chunks > MAX_CHUNKS:
            raise SfError(
                "INVALID_BATCH_REQUEST",
                "Cannot have more than 10 chunks in a single operation. Please rearrange the data to reduce chunking.",
            )
        all_or_none = body.get("allOrNone", False)
        if not isinstance(all_or_none, bool):
            raise SfError(
                "JSON_PARSER_ERROR",
                f"Cannot deserialize instance of boolean from value {all_or_none}",
            )
        return records, all_or_none

    def _save(self, records: list[Any], all_or_none: bool, creating: bool) -> list[dict[str, Any]]:
        user = current_user.get()
        results: list[dict[str, Any]] = []
        failed = False
        with self.org.lock:
            try:
                with self.org.transaction():
                    for index, raw in enumerate(records):
                        try:
                            with self.org.transaction():  # each record saves atomically
                                results.append(self._save_one(raw, index, user, creating))
                        except SfError as exc:
                            failed = True
                            results.append({"success": False, "errors": [exc.save_error()]})
                    if failed and all_or_none:
                        raise _RollBack
            except _RollBack:
                results = _rolled_back(results)
        return results

    def _save_one(self, raw: Any, index: int, user: str, creating: bool) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise SfError("INVALID_TYPE", "Must send a concrete entity type.")
        sobject = (raw.get("attributes") or {}).get("type")
        if not sobject:
            raise SfError("INVALID_TYPE", "Must send a concrete entity type.")
        data = {k: v for k, v in raw.items() if k.lower() != "id"}
        record_id = next((v for k, v in raw.items() if k.lower() == "id"), None)
        if self.org.find_object(sobject) is None:
            raise SfError("INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
        if creating:
            if record_id is not None:
                raise SfError("INVALID_FIELD", "cannot specify Id in an insert call", fields=["Id"])
            if lock_fault.get() and index == 0:
                raise lock_error(None)
            new_id = self.org.create(sobject, data, user)
            return {"id": new_id, "success": True, "errors": []}
        if not record_id:
            raise SfError("MISSING_ARGUMENT", "Id not specified in an update call", fields=["Id"])
        if normalize_id(str(record_id)) is None:
            raise SfError("MALFORMED_ID", f"malformed id {record_id}", fields=["Id"])
        if lock_fault.get() and index == 0:
            raise lock_error(str(record_id))
        self._update(sobject, str(record_id), data, user)
        return {"id": normalize_id(str(record_id)), "success": True, "errors": []}

    def _update(self, sobject: str, record_id: str, data: dict[str, Any], user: str) -> None:
        try:
            self.org.update(sobject, record_id, data, user)
        except SfError as exc:
            if exc.code == "NOT_FOUND":  # per-record form of a missing row
                raise SfError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id") from None
            raise

    def create(self, request: Request, version: str) -> Response:
        """``POST /composite/sobjects``."""
        records, all_or_none = self._records(request, version)
        return Response.json(200, self._save(records, all_or_none, creating=True))

    def update(self, request: Request, version: str) -> Response:
        """``PATCH /composite/sobjects``."""
        records, all_or_none = self._records(request, version)
        return Response.json(200, self._save(records, all_or_none, creating=False))

    def delete(self, request: Request, version: str) -> Response:
        """``DELETE /composite/sobjects?ids=a,b&allOrNone=false``."""
        _min_version(version)
        ids = [i for i in (request.arg("ids") or "").split(",") if i]
        if not ids:
            raise SfError("MISSING_ARGUMENT", "ids parameter is required")
        if len(ids) > MAX_RECORDS:
            raise SfError("EXCEEDED_ID_LIMIT", _TOO_MANY)
        all_or_none = (request.arg("allOrNone") or "false").lower() == "true"
        user = current_user.get()
        results: list[dict[str, Any]] = []
        failed = False
        with self.org.lock:
            try:
                with self.org.transaction():
                    for index, raw in enumerate(ids):
                        try:
                            full = normalize_id(raw)
                            obj = self.org.object_for_id(full) if full else None
                            if full is None or obj is None:
                                raise SfError("MALFORMED_ID", f"malformed id {raw}")
                            if lock_fault.get() and index == 0:
                                raise lock_error(full)
                            rec = self.org.get(obj.name, full, include_deleted=True)
                            if rec is None:
                                raise SfError(
                                    "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"
                                )
                            self.org.delete(obj.name, full, user)
                            results.append({"id": full, "success": True, "errors": []})
                        except SfError as exc:
                            failed = True
                            results.append({"success": False, "errors": [exc.save_error()]})
                    if failed and all_or_none:
                        raise _RollBack
            except _RollBack:
                results = _rolled_back(results)
        return Response.json(200, results)

    def retrieve(self, request: Request, version: str, sobject: str) -> Response:
        """``GET /composite/sobjects/{T}?ids=&fields=``: records in order, ``null`` when missing."""
        _min_version(version)
        obj = self.org.object(sobject)
        ids = [i for i in (request.arg("ids") or "").split(",") if i]
        fields = [f for f in (request.arg("fields") or "").split(",") if f]
        if not ids or not fields:
            raise SfError("MISSING_ARGUMENT", "ids and fields parameters are required")
        if len(ids) > 2000:
            raise SfError("EXCEEDED_ID_LIMIT", "too many ids: at most 2000")
        out: list[dict[str, Any] | None] = []
        for raw in ids:
            rec = self.org.get(obj.name, raw)
            out.append(self.rest.render_record(obj.name, rec, version, fields) if rec else None)
        return Response.json(200, out)


class _RollBack(Exception):
    """Internal: leave the transaction block so every write in it is undone."""
