"""``INSERT ... ON CONFLICT DO NOTHING`` that says whether the row was new, on both backends.

The store's own ``upsert`` overwrites; de-duplication and first-use initialisation need the
opposite — keep the existing row and learn whether ours won — which is one statement, without a
race between a ``SELECT`` and an ``INSERT`` that two workers could interleave.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as lite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.sql.schema import Table

__all__ = ["insert_new"]


def insert_new(conn: Connection, table: Table, row: dict[str, Any], keys: list[str]) -> bool:
    """Insert ``row`` unless its key exists; True when this call inserted it."""
    if conn.dialect.name == "postgresql":
        res = conn.execute(pg_insert(table).values(row).on_conflict_do_nothing(index_elements=keys))
    else:
        res = conn.execute(
            lite_insert(table).values(row).on_conflict_do_nothing(index_elements=keys)
        )
    return bool(res.rowcount == 1)
