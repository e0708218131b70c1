"""Writes through sObject Collections: ≤200 records per call, one SaveResult per record.

Why per record (facts §2.3, Gotcha 5): ``PATCH /composite/sobjects`` answers HTTP 200 even when
records fail, with results in request order keyed ``statusCode``; the whole request counts as one
API call, so 10,000 records cost 50 calls. A record that fails ``UNABLE_TO_LOCK_ROW`` (facts §5) is
re-sent *alone* — never the whole batch, which would write the other 199 twice — under the
project's one retry policy (:mod:`crm_sync.sync.retry`). A session that expires mid-push is
refreshed by the client and the refused request repeated; a 401 is answered before anything is
saved, so nothing is lost or written twice.

Routing (Gotcha 16, mapping ``objects.leads``): a contact id with the Lead prefix ``00Q`` is
written to ``Lead`` with the same field names; an id with the Account prefix ``001`` is a Person
Account, whose contact fields live on Account as ``Field__pc``. Multi-select picklists are written
as the full ``;``-joined set the engine expects after its per-value diff (``TagUpdate.result``:
the CRM's current values with crm_sync's additions and removals applied, so values crm_sync does
not own are kept — Gotcha 9).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from crm_sync.adapters.base import PropertyUpdate, PushResult, RecordRejection, RecordUpdate
from crm_sync.adapters.salesforce.client import SalesforceClient
from crm_sync.adapters.salesforce.errors import LOCK_CODE, is_lock_error, record_rejection
from crm_sync.errors import TransientError
from crm_sync.sync.retry import RetryPolicy, retrying

__all__ = ["COLLECTION_SIZE", "Routing", "Row", "merge_results", "send_collections"]

COLLECTION_SIZE = 200  # facts §2.3: at most 200 records per collection call
LEAD_PREFIX = "00Q"
ACCOUNT_PREFIX = "001"


@dataclass(frozen=True, slots=True)
class Row:
    """One record to write: its object, id and field values (``None`` clears a field)."""

    sobject: str
    record_id: str
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Routing:
    """Which object each entity's ids are written to (from the mapping's ``objects``)."""

    company: str = "Account"
    contact: str = "Contact"
    leads: bool = True
    person_accounts: bool = False

    def rows(self, updates: Iterable[RecordUpdate]) -> tuple[list[Row], list[RecordRejection]]:
        """Turn engine updates into rows; ids that cannot be routed are rejected up front."""
        rows: list[Row] = []
        rejected: list[RecordRejection] = []
        for upd in updates:
            sobject, suffix = self.company, ""
            if upd.entity == "contact":
                sobject = self.contact
                if upd.record_id.startswith(LEAD_PREFIX):
                    if not self.leads:
                        rejected.append(_unroutable(upd.record_id, "Lead routing is disabled"))
                        continue
                    sobject = "Lead"
                elif upd.record_id.startswith(ACCOUNT_PREFIX):
                    if not self.person_accounts:
                        reason = "an Account id in the contact stream, but no Person Accounts"
                        rejected.append(_unroutable(upd.record_id, reason))
                        continue
                    sobject, suffix = "Account", "pc"  # Field__c -> Field__pc (Gotcha 16)
            values: dict[str, Any] = {}
            for change in upd.changes:
                name = change.property
                if suffix and name.endswith("__c"):
                    name = name[:-1] + suffix
                if isinstance(change, PropertyUpdate):
                    values[name] = change.new
                else:
                    values[name] = ";".join(sorted(change.result)) or None
            rows.append(Row(sobject, upd.record_id, values))
        return rows, rejected


def _unroutable(record_id: str, why: str) -> RecordRejection:
    return RecordRejection(record_id, f"cannot route record to a Salesforce object: {why}", "ROUTE")


def merge_results(results: Iterable[PushResult]) -> PushResult:
    """Concatenate per-record outcomes."""
    accepted: list[str] = []
    rejected: list[RecordRejection] = []
    for r in results:
        accepted.extend(r.accepted)
        rejected.extend(r.rejected)
    return PushResult(tuple(accepted), tuple(rejected))


def _body(rows: Sequence[Row]) -> dict[str, Any]:
    records = [
        {"attributes": {"type": r.sobject}, "id": r.record_id, **r.fields}
        for r in sorted(rows, key=lambda r: r.sobject)  # one chunk per object (≤10 allowed)
    ]
    return {"allOrNone": False, "records": records}


@dataclass
class _Outcome:
    accepted: list[str] = field(default_factory=list)
    rejected: list[RecordRejection] = field(default_factory=list)
    locked: list[Row] = field(default_factory=list)


def _one_call(client: SalesforceClient, rows: Sequence[Row], out: _Outcome) -> None:
    ordered = sorted(rows, key=lambda r: r.sobject)
    results = client.restful(
        "composite/sobjects", "composite/sobjects", method="PATCH", body=_body(ordered)
    )
    if not isinstance(results, list) or len(results) != len(ordered):
        msg = "composite/sobjects answered without one result per record; resending the batch"
        raise TransientError(msg, crm="salesforce", operation="composite/sobjects")
    for row, result in zip(ordered, results, strict=True):
        errors = result.get("errors") or []
        if result.get("success"):
            out.accepted.append(row.record_id)
        elif is_lock_error(errors):
            out.locked.append(row)
        else:
            out.rejected.append(record_rejection(row.record_id, errors))


def send_collections(
    client: SalesforceClient,
    rows: Sequence[Row],
    *,
    lock_policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
) -> PushResult:
    """Write ``rows`` 200 at a time; retry only the records that hit a row lock."""
    out = _Outcome()
    for start in range(0, len(rows), COLLECTION_SIZE):
        _one_call(client, rows[start : start + COLLECTION_SIZE], out)
    if out.locked:
        _retry_locked(client, out, lock_policy, sleep)
    return PushResult(tuple(out.accepted), tuple(out.rejected))


def _retry_locked(
    client: SalesforceClient, out: _Outcome, policy: RetryPolicy, sleep: Callable[[float], None]
) -> None:
    """Re-send locked records alone, with backoff, until they save or the policy gives up."""
    pending = list(out.locked)
    out.locked.clear()
    sleep(policy.initial_wait_s)  # give the competing transaction time to commit
    try:
        for attempt in retrying(policy, sleep=sleep):
            with attempt:
                retry = _Outcome()
                for start in range(0, len(pending), COLLECTION_SIZE):
                    _one_call(client, pending[start : start + COLLECTION_SIZE], retry)
                out.accepted.extend(retry.accepted)
                out.rejected.extend(retry.rejected)
                pending = retry.locked
                if pending:
                    msg = f"{LOCK_CODE} persists on {len(pending)} record(s)"
                    raise TransientError(msg, crm="salesforce", operation="composite/sobjects")
    except TransientError:
        reason = "UNABLE_TO_LOCK_ROW: unable to obtain exclusive access to this record (retried)"
        out.rejected.extend(RecordRejection(r.record_id, reason, LOCK_CODE) for r in pending)
