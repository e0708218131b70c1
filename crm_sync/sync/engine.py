"""One run = lease → pull → recompute → diff → push → record. The only code path there is.

The CLI (``crm-sync run``), the worker, the demo and :func:`crm_sync.run` all call
:func:`run_sync`. A run that meets a daily-quota refusal or its own API budget stops cleanly with
status ``quota_stopped``: every completed page, result and confirmed push is already stored, and the
next run resumes from there. A run asked to stop (SIGTERM) stops between batches with status
``stopped``. A distributed run whose account budget has no token soon is recorded ``deferred`` and
re-raises :class:`~crm_sync.errors.RateDeferred` so its task is re-queued; it stopped at a safe
point. Any other failure marks the run ``failed`` (with a redacted message) and re-raises.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select

from crm_sync.adapters.base import CrmAdapter
from crm_sync.errors import QuotaExhausted, RateDeferred, redact
from crm_sync.mapping.load import MappingFile
from crm_sync.model.frames import today
from crm_sync.store import schema as t
from crm_sync.store.report_schema import save_record_snapshot
from crm_sync.store.sql import Store
from crm_sync.sync.compute import compute_phase
from crm_sync.sync.computer import Computer
from crm_sync.sync.crash import crash_point
from crm_sync.sync.lock import Lease, new_holder_id
from crm_sync.sync.options import RunContext, RunOptions, StopRequested
from crm_sync.sync.pull import pull_all
from crm_sync.sync.push import push_phase
from crm_sync.sync.ratelimit import CallGate, TokenBucket

__all__ = ["RunRecord", "account_key", "run_sync"]


@dataclass(frozen=True)
class RunRecord:
    """What one run did: the same object the store keeps, ``--json`` prints and ``run()`` returns.

    .. versionadded:: 0.1
    """

    id: int
    account: str
    status: str  # ok | quota_stopped | stopped | deferred | failed
    dry_run: bool
    as_of: str
    counts: dict[str, int] = field(default_factory=dict)
    api_calls: dict[str, int] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def account_key(adapter: CrmAdapter) -> str:
    """The lease and state key of a CRM account: ``<crm>:<portal or org id>``."""
    return f"{adapter.crm}:{adapter.account}"


def _timed(ctx: RunContext, name: str, fn: Callable[[], None]) -> None:
    start = time.perf_counter()
    try:
        fn()
    finally:
        ctx.durations[name] = round(time.perf_counter() - start, 4)


def _snapshot(ctx: RunContext) -> None:
    """Segment sizes per output value after this run (the report's time series)."""
    r = t.results.c
    counts: Counter[tuple[str, str, str]] = Counter()
    with ctx.store.begin() as conn:
        q = (
            select(r.entity, r.output, r.value, func.count())
            .where(r.account == ctx.account)
            .group_by(r.entity, r.output, r.value)
        )
        for entity, output, raw, n in conn.execute(q):
            value = json.loads(raw)
            for v in value if isinstance(value, list) else [value]:
                counts[(entity, output, "(none)" if v is None else str(v))] += n
        ctx.store.save_snapshot(conn, ctx.run_id, ctx.account, dict(counts))
        # Per-record values and numbers: the report's transitions, flapping, drift and lift.
        save_record_snapshot(conn, ctx.run_id, ctx.account)
        facts = getattr(ctx.computer, "snapshot_facts", None)
        if facts is not None:
            facts(conn, ctx.run_id, ctx.account)
    crash_point("snapshot.stored")


def run_sync(
    adapter: CrmAdapter,
    mapping: MappingFile,
    computer: Computer,
    store: Store,
    options: RunOptions | None = None,
) -> RunRecord:
    """Run once against one CRM account; raises LockHeld if another worker holds its lease."""
    options = options or RunOptions()
    account = account_key(adapter)
    holder = options.holder or new_holder_id()
    bucket = TokenBucket(options.rate, options.burst, sleep=options.sleep) if options.rate else None
    ctx = RunContext(
        adapter, mapping, computer, store, options, account, CallGate(bucket, options.budget)
    )
    ctx.as_of = options.as_of or today()
    with Lease(store, account, holder, options.lease_ttl_s) as lease:
        ctx.run_id = store.start_run(account, holder, dry_run=options.dry_run, as_of=ctx.as_of)
        crash_point("run.started")
        status = "ok"
        started = time.perf_counter()
        try:
            if options.pull:
                _timed(ctx, "pull", lambda: pull_all(ctx))
            _timed(ctx, "compute", lambda: compute_phase(ctx))
            _timed(ctx, "push", lambda: push_phase(ctx, lease.renew))
            if not options.dry_run:
                _timed(ctx, "snapshot", lambda: _snapshot(ctx))
        except QuotaExhausted as exc:
            status = "quota_stopped"
            ctx.errors.append({"type": type(exc).__name__, "message": redact(str(exc))})
        except StopRequested:
            status = "stopped"
        except RateDeferred:
            _finish(ctx, "deferred", started)
            raise
        except Exception as exc:
            ctx.errors.append({"type": type(exc).__name__, "message": redact(str(exc))})
            _finish(ctx, "failed", started)
            raise
        record = _finish(ctx, status, started)
        crash_point("run.recorded")
    crash_point("lock.released")
    return record


def _finish(ctx: RunContext, status: str, started: float) -> RunRecord:
    ctx.durations["total"] = round(time.perf_counter() - started, 4)
    record = RunRecord(
        id=ctx.run_id,
        account=ctx.account,
        status=status,
        dry_run=ctx.options.dry_run,
        as_of=ctx.as_of.isoformat(),
        counts=dict(sorted(ctx.counts.items())),
        api_calls=dict(sorted(ctx.gate.calls.items())),
        durations=ctx.durations,
        errors=ctx.errors,
        plan=ctx.plan,
    )
    detail = {
        k: v
        for k, v in record.to_dict().items()
        if k in ("counts", "api_calls", "durations", "errors", "plan")
    }
    ctx.store.finish_run(
        ctx.run_id,
        status,
        detail,
        model_fingerprint=ctx.computer.fingerprint,
        mapping_fingerprint=ctx.mapping.fingerprint,
    )
    return record
