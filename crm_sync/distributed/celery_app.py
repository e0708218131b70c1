"""Celery application: the distributed sync as tasks on a Redis broker (DESIGN §11).

Start workers with ``crm-sync worker --celery`` (or ``celery -A crm_sync.distributed.celery_app
worker``) on any number of machines, all pointing at the same ``CRM_SYNC_BROKER_URL`` and
``CRM_SYNC_STORE_URL`` (PostgreSQL). ``celery beat`` (or cron running ``crm-sync dispatch``)
fans out one cycle every ``CRM_SYNC_DISPATCH_EVERY_S`` seconds:

``dispatch`` → per account a chord of ``pull_stream`` tasks (one per object type) whose callback is
``sync_account`` with ``pulled=True`` (compute + push under the account's lease). A
``sync_account`` sent on its own (webhooks, ``send_task``) starts that same cycle, so every pull
runs in its own task.

A task whose account has no API token soon does not sleep in its worker: it stops at a safe point
(:class:`~crm_sync.errors.RateDeferred`) and retries itself with the countdown the budget named,
so while one account waits for its limit the worker serves the others (:func:`requeue_in`: due
a little early, so the re-queue's own delay is not lost). Deferral retries are
unlimited — each one waits for a token that the budget guarantees will come — and each pull
resumes from its stored cursor, each push attempt from its queued work.

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
from crm_sync.errors import LockHeld, RateDeferred

__all__ = ["app", "cycle", "dispatch_all", "enqueue_sync", "requeue_in"]

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


def requeue_in(exc: RateDeferred, defer_after_s: float) -> float:
    """Countdown for a deferred task: due shortly *before* its token, not at the same moment.

    Re-queueing costs a broker round trip, a worker pick-up and the task's set-up (tens to a few
    hundred ms). Arriving half the deferral threshold early overlaps that with the refill; the
    rest of the wait is then short enough to sleep in the worker rather than defer again. Timed
    at the token, each deferral lost that delay: 20 accounts on 4 workers reached ~79 % of the
    accounts' combined limit instead of ~98 % (bench_distributed, tight limit).
    """
    return max(exc.retry_in - defer_after_s / 2, 0.0)


def _retry_deferred(task: Any, exc: RateDeferred) -> Any:
    """The Retry to raise for a deferred task (unbounded: the budget guarantees a token)."""
    return task.retry(countdown=requeue_in(exc, runtime().settings.defer_after_s), exc=exc)


def _pull(task: Any, name: str, stream: str) -> dict[str, Any]:
    """Task body: one account, one object type; re-queued while the account's budget is dry."""
    if stream not in STREAMS:
        msg = f"unknown stream '{stream}'"
        raise ValueError(msg)
    try:
        resume = bool(task.request.retries)  # a deferred pull continues where it stopped
        return pull_stream(runtime(), name, stream, defer=True, resume=resume)
    except RateDeferred as exc:
        raise _retry_deferred(task, exc) from exc


def _sync(
    task: Any,
    _pulled: Any = None,
    name: str = "",
    reason: str = "schedule",
    pulled: bool = False,
) -> dict[str, Any]:
    """Task body: compute and push one account under its lease (after this cycle's pulls)."""
    if not pulled:  # asked for on its own: pull every stream first, each in its own task
        cycle(name, reason).delay()
        return {"account": name, "status": "cycle_started", "reason": reason}
    try:
        record = sync_account(runtime(), name, pull=False, defer=True)
    except RateDeferred as exc:
        raise _retry_deferred(task, exc) from exc
    except LockHeld as exc:
        if reason == "webhook":
            raise task.retry(countdown=2.0, max_retries=30, exc=exc) from exc
        return {"account": name, "status": "skipped", "holder": exc.holder}
    return {"account": name, **record.to_dict()}


def cycle(name: str, reason: str = "schedule") -> Any:
    """One account's cycle: pull every object type in parallel, then compute and push."""
    pulls = [pull_stream_task.si(name, stream) for stream in STREAMS]
    return chord(pulls, sync_account_task.s(name=name, reason=reason, pulled=True))


def dispatch_all(names: list[str] | None = None) -> list[str]:
    """Fan out one cycle per account."""
    accounts = names or sorted(runtime().accounts)
    for name in accounts:
        cycle(name, "schedule").delay()
    return accounts


# max_retries=None: deferral retries are unbounded by design (see the module docstring); the
# webhook lease retry passes its own bound.
pull_stream_task: Any = app.task(name="crm_sync.pull_stream", bind=True, max_retries=None)(_pull)
sync_account_task: Any = app.task(name="crm_sync.sync_account", bind=True, max_retries=None)(_sync)
dispatch_task: Any = app.task(name="crm_sync.dispatch")(dispatch_all)


def enqueue_sync(name: str, *, reason: str = "webhook", countdown: float = 1.0) -> None:
    """Ask a worker to start a cycle for ``name`` soon (webhooks); a short delay coalesces bursts."""
    sync_account_task.apply_async(kwargs={"name": name, "reason": reason}, countdown=countdown)
