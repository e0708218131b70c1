"""Lease locks: one writer per CRM account, with expiry so a crashed worker never blocks forever.

A lease is a row (account, holder, expires_at). Taking it is one transaction that succeeds when
no row exists, the row is ours, or the row has expired (a stale lease from a killed worker is taken
over). SQLite serialises writers, and PostgreSQL's row lock on the conditional UPDATE does the same,
so two workers started together cannot both win.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from crm_sync.errors import LockHeld
from crm_sync.store import schema as t
from crm_sync.store.sql import Store

__all__ = ["acquire", "holder_of", "release", "renew"]


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def acquire(
    store: Store, account: str, holder: str, ttl_s: float, *, now: dt.datetime | None = None
) -> None:
    """Take the lease for ``account`` or raise :class:`LockHeld` naming the current holder."""
    now = now or dt.datetime.now(dt.UTC)
    expires = now + dt.timedelta(seconds=ttl_s)
    c = t.leases.c
    try:
        with store.begin() as conn:
            res = conn.execute(
                update(t.leases)
                .where(c.account == account, or_(c.holder == holder, c.expires_at < now))
                .values(holder=holder, acquired_at=now, expires_at=expires)
            )
            if res.rowcount == 1:
                return
            row = conn.execute(select(c.holder, c.expires_at).where(c.account == account)).first()
            if row is None:
                conn.execute(
                    t.leases.insert().values(
                        account=account, holder=holder, acquired_at=now, expires_at=expires
                    )
                )
                return
    except IntegrityError:  # the other worker inserted first
        row = None
    current = holder_of(store, account)
    if current is None:
        acquire(store, account, holder, ttl_s, now=now)
        return
    raise LockHeld(account, current[0], current[1].isoformat())


def renew(store: Store, account: str, holder: str, ttl_s: float) -> bool:
    """Extend our lease between batches; False if it was lost (taken over after expiry)."""
    now = dt.datetime.now(dt.UTC)
    c = t.leases.c
    with store.begin() as conn:
        res = conn.execute(
            update(t.leases)
            .where(c.account == account, c.holder == holder)
            .values(expires_at=now + dt.timedelta(seconds=ttl_s))
        )
        return res.rowcount == 1


def release(store: Store, account: str, holder: str) -> None:
    """Give the lease back (only if we still hold it)."""
    c = t.leases.c
    with store.begin() as conn:
        conn.execute(delete(t.leases).where(c.account == account, c.holder == holder))


def holder_of(store: Store, account: str) -> tuple[str, dt.datetime] | None:
    """Who holds the lease and until when, for ``crm-sync status`` and error messages."""
    c = t.leases.c
    with store.begin() as conn:
        row = conn.execute(select(c.holder, c.expires_at).where(c.account == account)).first()
    return (row[0], _aware(row[1])) if row else None
