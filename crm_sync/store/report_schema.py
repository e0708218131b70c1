"""Per-record segment history for the report (issue #7): schema version 3.

The ``snapshots`` table of version 1 keeps segment *sizes* per run; transitions, flapping, drift
and lift need each record's value at each run, and the relationship map and completeness need its
numbers. Both tables are append-only, one row per run and record (and output), written right after
a run's results are stored (:func:`crm_sync.report.store_source.save_record_snapshot`). They live in
their own :class:`~sqlalchemy.MetaData` so earlier versions stay exactly as released.

* ``record_snapshots`` — (run, entity, record, output) → value, JSON-encoded like ``results``;
* ``fact_snapshots`` — (run, entity, record) → owner, revenue, potential, share of wallet, price
  index and the required fields that were unknown (JSON list).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    literal,
    select,
)
from sqlalchemy.engine import Connection

from crm_sync.store import schema as t

__all__ = ["create_v3", "fact_snapshots", "metadata", "record_snapshots", "save_record_snapshot"]

metadata = MetaData()

record_snapshots = Table(
    "record_snapshots",
    metadata,
    Column("run_id", Integer, primary_key=True),
    Column("account", String(120), nullable=False),
    Column("entity", String(16), primary_key=True),
    Column("record_id", String(255), primary_key=True),
    Column("output", String(120), primary_key=True),
    Column("value", Text),
)
Index("ix_record_snapshots_account_run", record_snapshots.c.account, record_snapshots.c.run_id)

fact_snapshots = Table(
    "fact_snapshots",
    metadata,
    Column("run_id", Integer, primary_key=True),
    Column("account", String(120), nullable=False),
    Column("entity", String(16), primary_key=True),
    Column("record_id", String(255), primary_key=True),
    Column("owner", String(255)),
    Column("revenue", Float),
    Column("potential", Float),
    Column("share_of_wallet", Float),
    Column("price_index", Float),
    Column("missing", Text),
)
Index("ix_fact_snapshots_account_run", fact_snapshots.c.account, fact_snapshots.c.run_id)


def create_v3(conn: Connection) -> None:
    """Migration 3: create both tables (idempotent on a store that already has them)."""
    metadata.create_all(conn)


def save_record_snapshot(conn: Connection, run_id: int, account: str) -> None:
    """Copy every current result of ``account`` into ``record_snapshots`` for ``run_id``."""
    r = t.results.c
    source = select(
        literal(run_id), literal(account), r.entity, r.record_id, r.output, r.value
    ).where(r.account == account)
    cols = ["run_id", "account", "entity", "record_id", "output", "value"]
    conn.execute(insert(record_snapshots).from_select(cols, source))
