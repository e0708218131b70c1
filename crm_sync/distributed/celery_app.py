"""Celery application: the distributed sync as tasks on a Redis broker (DESIGN §11).

Start workers with ``crm-sync worker --celery`` (or ``celery -A crm_sync.distributed.celery_app
worker``) on any number of machines, all pointing at the same ``CRM_SYNC_BROKER_URL`` and
``CRM_SYNC_STORE_URL`` (PostgreSQL). ``celery beat`` (or cron running ``crm-sync dispatch``)
fans out one cycle every ``CRM_SYNC_DISPATCH_EVERY_S`` seconds:

``dispatch`` → per account a chord of ``pull_stream`` tasks (one per object type) whose callback is
``sync_account`` (compute + push under the account's lease). Webhooks enqueue ``sync_account``
alone, for the records they marked for recompute.

Reliability settings: ``acks_late`` with ``prefetch_multiplier=1`` so a killed worker's task is
redelivered rather than lost (every task is idempotent: pulls upsert and advance cursors forward
only; runs converge), and ``sync_account`` retries later when the lease is held *and* it was asked
for by a webhook, so webhook work is never dropped behind a running sync.

.. versionadded:: 0.2
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, chord

from crm_sync.distributed.runner import STREAMS, Runtime, pull_stream, sync_account
from crm_sync.errors import LockHeld

__all__ = ["app", "dispatch_all"]

BROKER = os.environ.get("CRM_SYNC_BROKER_URL", "redis://127.0.0.1:6379/0")
QUEUE = os.environ.get("CRM_SYNC_QUEUE", "crm_sync")

app = Celery("crm_sync", broker=BROKER, backend=os.environ.get("CRM_SYNC_RESULT_URL", BROKER))
app.conf.update(
    task_default_queue=QUEUE,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    result_expires=3600,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    beat_schedule={
        "crm-sync-dispatch": {
            "task": "crm_sync.dispatch",
            "schedule": float(os.environ.get("CRM_SYNC_DISPATCH_EVERY_S", "900")),
        }
    },
)

_runtime: Runtime | None = None


def runtime() -> Runtime:
    """This worker process's store connection, budget and accounts (opened on first use)."""
    global _runtime  # noqa: PLW0603 - one per process, by design of Celery's prefork pool
    if _runtime is None:
        _runtime = Runtime.open()
    return _runtime


def _pull(name: str, stream: str) -> dict[str, Any]:
    """Task body: one account, one object type."""
    if stream not in STREAMS:
        msg = f"unknown stream '{stream}'"
        raise ValueError(msg)
    return pull_stream(runtime(), name, stream)  # narrowed to a Stream by the check above


def _sync(
    task: Any, _pulled: Any = None, name: str = "", reason: str = "schedule"
) -> dict[str, Any]:
    """Task body: compute and push one account under its lease."""
    try:
        record = sync_account(runtime(), name)
    except LockHeld as exc:
        if reason == "webhook":
            raise task.retry(countdown=2.0, max_retries=30) from exc
        return {"account": name, "status": "skipped", "holder": exc.holder}
    return {"account": name, **record.to_dict()}


def dispatch_all(names: list[str] | None = None) -> list[str]:
    """Fan out one cycle: per account, pull every object type in parallel, then sync it."""
    accounts = names or sorted(runtime().accounts)
    for name in accounts:
        pulls = [pull_stream_task.si(name, stream) for stream in STREAMS]
        chord(pulls)(sync_account_task.s(name=name, reason="schedule"))
    return accounts


pull_stream_task: Any = app.task(name="crm_sync.pull_stream")(_pull)
sync_account_task: Any = app.task(name="crm_sync.sync_account", bind=True)(_sync)
dispatch_task: Any = app.task(name="crm_sync.dispatch")(dispatch_all)


def enqueue_sync(name: str, *, reason: str = "webhook", countdown: float = 1.0) -> None:
    """Ask a worker to sync ``name`` soon (webhooks); a short delay coalesces bursts."""
    sync_account_task.apply_async(kwargs={"name": name, "reason": reason}, countdown=countdown)
