"""Pulled data, computed results, CRM values and the audit journal, on one connection.

These functions run inside the caller's transaction so the engine can commit a page's records, its
CRM values, the work it creates and the cursor advance atomically (DESIGN §6: a cursor advances
only after its data is stored; a pushed value is recorded only after the CRM confirmed it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.engine import Connection

from crm_sync.model import Activity, Company, Contact, PurchasePotential
from crm_sync.model.frames import Dataset
from crm_sync.store import schema as t
from crm_sync.store.sql import chunks, upsert

__all__ = [
    "apply_memberships",
    "confirm_intents",
    "content_hash",
    "crm_values",
    "load_dataset",
    "mark_deleted",
    "observe_values",
    "record_intents",
    "related_ids",
    "store_activities",
    "store_potentials",
    "store_records",
    "stored_results",
]


def content_hash(data: Mapping[str, Any]) -> str:
    """Hash of a record's model content: equal hashes mean an echo or a no-op change."""
    raw = json.dumps(data, sort_keys=True, default=str).encode()
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def store_records(
    conn: Connection,
    account: str,
    entity: str,
    items: Sequence[Company | Contact],
    *,
    keep: Collection[str] = (),
) -> list[str]:
    """Upsert pulled records; return ids whose model content changed (echoes are not returned).

    ``keep`` names attributes that record pages do not carry because another page owns them
    (list-membership fields, set by :func:`apply_memberships`): a rewritten record keeps their
    stored value, and a record page can never set them. The content hash covers the merged data,
    so a re-read record whose flags were set by a snapshot is still recognised as unchanged.
    """
    if not items:
        return []
    kept = _stored_attributes(conn, account, entity, [r.id for r in items], keep) if keep else {}
    prepared: dict[str, dict[str, Any]] = {}
    for rec in items:
        data = rec.model_dump(mode="json", exclude={"modified_at"})
        if keep:
            attrs = {k: v for k, v in data["attributes"].items() if k not in keep}
            attrs.update(kept.get(rec.id, {}))
            data["attributes"] = attrs
        prepared[rec.id] = {
            "account": account,
            "entity": entity,
            "id": rec.id,
            "modified_at": (rec.modified_at or dt.datetime.min).isoformat(),
            "content_hash": content_hash(data),
            "company_id": getattr(rec, "company_id", None),
            "parent_id": getattr(rec, "parent_id", None),
            "deleted": False,
            "data": json.dumps(data, sort_keys=True),
        }
    known: dict[str, str] = {}
    for part in chunks(prepared):
        q = select(t.records.c.id, t.records.c.content_hash).where(
            t.records.c.account == account, t.records.c.entity == entity, t.records.c.id.in_(part)
        )
        known.update({row[0]: row[1] for row in conn.execute(q)})
    changed = [i for i, row in prepared.items() if known.get(i) != row["content_hash"]]
    upsert(conn, t.records, list(prepared.values()), ["account", "entity", "id"])
    return changed


def _stored_attributes(
    conn: Connection, account: str, entity: str, ids: Sequence[str], names: Collection[str]
) -> dict[str, dict[str, Any]]:
    """Per stored record among ``ids``: its stored values of the attributes in ``names``."""
    c = t.records.c
    out: dict[str, dict[str, Any]] = {}
    for part in chunks(sorted(set(ids))):
        q = select(c.id, c.data).where(c.account == account, c.entity == entity, c.id.in_(part))
        for rid, raw in conn.execute(q):
            attrs = json.loads(raw).get("attributes") or {}
            found = {k: attrs[k] for k in names if k in attrs}
            if found:
                out[rid] = found
    return out


def apply_memberships(
    conn: Connection, account: str, entity: str, name: str, members: Collection[str]
) -> list[str]:
    """Apply a membership snapshot: attribute ``name`` is True for ``members``, else False.

    Every live record of ``entity`` is covered (ids in ``members`` that the store does not hold
    are ignored: their record page has not arrived yet, and the next snapshot will cover them).
    Only records whose stored value differs are rewritten, each with a content hash recomputed
    from its new data exactly as :func:`store_records` computes it, so a later re-read of an
    unchanged record is still an echo. Returns the ids that changed (they need a recompute).
    """
    c = t.records.c
    wanted = set(members)
    base = and_(c.account == account, c.entity == entity, c.deleted.is_(False))
    rows: list[tuple[str, dict[str, Any]]] = []
    for rid, raw in conn.execute(select(c.id, c.data).where(base)):
        data = json.loads(raw)
        attrs = data.setdefault("attributes", {})
        flag = rid in wanted
        if attrs.get(name) is not flag:
            attrs[name] = flag
            rows.append((rid, data))
    if rows:
        stmt = (
            update(t.records)
            .where(c.account == account, c.entity == entity, c.id == bindparam("rid"))
            .values(data=bindparam("new_data"), content_hash=bindparam("new_hash"))
        )
        params = [
            {"rid": rid, "new_data": json.dumps(d, sort_keys=True), "new_hash": content_hash(d)}
            for rid, d in rows
        ]
        conn.execute(stmt, params)
    return [rid for rid, _ in rows]


def mark_deleted(conn: Connection, account: str, entity: str, ids: Iterable[str]) -> set[str]:
    """Flag records the CRM archived, deleted or merged away; return the ids that were live.

    A deleted record leaves every later evaluation (and so the ABC cut-offs and chain roll-ups of
    the others) and is never pushed to again. Its content hash is cleared so that a record the CRM
    restores later counts as changed and is recomputed.
    """
    c = t.records.c
    live: set[str] = set()
    for part in chunks(sorted(set(ids))):
        base = and_(c.account == account, c.entity == entity, c.id.in_(part))
        live.update(conn.execute(select(c.id).where(base, c.deleted.is_(False))).scalars())
        conn.execute(update(t.records).where(base).values(deleted=True, content_hash=""))
    return live


def store_potentials(
    conn: Connection, account: str, items: Sequence[PurchasePotential]
) -> set[str]:
    """Upsert purchase-potential rows (kept as ``potential`` records); return changed companies."""
    fake: list[dict[str, Any]] = []
    for pot in items:
        data = pot.model_dump(mode="json")
        key = "|".join(
            str(data[k] or "")
            for k in ("company_id", "valid_from", "product_family", "business_line")
        )
        fake.append(
            {
                "account": account,
                "entity": "potential",
                "id": key,
                "modified_at": "",
                "content_hash": content_hash(data),
                "company_id": pot.company_id,
                "parent_id": None,
                "deleted": False,
                "data": json.dumps(data, sort_keys=True),
            }
        )
    known: dict[str, str] = {}
    for part in chunks([r["id"] for r in fake]):
        q = select(t.records.c.id, t.records.c.content_hash).where(
            t.records.c.account == account,
            t.records.c.entity == "potential",
            t.records.c.id.in_(part),
        )
        known.update({row[0]: row[1] for row in conn.execute(q)})
    fresh = [r for r in fake if known.get(r["id"]) != r["content_hash"]]
    upsert(conn, t.records, fresh, ["account", "entity", "id"])
    return {r["company_id"] for r in fresh}


def store_activities(
    conn: Connection, account: str, items: Sequence[Activity]
) -> tuple[set[str], set[str]]:
    """Insert new or changed activities; return the (company ids, contact ids) they touch."""
    prepared: dict[str, dict[str, Any]] = {}
    for act in items:
        data = act.model_dump(mode="json")
        prepared[act.id] = {
            "account": account,
            "id": act.id,
            "occurred_at": act.occurred_at.isoformat(),
            "company_id": act.company_id,
            "contact_id": act.contact_id,
            "content_hash": content_hash(data),
            "data": json.dumps(data, sort_keys=True),
        }
    known: dict[str, str] = {}
    for part in chunks(prepared):
        q = select(t.activities.c.id, t.activities.c.content_hash).where(
            t.activities.c.account == account, t.activities.c.id.in_(part)
        )
        known.update({row[0]: row[1] for row in conn.execute(q)})
    fresh = [row for i, row in prepared.items() if known.get(i) != row["content_hash"]]
    upsert(conn, t.activities, fresh, ["account", "id"])
    companies = {r["company_id"] for r in fresh if r["company_id"]}
    contacts = {r["contact_id"] for r in fresh if r["contact_id"]}
    return companies, contacts


def observe_values(
    conn: Connection,
    account: str,
    entity: str,
    current: Mapping[str, Mapping[str, str | None]],
) -> set[str]:
    """Record what the CRM holds now; return ids where it differs from what the store believed.

    A difference is a manual edit (or a write of ours whose confirmation a crash lost): the record
    needs a fresh diff. Equal values are echoes and change nothing.
    """
    if not current:
        return set()
    before = crm_values(conn, account, entity, current.keys())
    rows: list[dict[str, Any]] = []
    drifted: set[str] = set()
    for rid, props in current.items():
        known = before.get(rid, {})
        for prop, value in props.items():
            old = known.get(prop)
            if old is None or old[0] != value:
                drifted.add(rid)
                pushed = old[1] if old else None
                rows.append(
                    {
                        "account": account,
                        "entity": entity,
                        "record_id": rid,
                        "property": prop,
                        "value": value,
                        "pushed": pushed,
                    }
                )
    upsert(conn, t.crm_values, rows, ["account", "entity", "record_id", "property"])
    return drifted


def crm_values(
    conn: Connection, account: str, entity: str, ids: Iterable[str]
) -> dict[str, dict[str, tuple[str | None, str | None]]]:
    """Per record and property: (value the CRM holds, value crm_sync last wrote)."""
    out: dict[str, dict[str, tuple[str | None, str | None]]] = {}
    c = t.crm_values.c
    for part in chunks(ids):
        q = select(c.record_id, c.property, c.value, c.pushed).where(
            c.account == account, c.entity == entity, c.record_id.in_(part)
        )
        for rid, prop, value, pushed in conn.execute(q):
            out.setdefault(rid, {})[prop] = (value, pushed)
    return out


def stored_results(
    conn: Connection, account: str, entity: str, ids: Iterable[str] | None
) -> dict[str, dict[str, tuple[Any, str | None]]]:
    """Per record and output: (value, deciding rule) as last computed."""
    c = t.results.c
    out: dict[str, dict[str, tuple[Any, str | None]]] = {}
    base = and_(c.account == account, c.entity == entity)
    parts: Iterable[list[str] | None] = chunks(ids) if ids is not None else [None]
    for part in parts:
        q = select(c.record_id, c.output, c.value, c.rule).where(base)
        if part is not None:
            q = q.where(c.record_id.in_(part))
        for rid, output, value, rule in conn.execute(q):
            out.setdefault(rid, {})[output] = (json.loads(value), rule)
    return out


def record_intents(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Journal the values about to be pushed (status ``intent``) before the request is sent."""
    if rows:
        conn.execute(t.audit.insert(), [{**r, "status": "intent"} for r in rows])


def confirm_intents(
    conn: Connection,
    account: str,
    entity: str,
    confirmed: Mapping[str, Mapping[str, str | None]],
    *,
    status: str = "confirmed",
    run_id: int | None = None,
) -> None:
    """Mark journalled writes as confirmed (or abandoned) and remember the CRM's new values."""
    a = t.audit.c
    now = dt.datetime.now(dt.UTC)
    rows: list[dict[str, Any]] = []
    # One statement per chunk, not per record: a full run confirms every record it pushed.
    for part in chunks(list(confirmed)):
        cond = and_(
            a.account == account,
            a.entity == entity,
            a.status == "intent",
            a.record_id.in_(part),
        )
        if run_id is not None:
            cond = and_(cond, a.run_id == run_id)
        conn.execute(update(t.audit).where(cond).values(status=status, at=now))
    for rid, props in confirmed.items():
        if status == "confirmed":
            for prop, value in props.items():
                rows.append(
                    {
                        "account": account,
                        "entity": entity,
                        "record_id": rid,
                        "property": prop,
                        "value": value,
                        "pushed": value,
                    }
                )
    upsert(conn, t.crm_values, rows, ["account", "entity", "record_id", "property"])


def related_ids(conn: Connection, account: str, *, companies: set[str]) -> set[str]:
    """Contacts of ``companies`` (the contacts whose outputs may read company values)."""
    out: set[str] = set()
    c = t.records.c
    for part in chunks(companies):
        q = select(c.id).where(
            c.account == account,
            c.entity == "contact",
            c.company_id.in_(part),
            c.deleted.is_(False),
        )
        out.update(conn.execute(q).scalars())
    return out


def load_dataset(
    conn: Connection, account: str, companies: set[str] | None, contacts: set[str] | None
) -> Dataset:
    """Rebuild the evaluation input for the given records (all when None) and their activities."""
    c = t.records.c

    def _records(entity: str, ids: set[str] | None) -> list[dict[str, Any]]:
        base = and_(c.account == account, c.entity == entity, c.deleted.is_(False))
        if ids is None:
            return [json.loads(d) for d in conn.execute(select(c.data).where(base)).scalars()]
        rows: list[dict[str, Any]] = []
        for part in chunks(sorted(ids)):
            q = select(c.data).where(base, c.id.in_(part))
            rows.extend(json.loads(d) for d in conn.execute(q).scalars())
        return rows

    company_rows = _records("company", companies)
    potential_rows: list[dict[str, Any]] = []
    base = and_(c.account == account, c.entity == "potential")
    if companies is None:
        potential_rows = [json.loads(d) for d in conn.execute(select(c.data).where(base)).scalars()]
    else:
        for part in chunks(sorted(companies)):
            q = select(c.data).where(base, c.company_id.in_(part))
            potential_rows.extend(json.loads(d) for d in conn.execute(q).scalars())
    contact_rows = _records("contact", contacts)
    a = t.activities.c
    acts: dict[str, dict[str, Any]] = {}
    if companies is None and contacts is None:
        for d in conn.execute(select(a.data).where(a.account == account)).scalars():
            row = json.loads(d)
            acts[row["id"]] = row
    else:
        for col, ids in ((a.company_id, companies or set()), (a.contact_id, contacts or set())):
            for part in chunks(sorted(ids)):
                q = select(a.data).where(a.account == account, col.in_(part))
                for d in conn.execute(q).scalars():
                    row = json.loads(d)
                    acts[row["id"]] = row
    return Dataset.from_records(
        companies=[Company.model_validate(r) for r in company_rows],
        contacts=[Contact.model_validate(r) for r in contact_rows],
        potentials=[PurchasePotential.model_validate(r) for r in potential_rows],
        activities=[
            Activity.model_validate(r) for r in sorted(acts.values(), key=lambda r: r["id"])
        ],
    )
