"""Hypothesis helper shared by the engine property tests: random activities on random records.

Each activity belongs to a company, a contact or both, and carries only the attributes its type
allows (``ACTIVITY_DOCS``), so every generated record is valid and the tests exercise the engine,
not the record validators. Callers choose the types, the amounts and the dates: the property test
uses exact amounts, the bitwise test amounts where summation order shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from crm_sync.model.activities import ACTIVITY_DOCS, ActivityType
from crm_sync.model.records import Activity

FAMILIES = ["hydraulics", "pneumatics", "filtration", None]
EVENTS = ["FAIR2025", "WEBINAR_Q3", None]


def draw_activities(
    draw: st.DrawFn,
    *,
    cids: Sequence[str],
    pids: Sequence[str],
    kinds: Sequence[ActivityType],
    money: st.SearchStrategy[float | None],
    days: st.SearchStrategy[dt.date],
    max_count: int,
) -> list[Activity]:
    """Up to ``max_count`` activities of ``kinds`` on companies ``cids`` and contacts ``pids``."""
    activities = []
    for i in range(draw(st.integers(0, max_count))):
        kind = draw(st.sampled_from(kinds))
        allowed = ACTIVITY_DOCS[kind][1]
        company = draw(st.one_of(st.none(), st.sampled_from(cids)))
        contact = (
            draw(st.sampled_from(pids))
            if pids and (company is None or draw(st.booleans()))
            else None
        )
        if company is None and contact is None:
            company = cids[0]
        attrs: dict[str, Any] = {}
        for name in ("amount", "list_amount"):
            if name in allowed:
                attrs[name] = draw(money)
        if "product_family" in allowed:
            attrs["product_family"] = draw(st.sampled_from(FAMILIES))
        if "event_code" in allowed:
            attrs["event_code"] = draw(st.sampled_from(EVENTS))
        day = draw(days)
        activities.append(
            Activity(
                id=f"A{i}",
                type=kind,
                occurred_at=dt.datetime(day.year, day.month, day.day, 12),
                company_id=company,
                contact_id=contact,
                **attrs,
            )
        )
    return activities
