"""End to end with the real default model (mappings/model.yaml) and the shipped HubSpot mapping."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from crm_sync.adapters.memory import InMemoryAdapter
from crm_sync.mapping.load import load_mapping_file
from crm_sync.model import Activity, Company, Contact, PurchasePotential
from crm_sync.store.sql import Store
from crm_sync.sync import RulesComputer, RunOptions, run_sync

ROOT = Path(__file__).resolve().parents[2]


def test_real_model_pushes_then_idles(tmp_path):
    """The default model's outputs reach the CRM, and a second run writes nothing."""
    computer = RulesComputer(ROOT / "mappings" / "model.yaml")
    mapping = load_mapping_file(ROOT / "mappings" / "hubspot.yaml", computer)
    crm = InMemoryAdapter("real")
    t = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
    crm.seed(
        companies=[Company(id=f"c{i}", name=f"C{i}") for i in range(4)],
        contacts=[
            Contact(id=f"p{i}", company_id=f"c{i % 4}", role="decision_maker") for i in range(8)
        ],
        potentials=[
            PurchasePotential(
                company_id=f"c{i}", annual_amount=100_000, valid_from=dt.date(2024, 1, 1)
            )
            for i in range(4)
        ],
        activities=[
            Activity(
                id=f"i{i}-{k}",
                type="invoice",
                occurred_at=t,
                company_id=f"c{i}",
                amount=1000.0 * (i + 1),
                list_amount=1100.0 * (i + 1),
            )
            for i in range(3)
            for k in range(4)
        ],
    )
    store = Store.open(path=tmp_path / "s.sqlite")
    options = RunOptions(as_of=dt.date(2025, 6, 1))
    first = run_sync(crm, mapping, computer, store, options)
    assert first.status == "ok"
    assert crm.value("company", "c2", "crm_abc_revenue") in {"a", "b", "c"}
    assert crm.value("contact", "p0", "crm_lifecycle_stage") is not None
    second = run_sync(crm, mapping, computer, store, options)
    assert second.counts.get("write_calls", 0) == 0
    store.close()
