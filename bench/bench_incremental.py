"""Full vs incremental run time for 100,000 contacts on the memory adapter (issue #4 benchmark).

Measures, in one process: a full first run; an idle run (it reads back the full run's echoes,
as a real CRM returns them, and writes nothing); then an incremental run after 1 % of contacts got
a new activity. Prints both times and their ratio (target: incremental < 10 % of full).
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
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
    tier: {property: crm_tier, label: Tier, options: {A: {value: a, label: A}, B: {value: b, label: B}, C: {value: c, label: C}}}
  contact:
    stage:
      property: crm_stage
      label: Stage
      options: {lead: {value: lead, label: L}, prospect: {value: prospect, label: P}, customer: {value: customer, label: C}}
    tags: {property: crm_tags, label: Tags, field_type: checkbox, options: {active: {value: active, label: A}, vip: {value: vip, label: V}}}
"""
T0 = dt.datetime(2025, 5, 1, tzinfo=dt.UTC)


def build(contacts: int) -> InMemoryAdapter:
    crm = InMemoryAdapter("bench")
    n_comp = contacts // 10
    crm.seed(
        companies=[Company(id=f"co{i:06d}") for i in range(n_comp)],
        contacts=[Contact(id=f"p{i:07d}", company_id=f"co{i // 10:06d}") for i in range(contacts)],
        activities=[
            Activity(id=f"a{i:07d}", type="visit", occurred_at=T0, contact_id=f"p{i:07d}")
            for i in range(0, contacts, 2)
        ],
    )
    return crm


def main(contacts: int = 100_000) -> float:
    crm = build(contacts)
    mapping = parse_mapping(MAPPING, "bench.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(path=Path(tmp) / "state.sqlite")
        options = RunOptions(as_of=dt.date(2025, 6, 1), page_size=1000)
        start = time.perf_counter()
        full = run_sync(crm, mapping, FakeComputer(), store, options)
        full_s = time.perf_counter() - start
        start = time.perf_counter()
        echo = run_sync(crm, mapping, FakeComputer(), store, options)
        echo_s = time.perf_counter() - start
        changed = contacts // 100
        crm.seed(
            activities=[
                Activity(id=f"n{i:07d}", type="order", occurred_at=T0, contact_id=f"p{i:07d}")
                for i in range(0, contacts, contacts // changed)
            ]
        )
        start = time.perf_counter()
        incr = run_sync(crm, mapping, FakeComputer(), store, options)
        incr_s = time.perf_counter() - start
        store.close()
    ratio = incr_s / full_s
    print(f"contacts: {contacts}")
    print(
        f"full run:        {full_s:8.2f} s  pushed {full.counts.get('records_pushed', 0)} records"
    )
    print(
        f"idle run:        {echo_s:8.2f} s  reads the full run's echoes back, writes {echo.counts.get('write_calls', 0)}"
    )
    print(
        f"incremental run: {incr_s:8.2f} s  recomputed {incr.counts.get('recompute_contact', 0)} contacts, pushed {incr.counts.get('records_pushed', 0)}"
    )
    print(f"ratio:           {ratio:8.1%}  (target < 10 %)")
    print(f"incremental phases: {incr.durations}")
    return ratio


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
