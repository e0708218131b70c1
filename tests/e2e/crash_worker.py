"""Subprocess body of the crash test: run1 → change data → run2, skipping steps already done.

Usage: python crash_worker.py WORKDIR. Each finished step leaves a marker file, so a re-run after
a SIGKILL continues with the interrupted step (which must converge) and then the remaining ones.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from crm_sync.adapters.memory import InMemoryAdapter
from crm_sync.mapping.load import parse_mapping
from crm_sync.model import Activity, Company, Contact
from crm_sync.store.sql import Store
from crm_sync.sync import FakeComputer, RunOptions, run_sync

MAPPING = """\
version: 1
crm: hubspot
properties:
  company:
    tier:
      property: crm_tier
      label: Tier
      options: {A: {value: a, label: A}, B: {value: b, label: B}, C: {value: c, label: C}}
  contact:
    stage:
      property: crm_stage
      label: Stage
      options:
        lead: {value: lead, label: Lead}
        prospect: {value: prospect, label: Prospect}
        customer: {value: customer, label: Customer}
    tags:
      property: crm_tags
      label: Tags
      field_type: checkbox
      options: {active: {value: active, label: Active}, vip: {value: vip, label: VIP}}
"""
T0 = dt.datetime(2025, 5, 1, tzinfo=dt.UTC)


def seed(path: Path) -> None:
    crm = InMemoryAdapter("crash", path=path)
    comps = [Company(id=f"co{i}", name=f"Co {i}") for i in range(6)]
    people = [Contact(id=f"p{i}-{j}", company_id=f"co{i}") for i in range(6) for j in range(4)]
    acts = [
        Activity(id=f"a{i}-{k}", type="visit", occurred_at=T0, company_id=f"co{i}")
        for i in range(6)
        for k in range(i % 4)
    ]
    acts += [
        Activity(id=f"o{i}", type="order", occurred_at=T0, contact_id=f"p{i}-0") for i in range(3)
    ]
    crm.seed(companies=comps, contacts=people, activities=acts)
    crm.set_value("contact", "p5-1", "crm_tags", "manual_tag")  # a value crm_sync must not remove


def change(path: Path) -> None:
    crm = InMemoryAdapter("crash", path=path)
    crm.seed(
        activities=[
            Activity(
                id=f"n{i}", type="call", occurred_at=T0, contact_id=f"p{i}-2", company_id=f"co{i}"
            )
            for i in range(0, 6, 2)
        ]
    )


def sync(work: Path) -> None:
    crm = InMemoryAdapter("crash", path=work / "crm.json")
    crm.max_batch = 5
    store = Store.open(path=work / "state.sqlite")
    options = RunOptions(
        as_of=dt.date(2025, 6, 1), page_size=7, holder="crash-test", lease_ttl_s=0.01
    )
    try:
        record = run_sync(crm, parse_mapping(MAPPING, "m.yaml"), FakeComputer(), store, options)
        assert record.status == "ok", record
    finally:
        store.close()


def main(work: Path) -> None:
    steps = [
        ("seed", lambda: seed(work / "crm.json")),
        ("run1", lambda: sync(work)),
        ("change", lambda: change(work / "crm.json")),
        ("run2", lambda: sync(work)),
    ]
    for name, step in steps:
        marker = work / f"{name}.done"
        if marker.exists():
            continue
        step()
        marker.touch()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
