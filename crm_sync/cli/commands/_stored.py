"""Explain a record as the last sync run saw it: data from the state store, pushes from the audit.

``crm-sync explain`` over a data file answers "what would the model say"; after a sync the admin's
question is "why does the CRM hold this value", so the explanation must use the data the run
evaluated (the store) and its ``as_of``, and show what crm_sync wrote (the audit log).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from crm_sync.config import Settings
from crm_sync.errors import ConfigError
from crm_sync.model.frames import Dataset
from crm_sync.store import data
from crm_sync.store import schema as t
from crm_sync.store.sql import Store

__all__ = ["StoredRun", "load_stored_run"]


@dataclass(frozen=True)
class StoredRun:
    """The account, ``as_of`` and dataset of the newest completed run, and the record's pushes."""

    account: str
    as_of: dt.date
    dataset: Dataset
    pushes: list[dict[str, Any]]


def _pick_run(store: Store, target: str, account: str | None) -> dict[str, Any]:
    runs = [
        r
        for r in store.runs(account, limit=200)
        if r["status"] == "ok" and not r["dry_run"] and str(r["account"]).startswith(f"{target}:")
    ]
    if not runs:
        where = f"account {account}" if account else f"target {target}"
        msg = (
            f"the state store holds no completed run for {where}; "
            f"run `crm-sync run --target {target}` first, or pass --data FILE"
        )
        raise ConfigError(msg)
    accounts = {r["account"] for r in runs}
    if account is None and len(accounts) > 1:
        msg = f"the store serves several {target} accounts ({', '.join(sorted(accounts))}); pass --account"
        raise ConfigError(msg)
    return runs[0]


def load_stored_run(
    target: str, entity: str, record_id: str, *, account: str | None = None
) -> StoredRun:
    """Load what the newest completed run evaluated, and the audit rows of ``record_id``."""
    settings = Settings()
    store = Store.open(settings.store_url, settings.store_path)
    try:
        run = _pick_run(store, target, account)
        acct = str(run["account"])
        with store.begin() as conn:
            dataset = data.load_dataset(conn, acct, None, None)
            a = t.audit.c
            q = (
                select(a.run_id, a.property, a.old, a.new, a.rule, a.status, a.at)
                .where(a.account == acct, a.entity == entity, a.record_id == record_id)
                .order_by(a.seq)
            )
            pushes = [
                {**dict(row._mapping), "at": row.at.isoformat() if row.at else None}
                for row in conn.execute(q)
            ]
    finally:
        store.close()
    return StoredRun(acct, dt.date.fromisoformat(str(run["as_of"])), dataset, pushes)
