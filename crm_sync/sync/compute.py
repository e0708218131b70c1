"""Recompute the affected records and store what changed, queueing those records for push.

The recompute set is durable (``work`` rows written by the pull) plus records whose windows
crossed a boundary; a changed model or mapping fingerprint recomputes everything. Related records
ride along as context: a contact's company is loaded because personas read company values, and a
recomputed company's contacts are recomputed because their outputs may read it. Models with
population-wide values (ABC cut-offs, peer medians, chains) are evaluated over everything — only
records whose values actually changed are stored and pushed.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from crm_sync.store import data
from crm_sync.store import schema as t
from crm_sync.store.sql import chunks, upsert
from crm_sync.sync.computer import Values
from crm_sync.sync.crash import crash_point
from crm_sync.sync.options import RunContext
from crm_sync.sync.recompute import boundary_records

__all__ = ["compute_phase"]


def _all_ids(ctx: RunContext, entity: str) -> set[str]:
    c = t.records.c
    with ctx.store.begin() as conn:
        q = select(c.id).where(c.account == ctx.account, c.entity == entity, c.deleted.is_(False))
        return set(conn.execute(q).scalars())


def _companies_of(ctx: RunContext, contacts: set[str]) -> set[str]:
    c = t.records.c
    out: set[str] = set()
    with ctx.store.begin() as conn:
        for part in chunks(contacts):
            q = select(c.company_id).where(
                c.account == ctx.account, c.entity == "contact", c.id.in_(part)
            )
            out.update(x for x in conn.execute(q).scalars() if x)
    return out


def _encode(value: Any) -> str:
    return json.dumps(list(value) if isinstance(value, tuple) else value)


def compute_phase(ctx: RunContext) -> None:
    """Decide the recompute set, evaluate, and store changed results with their push work."""
    crash_point("compute.started")
    store, account = ctx.store, ctx.account
    fingerprint = f"{ctx.computer.fingerprint}:{ctx.mapping.fingerprint}"
    everything = store.get_state(account, "fingerprint") != fingerprint
    last_raw = store.get_state(account, "as_of")
    companies = store.work_ids(account, "recompute", "company")
    contacts = store.work_ids(account, "recompute", "contact")
    if everything:
        companies, contacts = _all_ids(ctx, "company"), _all_ids(ctx, "contact")
    elif last_raw:
        crossed = boundary_records(
            store, account, ctx.computer.windows, dt.date.fromisoformat(last_raw), ctx.as_of
        )
        companies |= crossed[0]
        contacts |= crossed[1]
    ctx.counts["recompute_company"] = len(companies)
    ctx.counts["recompute_contact"] = len(contacts)
    ctx.options.progress.phase("compute", len(companies) + len(contacts))
    values: Values = {"company": {}, "contact": {}}
    if companies or contacts:
        with store.begin() as conn:
            contacts_keep = contacts | data.related_ids(conn, account, companies=companies)
            if ctx.computer.full_population:
                dataset = data.load_dataset(conn, account, None, None)
            else:
                context = companies | _companies_of(ctx, contacts_keep)
                dataset = data.load_dataset(conn, account, context, contacts_keep)
        crash_point("compute.loaded")
        computed = ctx.computer.compute(dataset, ctx.as_of)
        keep = {"company": companies, "contact": contacts_keep}
        if ctx.computer.full_population:
            values = computed  # cut-offs may move anyone: keep every record, store only changes
        else:
            values = {
                e: {i: v for i, v in computed.get(e, {}).items() if i in keep[e]} for e in keep
            }
    crash_point("compute.done")
    _store_results(ctx, values, push_all=everything)
    ctx.options.progress.done("compute", f"{sum(len(v) for v in values.values())} evaluated")
    crash_point("compute.results_stored")


def _store_results(ctx: RunContext, values: Values, *, push_all: bool) -> None:
    store, account = ctx.store, ctx.account
    with store.begin() as conn:
        for entity, rows in values.items():
            before = data.stored_results(conn, account, entity, rows.keys())
            changed: list[str] = []
            out: list[dict[str, Any]] = []
            for rid, outputs in rows.items():
                old = before.get(rid, {})
                diff = False
                for output, value in outputs.items():
                    encoded = _encode(value)
                    if output in old and _encode(old[output][0]) == encoded:
                        continue
                    diff = True
                    out.append(
                        {
                            "account": account,
                            "entity": entity,
                            "record_id": rid,
                            "output": output,
                            "value": encoded,
                            "rule": f"{output}={encoded}",
                            "run_id": ctx.run_id,
                        }
                    )
                if diff:
                    changed.append(rid)
            for part in chunks(out, 2000):
                upsert(conn, t.results, part, ["account", "entity", "record_id", "output"])
            push = list(rows) if push_all else changed
            store.add_work(conn, account, "push", entity, push)
            store.clear_work(conn, account, "recompute", entity, None)
            ctx.counts[f"evaluated_{entity}"] = len(rows)
            ctx.counts[f"results_changed_{entity}"] = len(changed)
        store.set_state(
            conn, account, "fingerprint", f"{ctx.computer.fingerprint}:{ctx.mapping.fingerprint}"
        )
        store.set_state(conn, account, "as_of", ctx.as_of.isoformat())
        ctx.options.progress.advance("compute", sum(len(v) for v in values.values()))
