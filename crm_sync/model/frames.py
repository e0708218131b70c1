"""Columnar form of the records: the exact polars schemas the rules engine evaluates over.

One frame per record kind. Declared model fields beyond the core attributes appear as extra
columns named after the field. Keeping these schemas in one place is what lets the benchmark
generator, the store, the sandbox seeder and the engine agree without converting row by row.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import TypeAdapter, ValidationError

from crm_sync.errors import FileProblem, ModelFileError, Position
from crm_sync.model.records import Activity, Company, Contact, PurchasePotential

__all__ = [
    "ACTIVITY_SCHEMA",
    "COMPANY_SCHEMA",
    "CONTACT_SCHEMA",
    "POTENTIAL_SCHEMA",
    "Dataset",
]

COMPANY_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "name": pl.String(),
    "parent_id": pl.String(),
    "owner": pl.String(),
    "industry": pl.String(),
    "country": pl.String(),
    "first_touch_source": pl.String(),
    "lifecycle_stage": pl.String(),
}
CONTACT_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "company_id": pl.String(),
    "email": pl.String(),
    "first_name": pl.String(),
    "last_name": pl.String(),
    "role": pl.String(),
    "department": pl.String(),
    "first_touch_source": pl.String(),
    "lifecycle_stage": pl.String(),
    "owner": pl.String(),
}
POTENTIAL_SCHEMA: dict[str, pl.DataType] = {
    "company_id": pl.String(),
    "annual_amount": pl.Float64(),
    "valid_from": pl.Date(),
    "product_family": pl.String(),
    "business_line": pl.String(),
}
ACTIVITY_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "type": pl.String(),
    "occurred_at": pl.Datetime("us"),
    "company_id": pl.String(),
    "contact_id": pl.String(),
    "amount": pl.Float64(),
    "list_amount": pl.Float64(),
    "product_family": pl.String(),
    "event_code": pl.String(),
    "campaign": pl.String(),
    "score": pl.Float64(),
}


def _frame(rows: Sequence[Mapping[str, Any]], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Build a frame with the core schema first and any attribute columns after it."""
    extra: dict[str, None] = {}
    for row in rows:
        for key in row:
            if key not in schema:
                extra[key] = None
    columns = {name: [row.get(name) for row in rows] for name in [*schema, *extra]}
    frame = pl.DataFrame(
        {
            name: pl.Series(name, values, dtype=schema.get(name), strict=False)
            for name, values in columns.items()
        }
    )
    return frame.select([*schema, *extra])


def _utc_naive(stamp: dt.datetime) -> dt.datetime:
    """One timeline for every activity: aware stamps in UTC, then naive.

    CRMs and files mix aware and naive timestamps; a polars column cannot hold both, and windows
    are counted in UTC days anyway. Naive stamps are taken to be UTC already.
    """
    if stamp.tzinfo is None:
        return stamp
    return stamp.astimezone(dt.UTC).replace(tzinfo=None)


def _flatten(record: Company | Contact) -> dict[str, Any]:
    row = record.model_dump(exclude={"attributes", "modified_at"})
    if isinstance(record, Contact) and record.role is not None:
        row["role"] = record.role.value
    row.update(record.attributes)
    return row


@dataclass(frozen=True)
class Dataset:
    """All inputs of one evaluation: companies, contacts, purchase potential and activities."""

    companies: pl.DataFrame
    contacts: pl.DataFrame
    potentials: pl.DataFrame
    activities: pl.DataFrame

    @classmethod
    def from_records(
        cls,
        companies: Iterable[Company] = (),
        contacts: Iterable[Contact] = (),
        potentials: Iterable[PurchasePotential] = (),
        activities: Iterable[Activity] = (),
    ) -> Dataset:
        """Columnarise validated records (the path taken by adapters and tests)."""
        acts = [a.model_dump() for a in activities]
        for row in acts:
            row["type"] = row["type"].value if hasattr(row["type"], "value") else row["type"]
            row.pop("source", None)
            row["occurred_at"] = _utc_naive(row["occurred_at"])
        return cls(
            companies=_frame([_flatten(c) for c in companies], COMPANY_SCHEMA),
            contacts=_frame([_flatten(c) for c in contacts], CONTACT_SCHEMA),
            potentials=_frame([p.model_dump() for p in potentials], POTENTIAL_SCHEMA),
            activities=_frame(acts, ACTIVITY_SCHEMA),
        )

    @classmethod
    def load_json(cls, path: Path) -> Dataset:
        """Read a data file of ``companies``, ``contacts``, ``potentials`` and ``activities`` lists.

        Every invalid record is reported at once with its list index, so a bad export is fixed in
        one pass rather than one error at a time.
        """
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            line = getattr(exc, "lineno", 1)
            col = getattr(exc, "colno", 1)
            raise ModelFileError(
                [FileProblem(Position(line, col, str(path)), f"cannot read data file: {exc}")]
            ) from exc
        if not isinstance(raw, dict):
            raise ModelFileError(
                [
                    FileProblem(
                        Position(1, 1, str(path)),
                        "expected an object with companies, contacts, potentials, activities",
                    )
                ]
            )
        problems: list[FileProblem] = []
        parsed: dict[str, list[Any]] = {}
        kinds: dict[str, type[Any]] = {
            "companies": Company,
            "contacts": Contact,
            "potentials": PurchasePotential,
            "activities": Activity,
        }
        for key in raw:
            if key not in kinds:
                problems.append(
                    FileProblem(
                        Position(1, 1, str(path)),
                        f"unknown top-level key '{key}'; expected one of {', '.join(kinds)}",
                    )
                )
        for key, model in kinds.items():
            items = raw.get(key, [])
            adapter = TypeAdapter(model)
            out = []
            for index, item in enumerate(items):
                try:
                    out.append(adapter.validate_python(item))
                except ValidationError as exc:
                    for err in exc.errors():
                        where = ".".join(str(p) for p in err["loc"])
                        rid = item.get("id", "?") if isinstance(item, dict) else "?"
                        problems.append(
                            FileProblem(
                                Position(1, 1, str(path)),
                                f"{key}[{index}] (id {rid}) {where}: {err['msg']}",
                            )
                        )
            parsed[key] = out
        if problems:
            raise ModelFileError(problems)
        return cls.from_records(**parsed)


def today() -> dt.date:
    """The default ``as_of``: today's date in UTC, so a run's windows do not depend on the host's zone."""
    return dt.datetime.now(dt.UTC).date()
