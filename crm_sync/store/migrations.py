"""Versioned schema migrations, from the first release on.

A deliberately small runner instead of Alembic: the store has one schema, owned by this package,
and upgrades must run unattended inside ``crm-sync run`` on SQLite and PostgreSQL alike. Each
migration is a function applied in its own transaction, and ``schema_version`` records every
version applied, so a store written by a newer crm_sync is refused rather than misread.

To change the schema: append ``(N + 1, "what changed", function)`` to :data:`MIGRATIONS`; never
edit a released migration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, select
from sqlalchemy.engine import Connection, Engine

from crm_sync.errors import StateError
from crm_sync.store import distributed_schema, report_schema, schema

__all__ = ["MIGRATIONS", "current_version", "migrate"]

_meta = MetaData()
schema_version = Table(
    "schema_version",
    _meta,
    Column("version", Integer, primary_key=True),
    Column("description", String(200), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)


def _v1(conn: Connection) -> None:
    """First release: every table of :mod:`crm_sync.store.schema`."""
    schema.metadata.create_all(conn)


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (
        1,
        "initial schema: records, activities, cursors, work, results, crm values, audit, "
        "dead letters, runs, snapshots, leases, state",
        _v1,
    ),
    (2, "shared deployments: rate_budgets, webhook_events", distributed_schema.create_v2),
    (3, "report history: record_snapshots, fact_snapshots", report_schema.create_v3),
]


def current_version(engine: Engine) -> int:
    """Highest applied version (0 for an empty store)."""
    with engine.begin() as conn:
        _meta.create_all(conn)
        versions = conn.execute(select(schema_version.c.version)).scalars().all()
    return max(versions, default=0)


def migrate(engine: Engine) -> int:
    """Apply every pending migration in order; return the resulting version."""
    version = current_version(engine)
    latest = MIGRATIONS[-1][0]
    if version > latest:
        msg = (
            f"the state store is at schema version {version}, newer than this crm_sync "
            f"understands ({latest}); upgrade crm_sync or point CRM_SYNC_STORE_URL elsewhere"
        )
        raise StateError(msg)
    for number, description, apply in MIGRATIONS:
        if number <= version:
            continue
        with engine.begin() as conn:
            apply(conn)
            conn.execute(
                schema_version.insert().values(
                    version=number, description=description, applied_at=dt.datetime.now(dt.UTC)
                )
            )
        version = number
    return version
