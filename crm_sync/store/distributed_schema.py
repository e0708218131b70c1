"""Tables for shared deployments (issue #9): the per-account rate budget and webhook de-duplication.

Schema version 2. They live in their own :class:`~sqlalchemy.MetaData` so version 1 stays exactly
what it was released as (``_v1`` creates ``schema.metadata`` and must never grow).

* ``rate_budgets`` — one token bucket per CRM account. Every worker on every machine takes its
  tokens from this row with one conditional ``UPDATE``, so together they stay under the account's
  API limit (:mod:`crm_sync.distributed.budget`).
* ``webhook_events`` — the ids of webhook events already accepted. HubSpot and Salesforce deliver
  at least once and retry for up to a day, so the receiver inserts the id first and enqueues work
  only when the insert was new (:mod:`crm_sync.webhooks.dedupe`).
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Index, MetaData, String, Table
from sqlalchemy.engine import Connection

__all__ = ["create_v2", "metadata", "rate_budgets", "webhook_events"]

metadata = MetaData()

rate_budgets = Table(
    "rate_budgets",
    metadata,
    Column("account", String(120), primary_key=True),
    Column("rate", Float, nullable=False),  # tokens added per second
    Column("burst", Float, nullable=False),  # bucket size
    Column("tokens", Float, nullable=False),
    Column("updated_at", Float, nullable=False),  # epoch seconds of the last refill
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("source", String(16), primary_key=True),  # hubspot | salesforce
    Column("event_id", String(255), primary_key=True),
    Column("account", String(120), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
Index("ix_webhook_events_received", webhook_events.c.received_at)


def create_v2(conn: Connection) -> None:
    """Migration 2: create both tables (idempotent on a store that already has them)."""
    metadata.create_all(conn)
