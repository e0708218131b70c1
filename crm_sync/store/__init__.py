"""The state store: cursors, records, results, CRM values, audit, dead letters, runs, leases."""

from crm_sync.store.sql import DEFAULT_PATH, Store

__all__ = ["DEFAULT_PATH", "Store"]
