"""Quarantine: pulled records whose values cannot be right are held back, with the reason.

Why: a typo in the CRM — an e-mail address without a domain, a picklist value the model does not
declare, text in a number field, an impossible date — must neither crash a run nor be segmented on
a guess and pushed back into the CRM. Such a record is kept out of the store (its last good version,
if any, stays) and out of every push until the CRM sends a valid version; it is listed with its
reason by ``crm-sync deadletters list --status quarantined``. Held records live in the dead-letter
table with status ``quarantined``, which the push retry loop never picks up.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from crm_sync.model import Company, Contact
from crm_sync.store import schema as t
from crm_sync.store.sql import Store, chunks, upsert

__all__ = ["QUARANTINED", "check", "field_types", "held", "hold", "release"]

QUARANTINED = "quarantined"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def field_types(computer: Any, entity: str) -> Mapping[str, Any]:
    """The model's declared fields of ``entity`` (empty for computers without a model file)."""
    spec = getattr(getattr(computer, "model", None), "spec", None)
    fields = getattr(spec, "fields", None) or {}
    return dict(fields.get(entity, {}))


def _show(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _bad_value(name: str, kind: str, value: Any, allowed: Sequence[str] | None) -> str | None:
    if kind == "enum" and allowed is not None and str(value) not in allowed:
        return f"unknown picklist value {_show(value)} for {name} (allowed: {', '.join(allowed)})"
    if kind == "number":
        try:
            number = float(value) if not isinstance(value, bool) else math.nan
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number):
            return f"{_show(value)} is not a number ({name})"
    if kind == "date" and not isinstance(value, dt.date):
        try:
            dt.date.fromisoformat(str(value))
        except ValueError:
            return f"{_show(value)} is not a date ({name}, expected YYYY-MM-DD)"
    return None


def check(record: Company | Contact, fields: Mapping[str, Any]) -> str | None:
    """Why ``record`` must be held back, or ``None`` when its values are acceptable."""
    problems: list[str] = []
    email = getattr(record, "email", None)
    if email and not _EMAIL.match(email):
        problems.append("invalid e-mail address (expected name@domain.tld)")
    for name, spec in fields.items():
        value = record.attributes.get(name, getattr(record, name, None))
        if value is None or value == "":
            continue
        allowed = getattr(spec, "values", None)
        bad = _bad_value(name, str(getattr(spec, "type", "")), value, allowed)
        if bad:
            problems.append(bad)
    return "; ".join(problems) or None


def hold(
    conn: Connection, account: str, entity: str, reasons: Mapping[str, str], now: dt.datetime
) -> None:
    """Record (or refresh) the quarantine of these records and drop their pending push."""
    if not reasons:
        return
    rows = [
        {
            "account": account,
            "entity": entity,
            "record_id": rid,
            "reason": f"quarantined: {reason}"[:2000],
            "attempts": 1,
            "first_failed_at": now,
            "last_failed_at": now,
            "next_try_at": now,
            "status": QUARANTINED,
        }
        for rid, reason in reasons.items()
    ]
    upsert(conn, t.dead_letters, rows, ["account", "entity", "record_id"])
    w = t.work.c
    for part in chunks(sorted(reasons)):
        conn.execute(
            t.work.delete().where(
                w.account == account,
                w.kind == "push",
                w.entity == entity,
                w.record_id.in_(part),
            )
        )


def release(conn: Connection, account: str, entity: str, ids: Sequence[str]) -> list[str]:
    """The CRM now sends valid versions of these records: end their quarantine; return which."""
    c = t.dead_letters.c
    freed: list[str] = []
    for part in chunks(sorted(set(ids))):
        cond = (
            (c.account == account)
            & (c.entity == entity)
            & c.record_id.in_(part)
            & (c.status == QUARANTINED)
        )
        freed.extend(conn.execute(select(c.record_id).where(cond)).scalars())
        conn.execute(update(t.dead_letters).where(cond).values(status="resolved"))
    return freed


def held(store: Store, account: str, entity: str) -> set[str]:
    """Records currently in quarantine (never pushed)."""
    c = t.dead_letters.c
    with store.begin() as conn:
        q = select(c.record_id).where(
            c.account == account, c.entity == entity, c.status == QUARANTINED
        )
        return set(conn.execute(q).scalars())
