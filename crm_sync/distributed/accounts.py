"""The CRM accounts a distributed deployment serves, read from one YAML file.

An agency or group runs one crm_sync for many HubSpot portals and Salesforce orgs; each worker
needs to know, by name, how to reach each one and what its API limit is. The file
(``CRM_SYNC_ACCOUNTS_FILE``) lists them::

    accounts:
      - name: acme-hubspot
        target: hubspot            # hubspot | salesforce | memory
        crm_id: "4711"             # HubSpot portalId / Salesforce org id (webhooks route by it)
        rate: {max_calls: 100, per_s: 10, headroom: 0.1}
        token_env: ACME_HUBSPOT_TOKEN   # the variable holding this account's token
        base_url: https://api.hubapi.com  # optional; Salesforce: the org's My Domain URL
        mapping: mappings/hubspot.yaml  # optional; default mappings/<target>.yaml
        model: mappings/model.yaml      # optional

Secrets never appear here: ``token_env`` names an environment variable. ``crm_file`` (memory
target) and ``computer`` (``module:attribute``, a :class:`~crm_sync.sync.Computer` factory) exist
for tests, benchmarks and offline trials; ``factory`` (``module:attribute``, called with the spec)
builds a custom adapter, e.g. a metered fake CRM. ``base_url`` is the account's API root: each
Salesforce org has its own instance URL, so a deployment serving several orgs needs it per account
(it overrides ``CRM_SYNC_SALESFORCE_INSTANCE_URL`` / ``CRM_SYNC_HUBSPOT_BASE_URL``, which also
points an account at the sandbox).

.. versionadded:: 0.2
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr

from crm_sync.adapters.base import CrmAdapter
from crm_sync.config import Settings
from crm_sync.distributed.budget import RateLimit
from crm_sync.errors import ConfigError
from crm_sync.mapping.load import MappingFile, load_mapping_file
from crm_sync.sync.api import resolve_adapter
from crm_sync.sync.computer import Computer, RulesComputer

__all__ = ["AccountSpec", "Built", "build", "load_accounts", "make_adapter"]

_TOKEN_FIELD = {"hubspot": "hubspot_access_token", "salesforce": "salesforce_access_token"}
_URL_FIELD = {"hubspot": "hubspot_base_url", "salesforce": "salesforce_instance_url"}


@dataclass(frozen=True)
class AccountSpec:
    """One CRM account: how to reach it and how fast it may be called."""

    name: str
    target: str
    crm_id: str = ""
    rate: RateLimit = field(default_factory=lambda: RateLimit(100, 10.0, 0.1))
    token_env: str | None = None
    base_url: str | None = None
    mapping: Path | None = None
    model: Path | None = None
    crm_file: Path | None = None
    computer: str | None = None
    factory: str | None = None
    page_size: int | None = None


@dataclass(frozen=True)
class Built:
    """What a worker needs to run one account: its adapter, mapping and computer."""

    spec: AccountSpec
    adapter: CrmAdapter
    mapping: MappingFile
    computer: Computer
    settings: Settings


def _spec(raw: dict[str, Any], where: str) -> AccountSpec:
    try:
        rate = raw.get("rate") or {}
        paths = {k: Path(raw[k]) for k in ("mapping", "model", "crm_file") if raw.get(k)}
        return AccountSpec(
            name=str(raw["name"]),
            target=str(raw["target"]),
            crm_id=str(raw.get("crm_id", "")),
            rate=RateLimit(
                int(rate.get("max_calls", 100)),
                float(rate.get("per_s", 10.0)),
                float(rate.get("headroom", 0.1)),
            ),
            token_env=raw.get("token_env"),
            base_url=raw.get("base_url"),
            computer=raw.get("computer"),
            factory=raw.get("factory"),
            page_size=raw.get("page_size"),
            **paths,
        )
    except (KeyError, TypeError, ValueError) as exc:
        msg = f"{where}: account needs at least 'name' and 'target' ({exc})"
        raise ConfigError(msg) from exc


def load_accounts(path: Path) -> dict[str, AccountSpec]:
    """Read the accounts file; names must be unique (they key tasks and leases)."""
    if not path.exists():
        msg = f"accounts file {path} not found; set CRM_SYNC_ACCOUNTS_FILE (see deploy/README.md)"
        raise ConfigError(msg)
    doc = yaml.safe_load(path.read_text()) or {}
    out: dict[str, AccountSpec] = {}
    for i, raw in enumerate(doc.get("accounts") or []):
        spec = _spec(raw, f"{path}: accounts[{i}]")
        if spec.name in out:
            msg = f"{path}: account name '{spec.name}' is used twice"
            raise ConfigError(msg)
        out[spec.name] = spec
    return out


def _import(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def make_adapter(spec: AccountSpec, settings: Settings, mapping: MappingFile) -> CrmAdapter:
    """A fresh adapter for ``spec`` (tasks re-create file-backed fakes to see other writers)."""
    if spec.factory:
        custom: CrmAdapter = _import(spec.factory)(spec)
        return custom
    # A HubSpot crm_id is the portalId the adapter would otherwise fetch with an unmetered request.
    portal = spec.crm_id if spec.target == "hubspot" and spec.crm_id else None
    adapter = resolve_adapter(spec.target, settings, mapping, spec.crm_file, account=portal)
    if spec.target == "memory" and spec.crm_id:
        adapter.account = spec.crm_id
    return adapter


def _computer(spec: AccountSpec, settings: Settings) -> Computer:
    if spec.computer:
        made: Computer = _import(spec.computer)()
        return made
    return RulesComputer(spec.model or settings.model_path)


def build(spec: AccountSpec, base: Settings | None = None) -> Built:
    """Adapter, mapping and computer for ``spec``; the token is read from ``token_env`` only."""
    base = base or Settings()
    overrides: dict[str, Any] = {}
    if spec.token_env and spec.target in _TOKEN_FIELD:
        token = os.environ.get(spec.token_env)
        if not token:
            msg = f"account {spec.name}: environment variable {spec.token_env} is not set"
            raise ConfigError(msg)
        overrides[_TOKEN_FIELD[spec.target]] = SecretStr(token)
    if spec.base_url:
        if spec.target not in _URL_FIELD:
            msg = f"account {spec.name}: base_url applies to hubspot and salesforce accounts only"
            raise ConfigError(msg)
        overrides[_URL_FIELD[spec.target]] = spec.base_url.rstrip("/")
    settings = base.model_copy(update=overrides) if overrides else base
    computer = _computer(spec, settings)
    mapping_target = "hubspot" if spec.target == "memory" else spec.target
    mapping = load_mapping_file(spec.mapping or settings.mapping_path(mapping_target), computer)
    adapter = make_adapter(spec, settings, mapping)
    return Built(spec, adapter, mapping, computer, settings)
