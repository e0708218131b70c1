"""Report history from the state store: per-record snapshots of real sync runs.

Writing: :func:`save_record_snapshot` copies the account's ``results`` (every record's value of
every output after the run) into ``record_snapshots`` with one ``INSERT … SELECT``; the sync
engine calls it in the transaction that stores the run's size snapshot. :func:`save_fact_snapshot`
adds the numbers (revenue, potential, share of wallet, price index, unknown required fields) when
the caller has the run's :class:`~crm_sync.rules.results.Evaluation`.

Reading: :func:`snapshots_from_store` turns the last N runs with record snapshots into
:class:`~crm_sync.report.frames.Snapshots`. Rule statistics (overlap, evaluability) are not kept
per run in the store, so those sections are empty for store-backed reports; push reconciliation,
in turn, exists only here (CRM values against the computed values through the mapping file).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.engine import Connection

from crm_sync.model.frames import Dataset
from crm_sync.report.frames import (
    CRM_SCHEMA,
    FACT_SCHEMA,
    FIELD_SCHEMA,
    RUN_SCHEMA,
    SOURCE_SCHEMA,
    VALUE_SCHEMA,
    Snapshots,
)
from crm_sync.report.modelinfo import required_fields, sets_from_model, thresholds
from crm_sync.report.source import EXTRA_FIELDS, FACT_COLUMNS
from crm_sync.rules.compiled import SegmentationModel
from crm_sync.rules.results import Evaluation
from crm_sync.store import schema as t
from crm_sync.store.report_schema import fact_snapshots, record_snapshots, save_record_snapshot
from crm_sync.store.sql import Store, chunks

__all__ = [
    "save_fact_snapshot",
    "save_record_snapshot",
    "snapshots_from_store",
    "snapshots_from_store_url",
]


def save_fact_snapshot(
    conn: Connection,
    run_id: int,
    account: str,
    *,
    evaluation: Evaluation,
    model: SegmentationModel,
    dataset: Dataset,
) -> None:
    """Store the run's per-record numbers and unknown required fields from its evaluation."""
    required = required_fields(model)
    for entity, frame in evaluation.frames.items():
        names = [*required.get(str(entity), []), *EXTRA_FIELDS.get(str(entity), [])]
        names = [n for n in names if n in frame.columns]
        src = dataset.companies if entity == "company" else dataset.contacts
        owners = src.select("id", pl.col("owner").cast(pl.String)).unique("id", keep="first")
        nums = [
            (
                pl.col(c).cast(pl.Float64)
                if entity == "company" and c in frame.columns
                else pl.lit(None, pl.Float64)
            ).alias(k)
            for k, c in FACT_COLUMNS.items()
        ]
        missing = pl.concat_list(
            [
                pl.when(pl.col(n).is_null()).then(pl.lit(n)).otherwise(pl.lit(None, pl.String))
                for n in names
            ]
            or [pl.lit(None, pl.String)]
        ).list.drop_nulls()
        rows = frame.select("id", *nums, missing.alias("missing")).join(owners, on="id", how="left")
        payload = [
            {
                "run_id": run_id,
                "account": account,
                "entity": str(entity),
                "record_id": row["id"],
                "owner": row["owner"],
                **{k: row[k] for k in FACT_COLUMNS},
                "missing": json.dumps(row["missing"]),
            }
            for row in rows.iter_rows(named=True)
        ]
        for part in chunks(payload, 2000):
            conn.execute(fact_snapshots.insert(), part)


def _runs(
    conn: Connection, account: str | None, limit: int
) -> tuple[str | None, list[dict[str, Any]]]:
    has = select(record_snapshots.c.run_id).distinct()
    q = select(t.runs).where(t.runs.c.id.in_(has)).order_by(t.runs.c.id.desc())
    if account:
        q = q.where(t.runs.c.account == account)
    rows = [dict(r._mapping) for r in conn.execute(q)]
    if not rows:
        return account, []
    account = account or rows[0]["account"]
    rows = [r for r in rows if r["account"] == account][:limit]
    return account, sorted(rows, key=lambda r: r["id"])


def _decode_values(raw: list[tuple[int, str, str, str, str | None]]) -> pl.DataFrame:
    out: list[tuple[int, str, str, str, str | None]] = []
    for run, entity, rid, output, text in raw:
        value = json.loads(text) if text is not None else None
        if isinstance(value, list):
            out.extend((run, entity, rid, output, str(v)) for v in value)
        else:
            out.append((run, entity, rid, output, None if value is None else str(value)))
    return pl.DataFrame(out, schema=VALUE_SCHEMA, orient="row")


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _crm_frame(conn: Connection, account: str, mapping_dir: Path | None) -> pl.DataFrame:
    """CRM value vs. computed value (translated through the mapping) per mapped property."""
    crm_name = account.split(":", 1)[0]
    path = (mapping_dir or Path("mappings")) / f"{crm_name}.yaml"
    if not path.exists():
        return pl.DataFrame(schema=CRM_SCHEMA)
    from crm_sync.mapping.load import load_mapping_file  # noqa: PLC0415 - optional section

    targets = {(m.entity, m.name): m for m in load_mapping_file(path).targets()}
    results: dict[tuple[str, str, str], Any] = {}
    r = t.results.c
    for entity, rid, output, value in conn.execute(
        select(r.entity, r.record_id, r.output, r.value).where(r.account == account)
    ):
        results[(entity, rid, output)] = json.loads(value) if value is not None else None
    rows = []
    c = t.crm_values.c
    q = select(c.entity, c.record_id, c.property, c.value, c.pushed).where(c.account == account)
    for entity, rid, prop, value, pushed in conn.execute(q):
        target = targets.get((entity, prop))
        if target is None:
            continue
        computed = results.get((entity, rid, target.output))
        if target.multi:
            mine = sorted(target.to_crm(str(v)) for v in (computed or []))
            owned = target.owned
            held = sorted(v for v in (value or "").split(";") if v and v in owned)
            rows.append((entity, rid, prop, ";".join(mine) or None, ";".join(held) or None, pushed))
        else:
            new = target.to_crm(str(computed)) if computed is not None else None
            rows.append((entity, rid, prop, new, value or None, pushed))
    return pl.DataFrame(rows, schema=CRM_SCHEMA, orient="row")


def snapshots_from_store(
    store: Store,
    model: SegmentationModel,
    *,
    account: str | None = None,
    runs: int = 30,
    mapping_dir: Path | None = None,
) -> Snapshots | None:
    """The last ``runs`` runs of ``account`` (default: the latest run's) with record snapshots."""
    with store.begin() as conn:
        account, run_rows = _runs(conn, account, runs)
        if not run_rows or account is None:
            return None
        ids = [r["id"] for r in run_rows]
        rs = record_snapshots.c
        raw = conn.execute(
            select(rs.run_id, rs.entity, rs.record_id, rs.output, rs.value).where(
                rs.account == account, rs.run_id.in_(ids)
            )
        ).all()
        fs = fact_snapshots.c
        fact_rows = conn.execute(
            select(
                fs.run_id,
                fs.entity,
                fs.record_id,
                fs.owner,
                fs.revenue,
                fs.potential,
                fs.share_of_wallet,
                fs.price_index,
                fs.missing,
            ).where(fs.account == account, fs.run_id.in_(ids))
        ).all()
        rc, ac = t.records.c, t.activities.c
        sources = [
            (
                f"{entity} records",
                conn.execute(
                    select(rc.modified_at)
                    .where(rc.account == account, rc.entity == entity)
                    .order_by(rc.modified_at.desc())
                    .limit(1)
                ).scalar_one_or_none(),
            )
            for entity in ("company", "contact")
        ]
        sources.append(
            (
                "activities",
                conn.execute(
                    select(ac.occurred_at)
                    .where(ac.account == account)
                    .order_by(ac.occurred_at.desc())
                    .limit(1)
                ).scalar_one_or_none(),
            )
        )
        crm = _crm_frame(conn, account, mapping_dir)
    values = _decode_values([tuple(r) for r in raw])
    facts = pl.DataFrame([tuple(r)[:8] for r in fact_rows], schema=FACT_SCHEMA, orient="row")
    if facts.height == 0:  # sizes still need N: one fact row per record seen in the run
        facts = (
            values.select("run", "entity", "id")
            .unique()
            .with_columns(
                *(
                    pl.lit(None, dtype).alias(name)
                    for name, dtype in FACT_SCHEMA.items()
                    if name not in ("run", "entity", "id")
                )
            )
            .select(list(FACT_SCHEMA))
        )
    required = required_fields(model)
    field_rows = []
    for run, entity, rid, owner, *_, missing in fact_rows:
        gone = set(json.loads(missing or "[]"))
        for name in [*required.get(entity, []), *EXTRA_FIELDS.get(entity, [])]:
            field_rows.append((run, entity, rid, owner, name, name not in gone))
    last = run_rows[-1]["id"]
    source_rows = []
    for name, stamp in sources:
        if stamp:
            parsed = dt.datetime.fromisoformat(str(stamp))
            source_rows.append((last, name, _utc(parsed)))
    return Snapshots(
        sets=sets_from_model(model),
        runs=pl.DataFrame(
            [
                (
                    r["id"],
                    dt.date.fromisoformat(r["as_of"]),
                    _utc(r["finished_at"] or r["started_at"]),
                    r["model_fingerprint"],
                )
                for r in run_rows
            ],
            schema=RUN_SCHEMA,
            orient="row",
        ),
        values=values,
        facts=facts,
        fields=pl.DataFrame(field_rows, schema=FIELD_SCHEMA, orient="row"),
        sources=pl.DataFrame(source_rows, schema=SOURCE_SCHEMA, orient="row"),
        crm=crm,
        thresholds=thresholds(model),
        origin=f"store, account {account}",
    )


def snapshots_from_store_url(
    url: str | None,
    path: Path,
    model: SegmentationModel,
    *,
    account: str | None,
    runs: int,
) -> Snapshots | None:
    """Open the store by URL (or SQLite path), read the history, close it."""
    store = Store.open(url, path)
    try:
        return snapshots_from_store(store, model, account=account, runs=runs)
    finally:
        store.close()
