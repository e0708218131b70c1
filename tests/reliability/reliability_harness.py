"""Shared machinery of the reliability tests: a seeded sandbox, the real engine, CRM snapshots.

A *world* is one seeded sandbox (both CRMs), the shipped model and mappings, one store file and
one adapter per CRM built the way ``crm-sync run`` builds it (OAuth credentials, so an expired
session can be refreshed). Every write the CRM applies to a property crm_sync maps is recorded in
``writes`` as ``(object, record id, property, old, new)``: the sandbox's write log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm_sync.adapters.base import CrmAdapter
from crm_sync.adapters.hubspot.adapter import HubSpotAdapter
from crm_sync.adapters.hubspot.auth import OAuthRefresh
from crm_sync.adapters.hubspot.client import HubSpotClient
from crm_sync.adapters.hubspot.ratelimit import RequestWindow
from crm_sync.adapters.salesforce import from_settings as salesforce_from_settings
from crm_sync.config import Settings
from crm_sync.mapping.load import MappingFile, load_mapping_file
from crm_sync.sandbox.launcher import RunningSandbox, start_sandbox
from crm_sync.sandbox.salesforce.auth import OAuthConfig
from crm_sync.store.sql import Store
from crm_sync.sync.api import run
from crm_sync.sync.computer import RulesComputer
from crm_sync.sync.engine import RunRecord
from crm_sync.sync.options import Progress, RunOptions
from crm_sync.sync.retry import RetryPolicy

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "mappings" / "model.yaml"
AS_OF = dt.date(2025, 6, 30)
SEED = 11

Write = tuple[str, str, str, Any, Any]
Snapshot = dict[tuple[str, str, str], Any]

_COMPUTER: RulesComputer | None = None


def computer() -> RulesComputer:
    """The shipped model, loaded once per process."""
    global _COMPUTER  # noqa: PLW0603 - a per-process cache of a read-only object
    if _COMPUTER is None:
        _COMPUTER = RulesComputer(MODEL)
    return _COMPUTER


def mapping(crm: str) -> MappingFile:
    """The shipped mapping of ``crm``."""
    return load_mapping_file(ROOT / "mappings" / f"{crm}.yaml", computer())


@dataclass
class World:
    """One sandbox, one store and one adapter for one CRM."""

    crm: str
    sandbox: RunningSandbox
    store: Store
    mapping: MappingFile
    adapter: CrmAdapter
    writes: list[Write] = field(default_factory=list)
    slept: list[float] = field(default_factory=list)
    records: list[RunRecord] = field(default_factory=list)
    recording: bool = True

    def options(self, progress: Progress | None = None) -> RunOptions:
        """Fast, deterministic run options: no client-side pacing, recorded (not real) waits."""
        opts = RunOptions(
            as_of=AS_OF,
            rate=0.0,
            overlap_s=300.0,
            page_size=50,
            sleep=self.slept.append,
            retry=RetryPolicy(max_attempts=6, deadline_s=60.0, max_wait_s=5.0),
            lease_ttl_s=60.0,
        )
        if progress is not None:
            opts.progress = progress
        return opts

    def run(self, progress: Progress | None = None) -> RunRecord:
        """One real engine run through :func:`crm_sync.sync.api.run`."""
        record = run(
            self.crm,
            adapter=self.adapter,
            computer=computer(),
            mapping=self.mapping,
            store=self.store,
            options=self.options(progress),
        )
        self.records.append(record)
        return record

    def set_faults(self, plan: dict[str, Any] | None) -> None:
        """Install (or with ``None`` clear) the shared fault plan."""
        self.sandbox.faults.set_plan(plan or {})

    def injections(self) -> list[dict[str, Any]]:
        """Every fault the sandbox injected so far."""
        return self.sandbox.faults.log()

    def snapshot(self) -> Snapshot:
        """Every mapped property of every live record: ``(object, id, property) -> value``."""
        out: Snapshot = {}
        for target in self.mapping.targets():
            for rid, props in live_records(self, target.object).items():
                out[(target.object, rid, target.name)] = props.get(target.name)
        return out

    def duplicate_writes(self) -> list[Write]:
        """Writes of a mapped property that set the value it already had."""
        return [w for w in self.writes if w[3] == w[4]]


def live_records(world: World, obj: str) -> dict[str, dict[str, Any]]:
    """``id -> properties`` of the live records of one CRM object, read from sandbox state."""
    if world.crm == "hubspot":
        table = world.sandbox.hubspot.state.objects.get(obj, {})
        return {rid: dict(o.props) for rid, o in table.items() if not o.archived}
    rows = world.sandbox.salesforce.state.records.get(obj, {})
    return {rid: dict(r) for rid, r in rows.items() if not r.get("IsDeleted")}


def _norm(value: Any) -> Any:
    """HubSpot clears with ``""``, Salesforce with ``None``; both mean empty."""
    return None if value in ("", None) else value


def _record_writes(world: World) -> None:
    """Wrap the sandbox's single write path of each CRM so mapped-property writes are logged."""
    names = {t.name for t in world.mapping.targets()}
    portal = world.sandbox.hubspot.state
    org = world.sandbox.salesforce.state
    hs_write, sf_update = portal.write, org.update

    def hubspot_write(obj: Any, props: dict[str, str]) -> None:
        before = dict(obj.props)
        hs_write(obj, props)
        if world.recording:
            for name in sorted(set(props) & names):
                old, new = _norm(before.get(name)), _norm(props[name])
                world.writes.append((obj.object_type, obj.id, name, old, new))

    def salesforce_update(sobject: str, record_id: str, data: dict[str, Any], user: str) -> None:
        before = dict(org.records.get(sobject, {}).get(record_id, {}))
        sf_update(sobject, record_id, data, user)
        if world.recording:
            for name in sorted(set(data) & names):
                old, new = _norm(before.get(name)), _norm(data[name])
                world.writes.append((sobject, record_id, name, old, new))

    portal.write = hubspot_write  # type: ignore[method-assign]
    org.update = salesforce_update  # type: ignore[method-assign]


def build_adapter(
    crm: str,
    sandbox: RunningSandbox,
    mapped: MappingFile,
    sleep: Callable[[float], None] | None = None,
) -> CrmAdapter:
    """The adapter ``crm-sync run`` builds, with refreshable OAuth credentials.

    ``sleep`` replaces the Salesforce adapter's own wait between row-lock re-sends (recorded,
    not slept, in tests).
    """
    if crm == "hubspot":

        def exchange(form: Any) -> dict[str, Any]:
            return {"access_token": sandbox.token, "expires_in": 1800}

        auth = OAuthRefresh("reliability-client", "reliability-secret", "rt", exchange)
        client = HubSpotClient(sandbox.hubspot_url, auth, window=RequestWindow(10_000))
        return HubSpotAdapter(client, mapped)
    oauth = OAuthConfig()
    env = {
        "CRM_SYNC_SALESFORCE_INSTANCE_URL": sandbox.salesforce_url,
        "SALESFORCE_CLIENT_ID": oauth.client_id,
        "SALESFORCE_CLIENT_SECRET": oauth.client_secret,
        "SALESFORCE_REFRESH_TOKEN": next(iter(oauth.refresh_tokens)),
    }
    settings = Settings(
        salesforce_instance_url=sandbox.salesforce_url,
        salesforce_access_token=sandbox.token,  # type: ignore[arg-type]
    )
    extra: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
    return salesforce_from_settings(settings, mapped, env=env, **extra)


@contextmanager
def world(crm: str, tmp: Path, *, size: int = 6, seed: int = SEED) -> Iterator[World]:
    """A provisioned, seeded sandbox for ``crm`` with a fresh store; stopped on exit."""
    sandbox = start_sandbox(seed=seed, size=size, as_of=AS_OF)
    store = Store.open(path=tmp / f"{crm}.sqlite")
    try:
        mapped = mapping(crm)
        if crm == "hubspot":
            sandbox.hubspot.limiter.per_10s = 100_000  # faults are injected, not provoked
        slept: list[float] = []
        adapter = build_adapter(crm, sandbox, mapped, slept.append)
        w = World(crm, sandbox, store, mapped, adapter, slept=slept)
        provision(w)
        _record_writes(w)
        yield w
    finally:
        store.close()
        sandbox.stop()


def provision(w: World) -> None:
    """Create the mapped properties and options, as ``crm-sync provision --apply`` does."""
    adapter: Any = w.adapter
    plan = adapter.plan_provision(w.mapping)
    adapter.apply_provision(plan)


class OnPhase:
    """A progress sink that calls ``action`` once, when the named phase starts."""

    def __init__(self, phase: str, action: Callable[[], None]) -> None:
        self.phase_name = phase
        self.action: Callable[[], None] | None = action

    def phase(self, name: str, total: int | None) -> None:
        """Fire the action when the phase begins."""
        if name == self.phase_name and self.action is not None:
            action, self.action = self.action, None
            action()

    def advance(self, name: str, n: int) -> None:
        """Ignore."""

    def done(self, name: str, summary: str) -> None:
        """Ignore."""
