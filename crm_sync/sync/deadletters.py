"""Dead letters: records the CRM rejected, kept with their reason and retried on later runs.

A rejected record never fails the run (it is *skippable*, in singer-sdk's sense). It is stored with
its reason, attempt count and next try (exponential backoff, capped at a day) and queued again on
every run once due, until a push succeeds (``resolved``) or an admin waives it
(``crm-sync deadletters waive``). Waiving also drops its pending push, so nothing keeps retrying.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection

from crm_sync.errors import redact
from crm_sync.store import schema as t
from crm_sync.store.sql import Store, upsert

__all__ = ["due", "list_letters", "record_failure", "resolve", "retry_now", "waive"]

BASE_DELAY_S = 300
MAX_DELAY_S = 86_400


def record_failure(
    conn: Connection,
    account: str,
    entity: str,
    record_id: str,
    reason: str,
    *,
    now: dt.datetime,
) -> None:
    """Store or update the dead letter; the next try backs off with each attempt."""
    c = t.dead_letters.c
    row = conn.execute(
        select(c.attempts, c.first_failed_at).where(
            c.account == account, c.entity == entity, c.record_id == record_id
        )
    ).first()
    attempts = (row[0] if row else 0) + 1
    delay = min(BASE_DELAY_S * 2 ** (attempts - 1), MAX_DELAY_S)
    upsert(
        conn,
        t.dead_letters,
        [
            {
                "account": account,
                "entity": entity,
                "record_id": record_id,
                "reason": redact(reason)[:2000],
                "attempts": attempts,
                "first_failed_at": row[1] if row else now,
                "last_failed_at": now,
                "next_try_at": now + dt.timedelta(seconds=delay),
                "status": "open",
            }
        ],
        ["account", "entity", "record_id"],
    )


def resolve(conn: Connection, account: str, entity: str, ids: list[str]) -> None:
    """A later push of these records succeeded: close their dead letters."""
    c = t.dead_letters.c
    if ids:
        conn.execute(
            update(t.dead_letters)
            .where(
                c.account == account, c.entity == entity, c.record_id.in_(ids), c.status == "open"
            )
            .values(status="resolved")
        )


def due(store: Store, account: str, entity: str, now: dt.datetime) -> set[str]:
    """Open dead letters whose next try has come."""
    c = t.dead_letters.c
    with store.begin() as conn:
        q = select(c.record_id, c.next_try_at).where(
            c.account == account, c.entity == entity, c.status == "open"
        )
        rows = conn.execute(q).all()
    return {rid for rid, at in rows if (at if at.tzinfo else at.replace(tzinfo=dt.UTC)) <= now}


def list_letters(
    store: Store, account: str | None, status: str | None = "open"
) -> list[dict[str, Any]]:
    """Dead letters for ``crm-sync deadletters list`` (no secrets: reasons are redacted)."""
    c = t.dead_letters.c
    q = select(t.dead_letters).order_by(c.account, c.entity, c.record_id)
    if account:
        q = q.where(c.account == account)
    if status:
        q = q.where(c.status == status)
    with store.begin() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def _select(account: str | None, ids: list[str] | None) -> Any:
    c = t.dead_letters.c
    cond = c.status == "open"
    if account:
        cond = and_(cond, c.account == account)
    if ids:
        cond = and_(cond, c.record_id.in_(ids))
    return cond


def retry_now(store: Store, account: str | None, ids: list[str] | None) -> int:
    """Make dead letters due immediately (the next run retries them); returns how many."""
    with store.begin() as conn:
        res = conn.execute(
            update(t.dead_letters)
            .where(_select(account, ids))
            .values(next_try_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
        return int(res.rowcount)


def waive(store: Store, account: str | None, ids: list[str] | None) -> int:
    """An admin accepts these records will not sync: stop retrying and drop their pending push."""
    c = t.dead_letters.c
    with store.begin() as conn:
        rows = conn.execute(
            select(c.account, c.entity, c.record_id).where(_select(account, ids))
        ).all()
        conn.execute(update(t.dead_letters).where(_select(account, ids)).values(status="waived"))
        w = t.work.c
        for acc, entity, rid in rows:
            conn.execute(
                t.work.delete().where(
                    w.account == acc, w.kind == "push", w.entity == entity, w.record_id == rid
                )
            )
        return len(rows)
