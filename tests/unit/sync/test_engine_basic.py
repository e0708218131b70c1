"""Engine end to end on the memory adapter: first run, idle run, incremental run, echoes."""

from __future__ import annotations

import datetime as dt

from crm_sync.model import Activity
from crm_sync.sync import run_sync


def test_first_run_pushes_every_computed_value(adapter, store, computer, options, mapping_for):
    """A first run writes tier, stage and tags for every record."""
    record = run_sync(adapter, mapping_for(), computer, store, options)
    assert record.status == "ok"
    assert adapter.value("company", "co2", "crm_tier") == "a"
    assert adapter.value("company", "co0", "crm_tier") == "b"
    assert adapter.value("contact", "p0-0", "crm_stage") == "customer"
    assert adapter.value("contact", "p2-1", "crm_tags") == "vip"
    assert adapter.value("contact", "p0-0", "crm_tags") == "active"
    assert record.counts["records_pushed"] == 12


def test_second_run_without_new_data_makes_zero_write_calls(
    adapter, store, computer, options, mapping_for
):
    """Echoes of our own writes are ignored: an idle run sends no write."""
    mapping = mapping_for()
    run_sync(adapter, mapping, computer, store, options)
    before = {k: v for k, v in adapter.api_calls().items() if k.startswith("push")}
    record = run_sync(adapter, mapping, computer, store, options)
    after = {k: v for k, v in adapter.api_calls().items() if k.startswith("push")}
    assert before == after
    assert record.counts.get("write_calls", 0) == 0
    assert record.counts["recompute_contact"] == 0
    assert record.counts["recompute_company"] == 0


def test_incremental_run_recomputes_only_changed(adapter, store, computer, options, mapping_for):
    """New activity on one contact recomputes and pushes that contact only."""
    mapping = mapping_for()
    run_sync(adapter, mapping, computer, store, options)
    adapter.seed(
        activities=[
            Activity(
                id="new1",
                type="call",
                occurred_at=dt.datetime(2025, 5, 20, tzinfo=dt.UTC),
                contact_id="p1-1",
            )
        ]
    )
    record = run_sync(adapter, mapping, computer, store, options)
    assert record.counts["recompute_contact"] == 1
    assert record.counts["recompute_company"] == 0
    assert record.counts["records_pushed"] == 1
    assert adapter.value("contact", "p1-1", "crm_stage") == "prospect"


def test_dry_run_sends_no_write_and_prints_plan(adapter, store, computer, options, mapping_for):
    """--dry-run computes the plan (creates/updates per property) and writes nothing."""
    options.dry_run = True
    record = run_sync(adapter, mapping_for(), computer, store, options)
    assert not any(k.startswith("push") for k in adapter.api_calls())
    assert record.plan["company.crm_tier"]["creates"] == 3
    assert record.plan["contact.crm_stage"]["samples"]
