"""Resolve a target into an adapter, mapping, computer and store, and run once.

This is :func:`crm_sync.run`, the entry point for orchestrators (Airflow, Dagster, Prefect) and the
function the CLI calls. Real CRM adapters are imported lazily from ``crm_sync.adapters.hubspot`` /
``.salesforce`` (each exposing ``from_settings(settings, mapping)``), so a missing adapter is a
clear :class:`~crm_sync.errors.ConfigError` instead of an import failure at start-up.
"""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path
from typing import Any

from crm_sync.adapters.base import CrmAdapter
from crm_sync.adapters.memory import InMemoryAdapter
from crm_sync.config import Settings
from crm_sync.errors import ConfigError
from crm_sync.mapping.load import MappingFile, load_mapping_file
from crm_sync.store.sql import Store
from crm_sync.sync.computer import Computer, RulesComputer
from crm_sync.sync.engine import RunRecord, run_sync
from crm_sync.sync.options import Progress, RunOptions

__all__ = ["TARGETS", "open_store", "resolve_adapter", "run"]

TARGETS = ("hubspot", "salesforce", "memory")


def open_store(settings: Settings) -> Store:
    """The configured store: ``CRM_SYNC_STORE_URL`` or the SQLite file."""
    return Store.open(settings.store_url, settings.store_path)


def resolve_adapter(
    target: str,
    settings: Settings,
    mapping: MappingFile | None,
    crm_file: Path | None = None,
    *,
    account: str | None = None,
) -> CrmAdapter:
    """Build the adapter for ``target``; memory needs no credentials (``crm_file`` persists it).

    ``account`` (a HubSpot portalId already known, e.g. from the accounts file) spares the
    adapter the account-info request it would otherwise make before any rate budget is attached.
    """
    if target == "memory":
        return InMemoryAdapter(crm_file.stem if crm_file else "memory-1", path=crm_file)
    if target not in TARGETS:
        msg = f"unknown target '{target}'; use one of {', '.join(TARGETS)}"
        raise ConfigError(msg)
    try:
        module: Any = importlib.import_module(f"crm_sync.adapters.{target}")
        factory = module.from_settings
    except (ModuleNotFoundError, AttributeError) as exc:
        msg = (
            f"the {target} adapter is not available in this installation "
            f"(crm_sync.adapters.{target}.from_settings); use --target memory for a local trial"
        )
        raise ConfigError(msg) from exc
    adapter: CrmAdapter = factory(settings, mapping, **({"account": account} if account else {}))
    return adapter


def run(
    target: str = "hubspot",
    *,
    dry_run: bool = False,
    as_of: dt.date | None = None,
    settings: Settings | None = None,
    crm_file: Path | None = None,
    adapter: CrmAdapter | None = None,
    computer: Computer | None = None,
    mapping: MappingFile | None = None,
    store: Store | None = None,
    progress: Progress | None = None,
    options: RunOptions | None = None,
) -> RunRecord:
    """Run one sync against ``target`` and return its run record.

    Everything defaults from :class:`~crm_sync.config.Settings` (environment); pass objects to
    override (tests, orchestrators holding their own store). Raises
    :class:`~crm_sync.errors.LockHeld` when another worker holds the account's lease.

    .. versionadded:: 0.1
    """
    settings = settings or Settings()
    computer = computer or RulesComputer(settings.model_path)
    if mapping is None:
        mapping_target = "hubspot" if target == "memory" else target
        mapping = load_mapping_file(settings.mapping_path(mapping_target), computer)
    adapter = adapter or resolve_adapter(target, settings, mapping, crm_file)
    opts = options or RunOptions(
        budget=settings.run_budget,
        rate=settings.rate_per_s if target != "memory" else 0.0,
        page_size=settings.page_size,
        overlap_s=settings.overlap_s,
        lease_ttl_s=settings.lease_ttl_s,
    )
    opts.dry_run = dry_run or opts.dry_run
    opts.as_of = as_of or opts.as_of
    if progress is not None:
        opts.progress = progress
    own_store = store is None
    store = store or open_store(settings)
    try:
        return run_sync(adapter, mapping, computer, store, opts)
    finally:
        if own_store:
            store.close()
