"""The state store's tables (SQLAlchemy Core), one ``account`` column scoping every row.

``account`` is ``<crm>:<portal or org id>``: one store can serve several CRM accounts, and the
lease lock and rate budget are per account (DESIGN §11). Nothing here ever holds a secret: there is
no column for tokens, and run records keep only counts, durations and redacted error messages.

Table roles, in the order a run touches them:

* ``records`` / ``activities`` — pulled CRM data, with a content hash so echoes of crm_sync's own
  writes (same content, newer modified time) are recognised and ignored;
* ``cursors`` — per-stream ``(modified_at, id)`` positions, advanced only after a page is stored;
* ``work`` — durable to-do lists (``recompute`` and ``push``), so a crash between phases loses
  nothing: the next run picks the same records up;
* ``results`` — computed outputs with the deciding rule (the explanation's headline);
* ``crm_values`` — per record and property, the value the CRM last showed or confirmed
  (``value``) and the value crm_sync itself last wrote (``pushed``; manual-edit detection);
* ``audit`` — every value pushed (old → new, rule, run). Rows are written as ``intent`` before a
  push and become ``confirmed`` only once the CRM confirmed them (or a later pull saw the value);
* ``dead_letters``, ``runs``, ``snapshots``, ``leases``, ``state`` (fingerprints, last as_of).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "activities",
    "audit",
    "crm_values",
    "cursors",
    "dead_letters",
    "leases",
    "metadata",
    "records",
    "results",
    "runs",
    "snapshots",
    "state",
    "work",
]

metadata = MetaData()


def _account() -> Column[str]:
    return Column("account", String(120), primary_key=True)


records = Table(
    "records",
    metadata,
    _account(),
    Column("entity", String(16), primary_key=True),
    Column("id", String(255), primary_key=True),
    Column("modified_at", String(40), nullable=False),
    Column("content_hash", String(32), nullable=False),
    Column("company_id", String(255)),
    Column("parent_id", String(255)),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("data", Text, nullable=False),
)
Index("ix_records_company", records.c.account, records.c.company_id)

activities = Table(
    "activities",
    metadata,
    _account(),
    Column("id", String(255), primary_key=True),
    Column("occurred_at", String(40), nullable=False),
    Column("company_id", String(255)),
    Column("contact_id", String(255)),
    Column("content_hash", String(32), nullable=False),
    Column("data", Text, nullable=False),
)
Index("ix_activities_company", activities.c.account, activities.c.company_id)
Index("ix_activities_contact", activities.c.account, activities.c.contact_id)
Index("ix_activities_occurred", activities.c.account, activities.c.occurred_at)

cursors = Table(
    "cursors",
    metadata,
    _account(),
    Column("stream", String(32), primary_key=True),
    Column("position", String(300), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

work = Table(
    "work",
    metadata,
    _account(),
    Column("kind", String(16), primary_key=True),  # recompute | push
    Column("entity", String(16), primary_key=True),
    Column("record_id", String(255), primary_key=True),
)

results = Table(
    "results",
    metadata,
    _account(),
    Column("entity", String(16), primary_key=True),
    Column("record_id", String(255), primary_key=True),
    Column("output", String(120), primary_key=True),
    Column("value", Text),  # JSON: a string, null, or a sorted list of strings
    Column("rule", String(255)),
    Column("run_id", Integer),
)

crm_values = Table(
    "crm_values",
    metadata,
    _account(),
    Column("entity", String(16), primary_key=True),
    Column("record_id", String(255), primary_key=True),
    Column("property", String(120), primary_key=True),
    Column("value", Text),
    Column("pushed", Text),
)

audit = Table(
    "audit",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("account", String(120), nullable=False),
    Column("run_id", Integer, nullable=False),
    Column("entity", String(16), nullable=False),
    Column("record_id", String(255), nullable=False),
    Column("property", String(120), nullable=False),
    Column("old", Text),
    Column("new", Text),
    Column("rule", String(255)),
    Column("status", String(16), nullable=False),  # intent | confirmed | abandoned
    Column("at", DateTime(timezone=True), nullable=False),
)
Index("ix_audit_status", audit.c.account, audit.c.status)
Index("ix_audit_record", audit.c.account, audit.c.entity, audit.c.record_id)

dead_letters = Table(
    "dead_letters",
    metadata,
    _account(),
    Column("entity", String(16), primary_key=True),
    Column("record_id", String(255), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("first_failed_at", DateTime(timezone=True), nullable=False),
    Column("last_failed_at", DateTime(timezone=True), nullable=False),
    Column("next_try_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),  # open | waived | resolved
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(120), nullable=False),
    Column("holder", String(200), nullable=False),
    Column("status", String(24), nullable=False),
    Column("dry_run", Boolean, nullable=False),
    Column("as_of", String(10), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("model_fingerprint", String(64)),
    Column("mapping_fingerprint", String(64)),
    Column("detail", Text, nullable=False),  # JSON: counts, api_calls, durations, errors
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("run_id", Integer, primary_key=True),
    Column("account", String(120), nullable=False),
    Column("entity", String(16), primary_key=True),
    Column("output", String(120), primary_key=True),
    Column("value", String(255), primary_key=True),
    Column("count", Integer, nullable=False),
)

leases = Table(
    "leases",
    metadata,
    Column("account", String(120), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("acquired_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

state = Table(
    "state",
    metadata,
    _account(),
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
