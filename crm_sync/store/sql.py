"""The SQLAlchemy state store: a SQLite file in WAL mode by default, PostgreSQL by URL.

SQLite in WAL mode with ``synchronous=NORMAL`` survives a killed process (SIGKILL) without losing a
committed transaction, which is what the crash-safety contract needs; the file is created with
0600 permissions because it holds customer data (never secrets). For shared deployments set
``CRM_SYNC_STORE_URL=postgresql+psycopg://...``; the same tables and migrations apply.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, create_engine, delete, event, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as lite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.sql.schema import Table

from crm_sync.adapters.base import Cursor
from crm_sync.store import schema as t
from crm_sync.store.migrations import migrate

__all__ = ["DEFAULT_PATH", "Store", "chunks", "upsert"]

DEFAULT_PATH = Path(".crm_sync") / "state.sqlite"


def chunks(items: Iterable[Any], size: int = 500) -> Iterator[list[Any]]:
    """Split ``items`` so ``IN (...)`` lists stay under every backend's parameter limit."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: list[str]) -> None:
    """Insert or update ``rows`` by primary key, on SQLite and PostgreSQL alike."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        pg = pg_insert(table)
        cols = {c: pg.excluded[c] for c in rows[0] if c not in keys}
        pg_stmt = (
            pg.on_conflict_do_update(index_elements=keys, set_=cols)
            if cols
            else pg.on_conflict_do_nothing(index_elements=keys)
        )
        conn.execute(pg_stmt, list(rows))
        return
    lite = lite_insert(table)
    lcols = {c: lite.excluded[c] for c in rows[0] if c not in keys}
    lite_stmt = (
        lite.on_conflict_do_update(index_elements=keys, set_=lcols)
        if lcols
        else lite.on_conflict_do_nothing(index_elements=keys)
    )
    conn.execute(lite_stmt, list(rows))


def _sqlite_engine(path: Path) -> Engine:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    engine = create_engine(f"sqlite:///{path}", future=True)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()

    with engine.connect():
        pass
    for suffix in ("", "-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        if side.exists():
            side.chmod(0o600)
    return engine


class Store:
    """Durable run state. Methods taking ``conn`` run inside the caller's transaction.

    .. versionadded:: 0.1
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.version = migrate(engine)

    @classmethod
    def open(cls, url: str | None = None, path: Path | None = None) -> Store:
        """Open (and migrate) the store at ``url``, or the SQLite file ``path`` (default)."""
        if url:
            return cls(create_engine(url, future=True))
        return cls(_sqlite_engine(path or DEFAULT_PATH))

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: everything inside commits together or not at all."""
        with self.engine.begin() as conn:
            yield conn

    # -- small keyed state -------------------------------------------------------------------

    def get_state(self, account: str, key: str) -> str | None:
        """A value remembered between runs (fingerprints, last as_of)."""
        with self.begin() as conn:
            q = select(t.state.c.value).where(t.state.c.account == account, t.state.c.key == key)
            return conn.execute(q).scalar_one_or_none()

    def set_state(self, conn: Connection, account: str, key: str, value: str) -> None:
        """Remember ``value`` under ``key`` (inside the caller's transaction)."""
        upsert(
            conn, t.state, [{"account": account, "key": key, "value": value}], ["account", "key"]
        )

    # -- cursors -----------------------------------------------------------------------------

    def get_cursor(self, account: str, stream: str) -> Cursor | None:
        """The stored position of ``stream``, or None before the first pull."""
        with self.begin() as conn:
            q = select(t.cursors.c.position).where(
                t.cursors.c.account == account, t.cursors.c.stream == stream
            )
            text = conn.execute(q).scalar_one_or_none()
        return Cursor.from_text(text) if text else None

    def set_cursor(self, conn: Connection, account: str, stream: str, cursor: Cursor) -> None:
        """Advance ``stream``; call only in the transaction that stored the page's data."""
        row = {
            "account": account,
            "stream": stream,
            "position": cursor.to_text(),
            "updated_at": dt.datetime.now(dt.UTC),
        }
        upsert(conn, t.cursors, [row], ["account", "stream"])

    def cursors(self, account: str) -> dict[str, str]:
        """Every stream position, for ``crm-sync status``."""
        with self.begin() as conn:
            q = select(t.cursors.c.stream, t.cursors.c.position).where(
                t.cursors.c.account == account
            )
            return {row[0]: row[1] for row in conn.execute(q)}

    # -- durable work lists ------------------------------------------------------------------

    def add_work(
        self, conn: Connection, account: str, kind: str, entity: str, ids: Iterable[str]
    ) -> None:
        """Queue records for ``recompute`` or ``push``; idempotent."""
        rows = [{"account": account, "kind": kind, "entity": entity, "record_id": i} for i in ids]
        for part in chunks(rows, 2000):
            upsert(conn, t.work, part, ["account", "kind", "entity", "record_id"])

    def work_ids(self, account: str, kind: str, entity: str) -> set[str]:
        """Records queued for ``kind``."""
        with self.begin() as conn:
            q = select(t.work.c.record_id).where(
                t.work.c.account == account, t.work.c.kind == kind, t.work.c.entity == entity
            )
            return set(conn.execute(q).scalars())

    def clear_work(
        self, conn: Connection, account: str, kind: str, entity: str, ids: Iterable[str] | None
    ) -> None:
        """Dequeue ``ids`` (all when None) once their phase is durably done."""
        base = and_(t.work.c.account == account, t.work.c.kind == kind, t.work.c.entity == entity)
        if ids is None:
            conn.execute(delete(t.work).where(base))
            return
        for part in chunks(ids):
            conn.execute(delete(t.work).where(base, t.work.c.record_id.in_(part)))

    # -- runs and snapshots ------------------------------------------------------------------

    def start_run(self, account: str, holder: str, *, dry_run: bool, as_of: dt.date) -> int:
        """Create the run record first, so even a crashed run leaves a trace."""
        with self.begin() as conn:
            res = conn.execute(
                t.runs.insert().values(
                    account=account,
                    holder=holder,
                    status="running",
                    dry_run=dry_run,
                    as_of=as_of.isoformat(),
                    started_at=dt.datetime.now(dt.UTC),
                    detail="{}",
                )
            )
            key = res.inserted_primary_key
            assert key is not None
            return int(key[0])

    def finish_run(self, run_id: int, status: str, detail: dict[str, Any], **fps: str) -> None:
        """Close the run record with its counts, API calls, durations and errors."""
        with self.begin() as conn:
            conn.execute(
                update(t.runs)
                .where(t.runs.c.id == run_id)
                .values(
                    status=status,
                    finished_at=dt.datetime.now(dt.UTC),
                    detail=json.dumps(detail, default=str, sort_keys=True),
                    **fps,
                )
            )

    def runs(self, account: str | None = None, limit: int = 10) -> list[dict[str, Any]]:
        """Latest runs, newest first, with their detail decoded."""
        q = select(t.runs).order_by(t.runs.c.id.desc()).limit(limit)
        if account:
            q = q.where(t.runs.c.account == account)
        with self.begin() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
        for row in rows:
            row["detail"] = json.loads(row["detail"])
        return rows

    def save_snapshot(
        self, conn: Connection, run_id: int, account: str, counts: dict[tuple[str, str, str], int]
    ) -> None:
        """Segment sizes per (entity, output, value) for this run: the report's history."""
        rows = [
            {"run_id": run_id, "account": account, "entity": e, "output": o, "value": v, "count": n}
            for (e, o, v), n in sorted(counts.items())
        ]
        if rows:
            conn.execute(t.snapshots.insert(), rows)
