"""Incremental pull: pages from the stored cursor (minus the overlap), stored page by page.

Cursor semantics (dlt's, CONVENTIONS §6): closed start at ``cursor - overlap``; records re-read
inside the overlap are de-duplicated by content hash, so they neither count as new data nor
trigger work; the cursor only moves forward, and only in the transaction that stored its page.

The overlap is for index lag *between* pulls. A pull that resumes mid-stream — after a transient
failure, or a distributed pull re-queued by its rate budget — continues from the exact stored
``(modified, id)`` position instead: moving back again would re-read every page inside the overlap
on each resume, and when a bulk import gave thousands of records one timestamp, a pull resumed
after every page would never get past them.

List-membership fields (``pull: {contact: {field: {list: ...}}}``) arrive as snapshot pages
(:attr:`PullPage.memberships`) at the end of every pull of a stream, because a membership change
does not bump a record's modified time. A snapshot flips the flag on exactly the records whose
stored value differs and queues them for recompute; record pages never carry these fields, so
:func:`~crm_sync.store.data.store_records` keeps their stored value when it rewrites a record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from sqlalchemy.engine import Connection

from crm_sync.adapters.base import Cursor, EntityName, PullPage, Stream
from crm_sync.mapping.plan import pull_properties
from crm_sync.store import data
from crm_sync.sync import quarantine
from crm_sync.sync.crash import crash_point
from crm_sync.sync.options import RunContext

__all__ = ["pull_all", "since"]

STREAMS: tuple[tuple[Stream, EntityName | None], ...] = (
    ("companies", "company"),
    ("contacts", "contact"),
    ("activities", None),
)


def since(stored: Cursor | None, overlap_s: float) -> Cursor | None:
    """Where the next pull starts: the stored cursor moved back by the overlap window."""
    if stored is None:
        return None
    return Cursor(stored.modified_at - dt.timedelta(seconds=overlap_s), "")


def _pages(
    ctx: RunContext, stream: Stream, props: list[str], *, resume: bool = False
) -> Iterator[PullPage]:
    """The stream's pages from the stored cursor; ``resume`` continues a pull cut short."""
    it: Iterator[PullPage] | None = None

    def fetch() -> PullPage | None:
        nonlocal it, resume
        if it is None:
            stored = ctx.store.get_cursor(ctx.account, stream)
            start = stored if resume else since(stored, ctx.options.overlap_s)
            it = ctx.adapter.pull(stream, start, properties=props, page_size=ctx.options.page_size)
        try:
            return next(it, None)
        except Exception:
            it = None  # a failed generator is finished: resume from the stored cursor
            resume = True
            raise

    while True:
        page = ctx.call(f"pull:{stream}", fetch)
        if page is None:
            return
        yield page


def _store_page(ctx: RunContext, page: PullPage, entity: EntityName | None) -> None:
    store, account = ctx.store, ctx.account
    with store.begin() as conn:
        if entity is not None:
            pulled = page.companies if entity == "company" else page.contacts
            fields = quarantine.field_types(ctx.computer, entity)
            reasons = {r.id: why for r in pulled if (why := quarantine.check(r, fields))}
            records = [r for r in pulled if r.id not in reasons]
            listed = ctx.mapping.list_fields(entity)
            changed = data.store_records(conn, account, entity, records, keep=listed)
            if page.potentials:
                changed = [*changed, *data.store_potentials(conn, account, page.potentials)]
            store.add_work(conn, account, "recompute", entity, changed)
            drifted = data.observe_values(conn, account, entity, page.current)
            freed = quarantine.release(conn, account, entity, [r.id for r in records])
            store.add_work(conn, account, "push", entity, (drifted | set(freed)) - set(reasons))
            quarantine.hold(conn, account, entity, reasons, dt.datetime.now(dt.UTC))
            ctx.count("quarantined", len(reasons))
            if page.deleted:
                _forget(ctx, conn, entity, page.deleted)
            for name, members in sorted(page.memberships.items()):
                if name not in listed:
                    continue  # not a list field of this mapping: never let a snapshot set it
                flipped = data.apply_memberships(conn, account, entity, name, members)
                store.add_work(conn, account, "recompute", entity, flipped)
                ctx.count(f"membership_changed_{entity}", len(flipped))
            ctx.count(f"pulled_{entity}", len(records))
            ctx.count(f"changed_{entity}", len(set(changed)))
            ctx.count("echoes_ignored", max(0, len(records) - len(set(changed) | drifted)))
        else:
            companies, contacts = data.store_activities(conn, account, page.activities)
            store.add_work(conn, account, "recompute", "company", companies)
            store.add_work(conn, account, "recompute", "contact", contacts)
            ctx.count("pulled_activities", len(page.activities))
        if page.cursor is not None:
            stored = store.get_cursor(account, page.stream)
            if stored is None or page.cursor > stored:
                store.set_cursor(conn, account, page.stream, page.cursor)


def _forget(ctx: RunContext, conn: Connection, entity: EntityName, ids: Sequence[str]) -> None:
    """Archived, deleted or merged CRM records: stop evaluating and pushing them.

    Their contacts (for a company) are recomputed, since company values they read are gone, and
    any push still queued for them is dropped: writing to an archived record only earns a 404.
    """
    store, account = ctx.store, ctx.account
    gone = data.mark_deleted(conn, account, entity, ids)
    store.clear_work(conn, account, "push", entity, ids)
    store.clear_work(conn, account, "recompute", entity, ids)
    if entity == "company" and gone:
        store.add_work(
            conn, account, "recompute", "contact", data.related_ids(conn, account, companies=gone)
        )
    ctx.count(f"deleted_{entity}", len(gone))


def pull_all(ctx: RunContext) -> None:
    """Pull every stream; each page commits its data, its work and its cursor together."""
    for stream, entity in STREAMS:
        props = pull_properties(ctx.mapping, entity) if entity else []
        ctx.options.progress.phase(f"pull {stream}", None)
        for page in _pages(ctx, stream, props):
            crash_point("pull.page_fetched")
            _store_page(ctx, page, entity)
            crash_point("pull.page_stored")
            n = len(page.companies) + len(page.contacts) + len(page.activities)
            ctx.options.progress.advance(f"pull {stream}", n)
            ctx.check_stop()
        ctx.options.progress.done(f"pull {stream}", "")
        crash_point("pull.stream_done")
    crash_point("pull.done")
