"""Bulk API 2.0 pushes against the sandbox: threshold, #N/A nulls, every failed row reported."""

from __future__ import annotations

from typing import Any

from crm_sync.adapters.base import PropertyUpdate, RecordUpdate
from crm_sync.adapters.salesforce.adapter import SalesforceAdapter
from crm_sync.sandbox.salesforce.app import SalesforceSandbox


def _people(sandbox: SalesforceSandbox, n: int) -> list[str]:
    org = sandbox.state
    with org.lock:
        return [org.insert_system("Contact", {"LastName": f"B{i}"}) for i in range(n)]


def _bulk_push(
    make_adapter: Any, mapping: Any, sandbox: SalesforceSandbox, n: int, threshold: int
) -> None:
    adapter: SalesforceAdapter = make_adapter(bulk_threshold=threshold)
    adapter.apply_provision(adapter.plan_provision(mapping))
    ids = _people(sandbox, n)
    bad = set(ids[:: max(1, n // 50)])  # 2 % of rows fail: the record no longer exists
    for rid in bad:
        sandbox.state.records["Contact"][rid]["IsDeleted"] = True
    updates = [
        RecordUpdate("contact", i, (PropertyUpdate("Persona__c", None, "Influencer"),)) for i in ids
    ]
    assert len(updates) <= adapter.max_batch
    result = adapter.push(updates)
    assert {r.record_id for r in result.rejected} == bad
    assert all(r.code == "ENTITY_IS_DELETED" for r in result.rejected)
    assert sorted(result.accepted) == sorted(set(ids) - bad)
    calls = adapter.api_calls()
    assert calls["bulk2.create"] == 1
    assert "composite/sobjects" not in calls
    assert sandbox.state.records["Contact"][ids[1]]["Persona__c"] == "Influencer"


def test_bulk_push_of_5000_reports_every_failed_row(
    make_adapter: Any, mapping: Any, sandbox: SalesforceSandbox
) -> None:
    """Above the (lowered) threshold one Bulk 2.0 job writes 5,000 rows; each failed row is reported."""
    _bulk_push(make_adapter, mapping, sandbox, 5_000, threshold=1_000)


def test_bulk_push_of_50000_reports_every_failed_row(
    make_adapter: Any, mapping: Any, sandbox: SalesforceSandbox
) -> None:
    """Acceptance: a 50,000-record push goes through Bulk API 2.0 with every failed row reported."""
    _bulk_push(make_adapter, mapping, sandbox, 50_000, threshold=2_000)


def test_below_threshold_uses_collections(
    make_adapter: Any, mapping: Any, sandbox: SalesforceSandbox
) -> None:
    """1,999 records stay on collections (10 calls), the default threshold being 2,000."""
    adapter = make_adapter()
    adapter.apply_provision(adapter.plan_provision(mapping))
    ids = _people(sandbox, 1_999)
    result = adapter.push(
        [
            RecordUpdate("contact", i, (PropertyUpdate("Persona__c", None, "Influencer"),))
            for i in ids
        ]
    )
    assert len(result.accepted) == 1_999
    assert adapter.api_calls()["composite/sobjects"] == 10
    assert "bulk2.create" not in adapter.api_calls()


def test_bulk_nulls_with_na_and_leaves_unsent_fields(
    make_adapter: Any, mapping: Any, sandbox: SalesforceSandbox
) -> None:
    """None is sent as #N/A (clears the field); a field not in a row's changes is left alone."""
    adapter = make_adapter(bulk_threshold=2)
    adapter.apply_provision(adapter.plan_provision(mapping))
    a, b = _people(sandbox, 2)
    recs = sandbox.state.records["Contact"]
    recs[a]["Persona__c"] = "Influencer"
    recs[b]["Lifecycle_Stage__c"] = "Lead"
    result = adapter.push(
        [
            RecordUpdate("contact", a, (PropertyUpdate("Persona__c", "Influencer", None),)),
            RecordUpdate("contact", b, (PropertyUpdate("Persona__c", None, "Unassigned"),)),
        ]
    )
    assert sorted(result.accepted) == sorted([a, b])
    assert recs[a]["Persona__c"] is None
    assert recs[b]["Lifecycle_Stage__c"] == "Lead"
    assert recs[b]["Persona__c"] == "Unassigned"


def test_bulk_lock_failures_are_resent_per_record(
    make_adapter: Any, mapping: Any, sandbox: SalesforceSandbox
) -> None:
    """A row failing UNABLE_TO_LOCK_ROW in a Bulk job is re-sent alone through collections."""
    from crm_sync.sandbox.faults import FaultPlan

    adapter = make_adapter(bulk_threshold=10)
    adapter.apply_provision(adapter.plan_provision(mapping))
    ids = _people(sandbox, 20)
    sandbox.faults.set_plan(
        FaultPlan.model_validate(
            {
                "rules": [
                    {
                        "api": "salesforce",
                        "path": "/jobs/ingest/[^/]+$",
                        "method": "PATCH",
                        "kind": "lock_error",
                        "count": 1,
                    }
                ]
            }
        )
    )
    result = adapter.push(
        [
            RecordUpdate("contact", i, (PropertyUpdate("Persona__c", None, "Influencer"),))
            for i in ids
        ]
    )
    assert sorted(result.accepted) == sorted(ids)
    assert not result.rejected
    assert adapter.api_calls()["composite/sobjects"] == 1
