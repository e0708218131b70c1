"""State store: versioned migrations, SQLite WAL with 0600 permissions, cursors, no secrets."""

from __future__ import annotations

import datetime as dt
import stat

import pytest
from sqlalchemy import inspect, text

from crm_sync.adapters.base import Cursor
from crm_sync.config import Settings
from crm_sync.errors import StateError
from crm_sync.store.migrations import MIGRATIONS, migrate, schema_version
from crm_sync.store.sql import Store


def test_sqlite_file_is_private_and_in_wal_mode(tmp_path):
    """The store file is created 0600 and opened in WAL mode."""
    store = Store.open(path=tmp_path / "s.sqlite")
    assert stat.S_IMODE((tmp_path / "s.sqlite").stat().st_mode) == 0o600
    with store.begin() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    store.close()


def test_migrations_are_versioned_and_idempotent(tmp_path):
    """Opening twice applies each migration once; the version table records every one."""
    store = Store.open(path=tmp_path / "s.sqlite")
    latest = MIGRATIONS[-1][0]
    assert store.version == latest
    assert migrate(store.engine) == latest
    with store.begin() as conn:
        versions = [row.version for row in conn.execute(schema_version.select())]
    assert versions == list(range(1, latest + 1))
    assert {"records", "cursors", "audit", "dead_letters", "leases", "snapshots"} <= set(
        inspect(store.engine).get_table_names()
    )
    store.close()


def test_newer_schema_is_refused(tmp_path):
    """A store written by a newer crm_sync is refused, not misread."""
    store = Store.open(path=tmp_path / "s.sqlite")
    with store.begin() as conn:
        conn.execute(
            schema_version.insert().values(
                version=99, description="future", applied_at=dt.datetime.now(dt.UTC)
            )
        )
    with pytest.raises(StateError, match="newer"):
        migrate(store.engine)
    store.close()


def test_cursor_round_trip(tmp_path):
    """Cursors keep their (modified_at, id) exactly."""
    store = Store.open(path=tmp_path / "s.sqlite")
    cur = Cursor(dt.datetime(2025, 3, 1, 12, 0, 0, 123000, tzinfo=dt.UTC), "0031x")
    with store.begin() as conn:
        store.set_cursor(conn, "a", "contacts", cur)
    assert store.get_cursor("a", "contacts") == cur
    store.close()


def test_settings_never_expose_secrets(monkeypatch):
    """Tokens are SecretStr and absent from the printable settings."""
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-secret-value")
    monkeypatch.setenv("CRM_SYNC_STORE_URL", "postgresql://sync:hunter2@db/crm")
    settings = Settings()
    assert settings.hubspot_access_token is not None
    assert "pat-na1-secret-value" not in repr(settings)
    public = str(settings.public())
    assert "pat-na1" not in public
    assert "hunter2" not in public
