"""Which records to recompute: new data, crossed window boundaries, or everything.

* **New data** — records whose pulled content changed or that gained activities; queued durably in
  the ``work`` table by the pull, so a crash after the pull loses nothing.
* **Crossed boundaries** — a 90-day count changes when an activity leaves the window, with no new
  data at all. For each look-back window, records with an activity whose window edge passed
  between the last run's ``as_of`` and this one are recomputed (one day of margin either side,
  because calendar months vary in length), plus records with activities dated after the last
  ``as_of`` (now inside the evaluation date).
* **Everything** — when the model or mapping fingerprint changed since the last run.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import or_, select

from crm_sync.store import schema as t
from crm_sync.store.sql import Store

__all__ = ["boundary_records", "window_start"]

_WINDOW = re.compile(r"^(\d+)([dwmy])$")


def window_start(as_of: dt.date, window: str) -> dt.date:
    """First day excluded from ``window`` ending at ``as_of`` (calendar months and years)."""
    match = _WINDOW.match(window)
    if match is None:
        msg = f"unknown window '{window}'"
        raise ValueError(msg)
    n, unit = int(match.group(1)), match.group(2)
    if unit in "dw":
        return as_of - dt.timedelta(days=n * (7 if unit == "w" else 1))
    months = n * (12 if unit == "y" else 1)
    year, month = divmod(as_of.year * 12 + as_of.month - 1 - months, 12)
    day = min(as_of.day, 28)
    return dt.date(year, month + 1, day)


def boundary_records(
    store: Store, account: str, windows: tuple[str, ...], last: dt.date, now: dt.date
) -> tuple[set[str], set[str]]:
    """(company ids, contact ids) whose windows crossed a boundary between ``last`` and ``now``."""
    if now <= last:
        return set(), set()
    spans = [(last, now)]  # activities that became current
    for window in windows:
        lo = window_start(last, window) - dt.timedelta(days=1)
        hi = window_start(now, window) + dt.timedelta(days=1)
        spans.append((lo, hi))
    a = t.activities.c
    conds = [
        (a.occurred_at >= (lo + dt.timedelta(days=1)).isoformat())
        & (a.occurred_at < (hi + dt.timedelta(days=1)).isoformat())
        for lo, hi in spans
    ]
    with store.begin() as conn:
        rows = conn.execute(
            select(a.company_id, a.contact_id).where(a.account == account, or_(*conds))
        ).all()
    return {c for c, _ in rows if c}, {p for _, p in rows if p}
