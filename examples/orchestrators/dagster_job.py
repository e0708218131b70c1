"""Dagster: a job whose ops sync each CRM account through ``crm_sync.run``, on a schedule.

Load with ``dagster dev -f examples/orchestrators/dagster_job.py``. Imports are guarded so the
file compiles where Dagster is not installed.
"""

from __future__ import annotations

from typing import Any

ACCOUNTS = {"acme": "hubspot", "globex": "salesforce"}


def sync_account(target: str) -> dict[str, Any]:
    """Run one incremental sync and return its run record (counts, API calls, durations)."""
    import crm_sync  # noqa: PLC0415

    return crm_sync.run(target).to_dict()


try:
    import dagster as dg
except ImportError:
    dg = None

if dg is not None:

    def _op(name: str, target: str) -> Any:
        @dg.op(name=f"sync_{name}")
        def sync_op(context: Any) -> dict[str, Any]:
            record = sync_account(target)
            context.log.info(f"{name}: {record['status']} {record['counts']}")
            return record

        return sync_op

    @dg.job
    def crm_sync_job() -> None:
        """One op per account; Dagster runs them in parallel."""
        for name, target in ACCOUNTS.items():
            _op(name, target)()

    crm_sync_schedule = dg.ScheduleDefinition(job=crm_sync_job, cron_schedule="*/15 * * * *")
    defs = dg.Definitions(jobs=[crm_sync_job], schedules=[crm_sync_schedule])
