"""Airflow: one task per CRM account, calling crm_sync's Python API (``crm_sync.run``).

Drop this file in your DAGs folder. Each account's task is independent, so Airflow's own
parallelism spreads accounts over its workers; crm_sync's lease lock still guarantees one writer
per account if a run overlaps the next schedule. Imports are guarded so the file compiles (and
the crm_sync test suite checks it) where Airflow is not installed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

ACCOUNTS = {"acme": "hubspot", "globex": "salesforce"}  # name -> target; tokens from the env


def sync_account(target: str) -> dict[str, Any]:
    """Run one incremental sync; a quota stop is a success (the next run resumes)."""
    import crm_sync  # noqa: PLC0415 - imported in the worker, not at DAG parse time

    record = crm_sync.run(target)
    if record.status not in ("ok", "quota_stopped"):
        msg = f"crm_sync run {record.id} ended {record.status}: {record.errors}"
        raise RuntimeError(msg)
    return record.to_dict()


try:
    from airflow.decorators import dag, task
except ImportError:  # Airflow not installed: keep the module importable
    dag = None

if dag is not None:

    @dag(
        schedule="*/15 * * * *",
        start_date=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        catchup=False,
        max_active_runs=1,
        tags=["crm_sync"],
    )
    def crm_sync_accounts() -> None:
        """Every 15 minutes: sync each account in its own task."""
        for name, target in ACCOUNTS.items():
            task(task_id=f"sync_{name}", retries=2)(sync_account)(target)

    crm_sync_accounts()
