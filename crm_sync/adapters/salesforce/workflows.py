"""Workflow triggers beyond field changes: CampaignMember rows per tag, autolaunched Flows.

Why campaign membership (facts §6): it is the most portable trigger for Account Engagement and
Marketing Cloud. A member's ``Status`` must be one of *that campaign's* ``CampaignMemberStatus``
labels (Gotcha 15), so it is read per campaign — the campaign's default status — never
hard-coded. Creating a membership that already exists is not an error for crm_sync
(``DUPLICATE_VALUE`` counts as accepted), so a retried batch converges.

Flows (facts §6): ``POST /actions/custom/flow/{Name}`` with ``{"inputs": [{"recordId": ...}]}``
runs an *active autolaunched* flow once per input and answers one
``{"isSuccess", "errors", "outputValues"}`` per input, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crm_sync.adapters.base import PushResult, RecordRejection
from crm_sync.adapters.salesforce.client import SalesforceClient, soql
from crm_sync.adapters.salesforce.errors import record_rejection
from crm_sync.adapters.salesforce.soql import chunked_in, select
from crm_sync.errors import PermanentError

__all__ = ["FLOW_BATCH", "campaign_status", "invoke_flow", "set_campaign_members"]

FLOW_BATCH = 200
_BATCH = 200


def campaign_status(client: SalesforceClient, campaign_id: str) -> str:
    """The campaign's default member status (every campaign has one since v39, facts §4.1)."""
    q = soql(
        "SELECT Label, IsDefault, SortOrder FROM CampaignMemberStatus WHERE CampaignId = {} "
        "ORDER BY IsDefault DESC, SortOrder, Label",
        campaign_id,
    )
    rows = list(client.query(q))
    if not rows:
        msg = (
            f"campaign {campaign_id} has no member statuses (or does not exist); check the mapping"
        )
        raise PermanentError(msg, crm="salesforce", operation="campaign_members")
    return str(rows[0]["Label"])


def _who(record_id: str) -> str:
    return "LeadId" if record_id.startswith("00Q") else "ContactId"


def _existing(client: SalesforceClient, campaign_id: str, ids: Sequence[str]) -> dict[str, str]:
    """``{person id: CampaignMember id}`` for the given contacts and leads."""
    out: dict[str, str] = {}
    for column in ("ContactId", "LeadId"):
        wanted = [i for i in ids if _who(i) == column]
        if not wanted:
            continue
        template = select(
            ["Id", column],
            "CampaignMember",
            soql("CampaignId = {} AND ", campaign_id) + "{in}",
            order_by_cursor=False,
        )
        for q in chunked_in(template, column, wanted):
            out.update({str(r[column]): str(r["Id"]) for r in client.query(q)})
    return out


def set_campaign_members(
    client: SalesforceClient, campaign_id: str, add: Sequence[str], remove: Sequence[str]
) -> PushResult:
    """Create missing memberships for ``add`` and delete those of ``remove``."""
    existing = _existing(client, campaign_id, [*add, *remove])
    accepted = [i for i in add if i in existing]
    rejected: list[RecordRejection] = []
    todo = [i for i in add if i not in existing]
    if todo:
        status = campaign_status(client, campaign_id)
        for start in range(0, len(todo), _BATCH):
            batch = todo[start : start + _BATCH]
            records = [
                {
                    "attributes": {"type": "CampaignMember"},
                    "CampaignId": campaign_id,
                    _who(i): i,
                    "Status": status,
                }
                for i in batch
            ]
            results = client.restful(
                "campaign_members",
                "composite/sobjects",
                method="POST",
                body={"allOrNone": False, "records": records},
            )
            for rid, res in zip(batch, results or [], strict=False):
                codes = {e.get("statusCode") for e in res.get("errors") or []}
                if res.get("success") or "DUPLICATE_VALUE" in codes:
                    accepted.append(rid)
                else:
                    rejected.append(record_rejection(rid, res.get("errors") or []))
    gone = [(i, existing[i]) for i in remove if i in existing]
    accepted += [i for i in remove if i not in existing]
    for start in range(0, len(gone), _BATCH):
        members = gone[start : start + _BATCH]
        results = client.restful(
            "campaign_members",
            "composite/sobjects",
            method="DELETE",
            params={"ids": ",".join(m for _, m in members), "allOrNone": "false"},
        )
        for (rid, _), res in zip(members, results or [], strict=False):
            if res.get("success"):
                accepted.append(rid)
            else:
                rejected.append(record_rejection(rid, res.get("errors") or []))
    return PushResult(tuple(accepted), tuple(rejected))


def invoke_flow(client: SalesforceClient, flow: str, record_ids: Sequence[str]) -> PushResult:
    """Run an active autolaunched flow once per record (input variable ``recordId``)."""
    accepted: list[str] = []
    rejected: list[RecordRejection] = []
    for start in range(0, len(record_ids), FLOW_BATCH):
        chunk = list(record_ids[start : start + FLOW_BATCH])
        body = {"inputs": [{"recordId": rid} for rid in chunk]}
        results: Any = client.restful(
            "flow", f"actions/custom/flow/{flow}", method="POST", body=body
        )
        for rid, res in zip(chunk, results or [], strict=False):
            if res.get("isSuccess"):
                accepted.append(rid)
            else:
                errors = [
                    {
                        "statusCode": e.get("statusCode", "FLOW_ERROR"),
                        "message": e.get("message", ""),
                    }
                    for e in res.get("errors") or []
                ]
                rejected.append(record_rejection(rid, errors))
    return PushResult(tuple(accepted), tuple(rejected))
