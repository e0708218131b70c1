"""The state store on a real PostgreSQL server: same migrations, same runs as on SQLite."""

from __future__ import annotations

import datetime as dt

from crmfake import MAPPING, seed_crm
from sqlalchemy import inspect

from crm_sync.adapters.memory import InMemoryAdapter
from crm_sync.mapping.load import parse_mapping
from crm_sync.store import leases
from crm_sync.store.migrations import MIGRATIONS
from crm_sync.store.sql import Store
from crm_sync.sync import FakeComputer, RunOptions, run_sync


def test_postgres_gets_the_same_schema_as_sqlite(pg_url, tmp_path):
    """Both backends end at the latest migration with identical table sets."""
    pg = Store.open(pg_url)
    lite = Store.open(path=tmp_path / "s.sqlite")
    assert pg.version == lite.version == MIGRATIONS[-1][0]
    assert set(inspect(pg.engine).get_table_names()) == set(inspect(lite.engine).get_table_names())
    again = Store.open(pg_url)  # re-opening applies nothing twice
    assert again.version == pg.version
    again.close()
    pg.close()
    lite.close()


def test_a_run_on_postgres_pushes_then_idles(pg_url, tmp_path):
    """A full run against PostgreSQL pushes every value; the second run writes nothing."""
    seed_crm(tmp_path / "crm.json", "pg")
    crm = InMemoryAdapter("pg", path=tmp_path / "crm.json")
    store = Store.open(pg_url)
    opts = RunOptions(as_of=dt.date(2025, 6, 1), page_size=7)
    mapping = parse_mapping(MAPPING, "m.yaml")
    first = run_sync(crm, mapping, FakeComputer(), store, opts)
    assert first.status == "ok"
    assert crm.value("company", "co3", "crm_tier") == "a"
    second = run_sync(crm, mapping, FakeComputer(), store, opts)
    assert second.counts.get("write_calls", 0) == 0
    store.close()


def test_postgres_lease_has_one_holder(pg_url):
    """Two holders racing for one account's lease on PostgreSQL: exactly one wins."""
    store = Store.open(pg_url)
    leases.acquire(store, "memory:x", "w1", 30)
    try:
        leases.acquire(store, "memory:x", "w2", 30)
        won_twice = True
    except Exception:
        won_twice = False
    assert not won_twice
    assert leases.holder_of(store, "memory:x")[0] == "w1"
    store.close()
