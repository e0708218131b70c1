"""Prefect: a flow mapping ``crm_sync.run`` over the CRM accounts.

Run once with ``python examples/orchestrators/prefect_flow.py``, or deploy it with a cron
schedule. Imports are guarded so the file compiles where Prefect is not installed.
"""

from __future__ import annotations

from typing import Any

ACCOUNTS = {"acme": "hubspot", "globex": "salesforce"}


def sync_account(target: str) -> dict[str, Any]:
    """Run one incremental sync and return its run record."""
    import crm_sync  # noqa: PLC0415

    return crm_sync.run(target).to_dict()


try:
    from prefect import flow, task
except ImportError:
    flow = None

if flow is not None:
    sync_task = task(retries=2, retry_delay_seconds=60)(sync_account)

    @flow(name="crm-sync")
    def crm_sync_flow() -> list[dict[str, Any]]:
        """Sync every account concurrently and wait for all of them."""
        futures = [sync_task.submit(target) for target in ACCOUNTS.values()]
        return [f.result() for f in futures]

    if __name__ == "__main__":
        crm_sync_flow()
