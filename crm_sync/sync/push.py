"""Diff and push: journal, send, confirm — so a crash anywhere converges on the next run.

For each batch: (1) the intended values are journalled in the audit log as ``intent``; (2) the
batch is sent under the rate limiter, budget and retry policy, and a whole-batch permanent error is
bisected until the bad record is isolated; (3) accepted values are recorded as the CRM's confirmed
values and their audit rows become ``confirmed``; rejected records go to the dead letters. If the
process dies between (2) and (3), the next run's pull sees the values in the CRM (our own echo),
and :func:`recover_intents` confirms the journalled rows — nothing is written twice and the audit
log still matches the CRM.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from crm_sync.adapters.base import (
    EntityName,
    PropertyUpdate,
    PushResult,
    RecordRejection,
    RecordUpdate,
    TagUpdate,
)
from crm_sync.errors import AuthError, LockHeld, PermanentError, RecordRejected
from crm_sync.store import data, leases
from crm_sync.store import schema as t
from crm_sync.store.sql import chunks
from crm_sync.sync import deadletters, quarantine
from crm_sync.sync.crash import crash_point
from crm_sync.sync.diff import Plan, diff_record, join_tags
from crm_sync.sync.options import RunContext

__all__ = ["push_phase", "recover_intents"]

ENTITIES: tuple[EntityName, ...] = ("company", "contact")


def _confirmed_value(change: PropertyUpdate | TagUpdate) -> str | None:
    return change.new if isinstance(change, PropertyUpdate) else join_tags(change.result)


def recover_intents(ctx: RunContext) -> None:
    """Settle journalled writes of earlier (crashed) runs against what the CRM now shows."""
    a = t.audit.c
    with ctx.store.begin() as conn:
        rows = conn.execute(
            select(a.entity, a.record_id, a.property, a.new).where(
                a.account == ctx.account, a.status == "intent"
            )
        ).all()
        for entity in ENTITIES if rows else ():
            mine = [r for r in rows if r.entity == entity]
            now = data.crm_values(conn, ctx.account, entity, {r.record_id for r in mine})
            seen: dict[str, dict[str, str | None]] = {}
            lost: dict[str, dict[str, str | None]] = {}
            for r in mine:
                current = now.get(r.record_id, {}).get(r.property, (None, None))[0]
                bucket = seen if current == r.new else lost
                bucket.setdefault(r.record_id, {})[r.property] = r.new
            data.confirm_intents(conn, ctx.account, entity, seen)
            data.confirm_intents(conn, ctx.account, entity, lost, status="abandoned")
            ctx.count("intents_recovered", sum(len(v) for v in seen.values()))
    crash_point("recover.done")


def _updates(ctx: RunContext, entity: EntityName, ids: set[str]) -> list[RecordUpdate]:
    targets = [x for x in ctx.mapping.targets() if x.entity == entity]
    updates: list[RecordUpdate] = []
    clean: list[str] = []
    with ctx.store.begin() as conn:
        for part in chunks(sorted(ids), 1000):
            results = data.stored_results(conn, ctx.account, entity, part)
            crm = data.crm_values(conn, ctx.account, entity, part)
            for rid in part:
                desired = {o: v for o, (v, _rule) in results.get(rid, {}).items()}
                changes = diff_record(targets, desired, crm.get(rid, {}))
                if changes:
                    updates.append(RecordUpdate(entity, rid, changes))
                else:
                    clean.append(rid)
        ctx.store.clear_work(conn, ctx.account, "push", entity, clean)
        deadletters.resolve(conn, ctx.account, entity, clean)
    return updates


def _send(ctx: RunContext, batch: Sequence[RecordUpdate]) -> PushResult:
    endpoint = f"push:{batch[0].entity}"
    try:
        result: PushResult = ctx.call(endpoint, lambda: ctx.adapter.push(batch))
    except RecordRejected as exc:
        return PushResult(rejected=(RecordRejection(exc.record_id, str(exc)),))
    except AuthError:
        raise  # refused credentials are no record's fault: bisecting would only repeat the 401
    except PermanentError as exc:
        if len(batch) == 1:  # bisected down to the bad record
            return PushResult(rejected=(RecordRejection(batch[0].record_id, str(exc)),))
        mid = len(batch) // 2
        left, right = _send(ctx, batch[:mid]), _send(ctx, batch[mid:])
        return PushResult(left.accepted + right.accepted, left.rejected + right.rejected)
    ctx.count("write_calls")
    return result


def _push_batch(
    ctx: RunContext, batch: list[RecordUpdate], rules: dict[tuple[str, str], str]
) -> None:
    entity = batch[0].entity
    now = dt.datetime.now(dt.UTC)
    intents: list[dict[str, Any]] = [
        {
            "account": ctx.account,
            "run_id": ctx.run_id,
            "entity": entity,
            "record_id": u.record_id,
            "property": c.property,
            "old": c.old if isinstance(c, PropertyUpdate) else None,
            "new": _confirmed_value(c),
            "rule": rules.get((u.record_id, c.property)),
            "at": now,
        }
        for u in batch
        for c in u.changes
    ]
    with ctx.store.begin() as conn:
        data.record_intents(conn, intents)
    crash_point("push.intents_recorded")
    result = _send(ctx, batch)
    crash_point("push.sent")
    by_id = {u.record_id: u for u in batch}
    accepted = {
        rid: {c.property: _confirmed_value(c) for c in by_id[rid].changes}
        for rid in result.accepted
        if rid in by_id
    }
    rejected = {
        r.record_id: {c.property: _confirmed_value(c) for c in by_id[r.record_id].changes}
        for r in result.rejected
        if r.record_id in by_id
    }
    with ctx.store.begin() as conn:
        data.confirm_intents(conn, ctx.account, entity, accepted, run_id=ctx.run_id)
        data.confirm_intents(
            conn, ctx.account, entity, rejected, status="abandoned", run_id=ctx.run_id
        )
        for rej in result.rejected:
            deadletters.record_failure(
                conn, ctx.account, entity, rej.record_id, rej.reason, now=now
            )
        deadletters.resolve(conn, ctx.account, entity, list(accepted))
        ctx.store.clear_work(conn, ctx.account, "push", entity, [*accepted, *rejected])
    crash_point("push.confirmed")
    ctx.count("records_pushed", len(accepted))
    ctx.count("values_pushed", sum(len(v) for v in accepted.values()))
    ctx.count("rejected", len(result.rejected))
    for rej in result.rejected:
        if len(ctx.errors) < 20:
            ctx.errors.append({"record": f"{entity}:{rej.record_id}", "reason": rej.reason})


def push_phase(ctx: RunContext, renew: Any) -> None:
    """Diff every queued record (plus due dead letters) and push, batch by batch."""
    crash_point("push.started")
    recover_intents(ctx)
    now = dt.datetime.now(dt.UTC)
    plan = Plan()
    for entity in ENTITIES:
        ids = ctx.store.work_ids(ctx.account, "push", entity)
        due = deadletters.due(ctx.store, ctx.account, entity, now)
        ctx.count("deadletters_retried", len(due))
        updates = _updates(
            ctx, entity, (ids | due) - quarantine.held(ctx.store, ctx.account, entity)
        )
        crash_point("diff.done")
        for u in updates:
            for c in u.changes:
                plan.add(entity, u.record_id, c)
        ctx.count(f"diff_{entity}", len(updates))
        if ctx.options.dry_run or not updates:
            continue
        with ctx.store.begin() as conn:
            rules = {(rid, prop): rule for rid, prop, rule in _rules(conn, ctx, entity, updates)}
        ctx.options.progress.phase(f"push {entity}", len(updates))
        size = max(1, ctx.adapter.max_batch)
        for start in range(0, len(updates), size):
            ctx.check_stop()
            if not renew():  # our lease expired and another worker took it over: stop pushing
                _lease_lost(ctx)
            ctx.options.before_batch()  # may defer the run (RateDeferred): nothing journalled yet
            batch = updates[start : start + size]
            _push_batch(ctx, batch, rules)
            crash_point("push.batch_done")
            ctx.options.progress.advance(f"push {entity}", len(batch))
        ctx.options.progress.done(f"push {entity}", "")
    ctx.plan = plan.properties
    crash_point("push.done")


def _lease_lost(ctx: RunContext) -> None:
    """Raise :class:`LockHeld` naming the worker that now holds the account's lease."""
    current = leases.holder_of(ctx.store, ctx.account)
    holder, until = (current[0], current[1].isoformat()) if current else ("unknown", "unknown")
    raise LockHeld(ctx.account, holder, until)


def _rules(
    conn: Any, ctx: RunContext, entity: str, updates: list[RecordUpdate]
) -> list[tuple[str, str, str]]:
    """Deciding rule per (record, CRM property), for the audit log."""
    by_output = {x.output: x.name for x in ctx.mapping.targets() if x.entity == entity}
    out: list[tuple[str, str, str]] = []
    ids = [u.record_id for u in updates]
    for rid, outputs in data.stored_results(conn, ctx.account, entity, ids).items():
        for output, (_value, rule) in outputs.items():
            if output in by_output and rule:
                out.append((rid, by_output[output], rule))
    return out
