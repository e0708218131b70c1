"""Bulk API 2.0 ingest: job, one CSV upload, UploadComplete, state polling, result CSVs.

Why emulate the awkward parts (facts §2.2, Gotcha 7): crm_sync switches to Bulk above ~2,000
records, and the naive mistakes are all here — an empty CSV cell does *not* null a field
(``#N/A`` does), results are counts only and the per-row outcome lives in
``successfulResults``/``failedResults`` CSVs whose rows are *not* in input order, and a job
accepts exactly one upload. Rows go through the same save path as REST (``Org.create``/...),
so restricted picklists and required fields fail per row with ``CODE:message:fields --``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass, field
from typing import Any

from crm_sync.sandbox.http import Request, Response, Router
from crm_sync.sandbox.salesforce.context import current_user, lock_fault
from crm_sync.sandbox.salesforce.errors import SfError
from crm_sync.sandbox.salesforce.limits import ApiLimits
from crm_sync.sandbox.salesforce.rest import lock_error, parse_body
from crm_sync.sandbox.salesforce.state import Org
from crm_sync.sandbox.salesforce.values import format_datetime

__all__ = ["BulkIngest"]

_DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
_OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
_MAX_UPLOAD = 150 * 1024 * 1024  # facts §2.2: 150 MB per job
_ROWS_PER_BATCH = 10_000  # facts §2.2: one internal batch per 10,000 records
_NULL = "#N/A"  # facts §2.2: the only way to null a field in Bulk CSV


@dataclass
class _Job:
    info: dict[str, Any]
    user: str
    data: bytes | None = None
    polls: int = 0
    successful: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    unprocessed: list[dict[str, str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)


def _bad(code: str, message: str) -> SfError:
    return SfError(code, message, status=400)


class BulkIngest:
    """The ``/jobs/ingest`` resources. ``hard_delete_enabled`` mirrors the off-by-default permission."""

    def __init__(self, org: Org, limits: ApiLimits, *, hard_delete_enabled: bool = False) -> None:
        self.org = org
        self.limits = limits
        self.hard_delete_enabled = hard_delete_enabled
        self.jobs: dict[str, _Job] = {}

    def register(self, router: Router) -> None:
        """Add the ingest routes."""
        base = "/services/data/{version}/jobs/ingest"
        router.add("POST", base, self.create)
        router.add("GET", base, self.list_jobs)
        router.add("GET", f"{base}/{{job_id}}", self.get)
        router.add("PATCH", f"{base}/{{job_id}}", self.set_state)
        router.add("DELETE", f"{base}/{{job_id}}", self.delete)
        router.add("PUT", f"{base}/{{job_id}}/batches", self.upload)
        router.add("GET", f"{base}/{{job_id}}/successfulResults", self.successful)
        router.add("GET", f"{base}/{{job_id}}/failedResults", self.failed)
        router.add("GET", f"{base}/{{job_id}}/unprocessedrecords", self.unprocessed)
        # simple-salesforce asks for the camelCase spelling (facts §2.2 [UNVERIFIED] on the server).
        router.add("GET", f"{base}/{{job_id}}/unprocessedRecords", self.unprocessed)

    def _job(self, job_id: str) -> _Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
        return job

    def create(self, request: Request, version: str) -> Response:
        """``POST /jobs/ingest``: validate the options a real org validates, answer the Open job."""
        body = parse_body(request)
        if not isinstance(body, dict):
            raise _bad("JSON_PARSER_ERROR", "Invalid job definition")
        operation = body.get("operation")
        if operation not in _OPERATIONS:
            raise _bad("INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
        if operation == "hardDelete" and not self.hard_delete_enabled:
            raise _bad(
                "INVALIDJOB",
                "InvalidJob : Bulk API Hard Delete permission is required for hardDelete",
            )
        obj = self.org.find_object(str(body.get("object")))
        if obj is None:
            raise _bad("INVALIDJOB", f"InvalidJob : Unable to find object: {body.get('object')}")
        if body.get("contentType", "CSV") != "CSV":
            raise _bad("INVALIDJOB", f"InvalidJob : Invalid contentType: {body.get('contentType')}")
        delimiter = body.get("columnDelimiter", "COMMA")
        if delimiter not in _DELIMITERS:
            raise _bad("INVALIDJOB", f"InvalidJob : Invalid columnDelimiter: {delimiter}")
        line_ending = body.get("lineEnding", "LF")
        if line_ending not in ("LF", "CRLF"):
            raise _bad("INVALIDJOB", f"InvalidJob : Invalid lineEnding: {line_ending}")
        external = body.get("externalIdFieldName")
        if operation == "upsert":
            f = obj.field(str(external or ""))
            if f is None or not (f.type == "id" or f.external_id):
                raise _bad(
                    "INVALIDJOB",
                    f"InvalidJob : Field name provided, {external} is not an External ID or indexed field for {obj.name}",
                )
        job_id = self.org.ids.new("750")
        now = format_datetime(self.org.now())
        info: dict[str, Any] = {
            "id": job_id, "operation": operation, "object": obj.name,
            "createdById": current_user.get(), "createdDate": now, "systemModstamp": now,
            "state": "Open", "concurrencyMode": "Parallel", "contentType": "CSV",
            "apiVersion": float(version[1:]), "contentUrl": f"services/data/{version}/jobs/ingest/{job_id}/batches",
            "lineEnding": line_ending, "columnDelimiter": delimiter, "jobType": "V2Ingest",
        }  # fmt: skip
        if external:
            info["externalIdFieldName"] = external
        self.jobs[job_id] = _Job(info, current_user.get())
        return Response.json(200, info)

    def list_jobs(self, request: Request, version: str) -> Response:
        """``GET /jobs/ingest``."""
        records = [dict(j.info) for j in self.jobs.values()]
        return Response.json(200, {"done": True, "records": records, "nextRecordsUrl": None})

    def get(self, request: Request, version: str, job_id: str) -> Response:
        """``GET /jobs/ingest/{id}``: a processed job shows InProgress once, then JobComplete."""
        job = self._job(job_id)
        info = dict(job.info)
        if info["state"] == "JobComplete" and job.polls == 0:
            info["state"] = "InProgress"
        job.polls += 1
        info.update({
            "numberRecordsProcessed": len(job.successful) + len(job.failed),
            "numberRecordsFailed": len(job.failed), "retries": 0,
            "totalProcessingTime": 0, "apiActiveProcessingTime": 0, "apexProcessingTime": 0,
        })  # fmt: skip
        return Response.json(200, info)

    def upload(self, request: Request, version: str, job_id: str) -> Response:
        """``PUT /jobs/ingest/{id}/batches``: one CSV per job, only while Open."""
        job = self._job(job_id)
        if job.data is not None:
            raise _bad(
                "BULK_API_ERROR",
                f"Found multiple contents for job: <{job_id}>, please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job.",
            )
        if job.info["state"] != "Open":
            raise _bad("INVALIDJOBSTATE", f"Job {job_id} is not in the Open state")
        if not (request.header("Content-Type") or "").lower().startswith("text/csv"):
            raise _bad("INVALID_CONTENT_TYPE", "Content-Type must be text/csv")
        if len(request.body) > _MAX_UPLOAD:
            raise _bad("INVALIDJOB", "InvalidJob : Upload exceeds the 150 MB limit")
        job.data = request.body
        return Response(201)

    def set_state(self, request: Request, version: str, job_id: str) -> Response:
        """``PATCH /jobs/ingest/{id}`` with ``UploadComplete`` (process) or ``Aborted``."""
        job = self._job(job_id)
        body = parse_body(request) or {}
        state = body.get("state") if isinstance(body, dict) else None
        current = job.info["state"]
        if state == "Aborted" and current in ("Open", "UploadComplete", "InProgress"):
            job.info["state"] = "Aborted"
            if job.data is not None:  # the upload was never attempted: all of it is unprocessed
                parsed = list(
                    csv.DictReader(
                        io.StringIO(job.data.decode("utf-8-sig"), newline=""),
                        delimiter=_DELIMITERS[job.info["columnDelimiter"]],
                    )
                )
                job.columns = list(parsed[0]) if parsed else []
                job.unprocessed = [dict(r) for r in parsed]
        elif state == "UploadComplete" and current == "Open":
            self._process(job)
        else:
            raise _bad("INVALIDJOBSTATE", f"Invalid job state transition from {current} to {state}")
        job.info["systemModstamp"] = format_datetime(self.org.now())
        out = dict(job.info)
        if state == "UploadComplete":
            out["state"] = "UploadComplete"
        return Response.json(200, out)

    def delete(self, request: Request, version: str, job_id: str) -> Response:
        """``DELETE /jobs/ingest/{id}``: only finished or aborted jobs."""
        job = self._job(job_id)
        if job.info["state"] in ("Open", "InProgress"):
            raise _bad(
                "INVALIDJOBSTATE", f"Job {job_id} must be closed or aborted before it is deleted"
            )
        del self.jobs[job_id]
        return Response(204)

    # --- processing --------------------------------------------------------------------------

    def _fail_job(self, job: _Job, message: str) -> None:
        job.info["state"] = "Failed"
        job.info["errorMessage"] = message

    def _process(self, job: _Job) -> None:
        info = job.info
        if job.data is None:
            self._fail_job(job, "InvalidBatch : No data was uploaded for this job")
            return
        text = job.data.decode("utf-8-sig")
        if info["lineEnding"] == "LF" and "\r\n" in text:
            self._fail_job(
                job,
                "InvalidBatch : LineEnding is invalid on user data. Current LineEnding setting is LF",
            )
            return
        rows = list(
            csv.reader(
                io.StringIO(text, newline=""), delimiter=_DELIMITERS[info["columnDelimiter"]]
            )
        )
        rows = [r for r in rows if r]
        if not rows:
            self._fail_job(job, "InvalidBatch : No data was uploaded for this job")
            return
        header, body = rows[0], rows[1:]
        obj = self.org.object(info["object"])
        for column in header:
            f, _ = self.org.field_access(obj, column, job.user)
            if f is None:
                self._fail_job(job, f"InvalidBatch : Field name not found : {column}")
                return
        if info["operation"] in ("delete", "hardDelete") and [c.lower() for c in header] != ["id"]:
            self._fail_job(job, "InvalidBatch : The 'delete' batch must contain only 'Id' field")
            return
        if not self.limits.charge_batches(max(1, math.ceil(len(body) / _ROWS_PER_BATCH))):
            self._fail_job(job, "InvalidBatch : Exceeded the daily limit of Bulk API batches")
            return
        job.columns = header
        for index, cells in enumerate(body):
            original = dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=False))
            self._row(job, index, original)

        def order(r: dict[str, str]) -> str:
            return hashlib.sha256(
                f"{info['id']}:{r.get('sf__Id')}:{sorted(r.items())}".encode()
            ).hexdigest()

        job.successful.sort(key=order)  # facts §2.2: results are not in input order
        job.failed.sort(key=order)
        info["state"] = "JobComplete"

    def _row(self, job: _Job, index: int, original: dict[str, str]) -> None:
        op = job.info["operation"]
        data = {k: (None if v == _NULL else v) for k, v in original.items() if v != ""}
        record_id = next((v for k, v in data.items() if k.lower() == "id"), None)
        data = {k: v for k, v in data.items() if k.lower() != "id"}
        created = False
        try:
            with self.org.transaction():
                if lock_fault.get() and index == 0:
                    raise lock_error(record_id)
                if op == "insert" or (op == "upsert" and not record_id):
                    record_id = self.org.create(job.info["object"], data, job.user)
                    created = True
                elif not record_id:
                    raise SfError(
                        "MISSING_ARGUMENT", "Id not specified in an update call", fields=["Id"]
                    )
                elif op in ("update", "upsert"):
                    self.org.update(job.info["object"], record_id, data, job.user)
                elif op == "delete":
                    self.org.delete(job.info["object"], record_id, job.user)
                else:
                    self.org.hard_delete(job.info["object"], record_id, job.user)
        except SfError as exc:
            if exc.code == "NOT_FOUND":
                exc = SfError(
                    "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", fields=["Id"]
                )
            job.failed.append(
                {
                    "sf__Id": record_id if not created and record_id else "",
                    "sf__Error": exc.bulk_error(),
                    **original,
                }
            )
            return
        job.successful.append(
            {"sf__Id": record_id or "", "sf__Created": "true" if created else "false", **original}
        )

    def _csv(self, job: _Job, first: list[str], rows: list[dict[str, str]]) -> Response:
        if job.info["state"] not in ("JobComplete", "Failed", "Aborted"):
            raise _bad("INVALIDJOBSTATE", f"Job {job.info['id']} is not complete")
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(first + job.columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in first + job.columns])
        return Response.text(200, out.getvalue(), "text/csv")

    def successful(self, request: Request, version: str, job_id: str) -> Response:
        """``successfulResults``: ``sf__Id, sf__Created`` + the columns sent."""
        job = self._job(job_id)
        return self._csv(job, ["sf__Id", "sf__Created"], job.successful)

    def failed(self, request: Request, version: str, job_id: str) -> Response:
        """``failedResults``: ``sf__Id, sf__Error`` + the columns sent."""
        job = self._job(job_id)
        return self._csv(job, ["sf__Id", "sf__Error"], job.failed)

    def unprocessed(self, request: Request, version: str, job_id: str) -> Response:
        """``unprocessedrecords``: rows never attempted (an aborted job's upload)."""
        job = self._job(job_id)
        return self._csv(job, [], job.unprocessed)
