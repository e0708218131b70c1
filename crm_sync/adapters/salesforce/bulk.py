"""Bulk API 2.0 ingest for large pushes (default: 2,000 records or more; facts §0 item 3, §2.2).

Why the steps are driven one by one instead of ``sf.bulk2.X.update``: each step is then one
refreshable call (an expired session mid-job refreshes and re-polls the *same* job instead of
creating a second one), ``wait`` never sleeps in tests, and the CSV is ours, which matters:

* an empty CSV cell is *ignored* on update; ``#N/A`` is what nulls a field (Gotcha 7);
* results are counts plus ``failedResults``/``unprocessedrecords`` CSVs whose rows are *not*
  in input order, so failures are correlated by ``sf__Id`` (falling back to the ``Id`` column
  we sent), and every row that is neither failed nor unprocessed was accepted;
* rows that failed ``UNABLE_TO_LOCK_ROW`` are handed back so the caller re-sends just those
  through collections with the per-record lock retry.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from crm_sync.adapters.base import RecordRejection
from crm_sync.adapters.salesforce.client import SalesforceClient
from crm_sync.adapters.salesforce.errors import LOCK_CODE
from crm_sync.adapters.salesforce.push import Row
from crm_sync.errors import TransientError, redact

__all__ = ["BULK_THRESHOLD", "BulkOutcome", "bulk_update"]

BULK_THRESHOLD = 2_000  # Salesforce recommends Bulk 2.0 above ~2,000 records (facts §2.2)
NULL = "#N/A"
_DONE = ("JobComplete", "Failed", "Aborted")


@dataclass
class BulkOutcome:
    """Accepted ids, rejections, and rows to re-send (row locks)."""

    accepted: list[str] = field(default_factory=list)
    rejected: list[RecordRejection] = field(default_factory=list)
    locked: list[Row] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)


def _csv(rows: Sequence[Row]) -> tuple[str, list[str]]:
    columns = sorted({name for r in rows for name in r.fields})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Id", *columns])
    for r in rows:
        cells = []
        for c in columns:
            if c not in r.fields:
                cells.append("")  # not sent: an empty cell leaves the field alone
            elif r.fields[c] is None:
                cells.append(NULL)
            elif isinstance(r.fields[c], bool):
                cells.append("true" if r.fields[c] else "false")
            else:
                cells.append(str(r.fields[c]))
        writer.writerow([r.record_id, *cells])
    return out.getvalue(), columns


def _code(error: str) -> str:
    """``CODE:message:fields --`` → ``CODE``."""
    return error.partition(":")[0].strip()


def bulk_update(
    client: SalesforceClient,
    sobject: str,
    rows: Sequence[Row],
    *,
    poll_s: float = 2.0,
    max_wait_s: float = 1800.0,
    sleep: Callable[[float], None] = time.sleep,
) -> BulkOutcome:
    """One update job for ``rows`` of one object; every failed row is reported."""
    text, _ = _csv(rows)
    job = client.restful(
        "bulk2.create",
        "jobs/ingest",
        method="POST",
        body={"object": sobject, "operation": "update", "contentType": "CSV", "lineEnding": "LF"},
    )
    job_id = str(job["id"])
    base = f"jobs/ingest/{job_id}"
    client.raw(
        "bulk2.upload", "PUT", f"{base}/batches", data=text.encode(), content_type="text/csv"
    )
    client.restful("bulk2.close", base, method="PATCH", body={"state": "UploadComplete"})
    info = _wait(client, base, poll_s, max_wait_s, sleep)
    outcome = BulkOutcome(jobs=[job_id])
    by_id = {r.record_id: r for r in rows}
    done: set[str] = set()
    if info.get("state") == "Failed" and not int(info.get("numberRecordsProcessed") or 0):
        reason = redact(f"Bulk job failed: {info.get('errorMessage', 'no reason given')}")
        outcome.rejected = [RecordRejection(r.record_id, reason, "BULK_JOB_FAILED") for r in rows]
        return outcome
    for row in _results(client, f"{base}/failedResults"):
        rid = row.get("sf__Id") or row.get("Id") or ""
        if rid not in by_id or rid in done:
            continue
        done.add(rid)
        error = row.get("sf__Error", "")
        if _code(error) == LOCK_CODE:
            outcome.locked.append(by_id[rid])
        else:
            outcome.rejected.append(
                RecordRejection(rid, redact(error.rstrip(" -"))[:300], _code(error))
            )
    if info.get("state") != "JobComplete":
        for row in _results(client, f"{base}/unprocessedrecords"):
            rid = row.get("Id") or ""
            if rid in by_id and rid not in done:
                done.add(rid)
                reason = f"not processed: the Bulk job ended {info.get('state')}"
                outcome.rejected.append(RecordRejection(rid, reason, "BULK_UNPROCESSED"))
    outcome.accepted = [r.record_id for r in rows if r.record_id not in done]
    return outcome


def _wait(
    client: SalesforceClient,
    base: str,
    poll_s: float,
    max_wait_s: float,
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    waited = 0.0
    while True:
        info = client.restful("bulk2.poll", base)
        if isinstance(info, dict) and info.get("state") in _DONE:
            return info
        if waited >= max_wait_s:
            msg = f"Bulk job {base} still running after {max_wait_s:.0f}s; the next run retries"
            raise TransientError(msg, crm="salesforce", operation="bulk2.poll")
        sleep(poll_s)
        waited += max(poll_s, 0.001)


def _results(client: SalesforceClient, path: str) -> list[dict[str, str]]:
    response = client.raw("bulk2.results", "GET", path, accept="text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))
