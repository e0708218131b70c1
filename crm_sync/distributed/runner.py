"""What a distributed task does, without Celery: pull one stream, or sync one account.

Celery tasks (:mod:`crm_sync.distributed.celery_app`) are thin wrappers over these functions, so
tests and orchestrators can run the same work in-process. The split follows DESIGN §11: one job
per CRM account *and object type* for the pull (companies, contacts and activities of one account
are fetched by different workers at once), then one job per account that computes and pushes.

Three guarantees hold however many workers run:

* one writer per account — :func:`sync_account` is :func:`~crm_sync.sync.engine.run_sync`,
  which holds the account's lease (:mod:`crm_sync.store.leases`) for the whole run;
* one reader per stream — a pull takes the lease ``<account>#pull:<stream>``, so two workers never
  page through the same stream at once (cursors stay monotonic);
* the account's API limit — every call goes through :class:`RateGatedAdapter` and the account's
  row of the shared :class:`SharedRateBudget`.

Celery tasks pass ``defer=True``: when the account's next token is more than
``CRM_SYNC_DEFER_AFTER_S`` away, the work stops at a safe point with
:class:`~crm_sync.errors.RateDeferred` and the task is re-queued, so a worker serves other
accounts instead of sleeping in its slot. That is what lets N workers keep 20 accounts busy up to
the sum of their limits (``bench/bench_distributed.py``). In-process callers keep the default
(wait for the token), which never raises it.

.. versionadded:: 0.2
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from crm_sync.adapters.base import EntityName, Stream
from crm_sync.config import Settings
from crm_sync.distributed.accounts import AccountSpec, Built, build, load_accounts, make_adapter
from crm_sync.distributed.budget import SharedRateBudget
from crm_sync.distributed.gate import RateGatedAdapter
from crm_sync.errors import LockHeld
from crm_sync.mapping.plan import pull_properties
from crm_sync.store.sql import Store
from crm_sync.sync import pull
from crm_sync.sync.engine import RunRecord, account_key, run_sync
from crm_sync.sync.lock import Lease, new_holder_id
from crm_sync.sync.options import RunContext, RunOptions
from crm_sync.sync.ratelimit import CallGate

__all__ = ["STREAMS", "Runtime", "pull_stream", "sync_account"]

STREAMS: dict[Stream, EntityName | None] = {
    "companies": "company",
    "contacts": "contact",
    "activities": None,
}


@dataclass
class Runtime:
    """Per-process state of a worker: the shared store, the budget and the accounts."""

    settings: Settings
    store: Store
    accounts: dict[str, AccountSpec]
    budget: SharedRateBudget
    _built: dict[str, Built] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: Settings | None = None, accounts_file: Path | None = None) -> Runtime:
        """Open the store named by ``CRM_SYNC_STORE_URL`` and read ``CRM_SYNC_ACCOUNTS_FILE``."""
        settings = settings or Settings()
        store = Store.open(settings.store_url, settings.store_path)
        path = accounts_file or Path(_env("CRM_SYNC_ACCOUNTS_FILE", "accounts.yaml"))
        return cls(settings, store, load_accounts(path), SharedRateBudget(store))

    def built(self, name: str) -> Built:
        """Adapter, mapping and computer for ``name`` (built once per process)."""
        if name not in self._built:
            if name not in self.accounts:
                msg = f"unknown account '{name}'"
                raise KeyError(msg)
            self._built[name] = build(self.accounts[name], self.settings)
        return self._built[name]

    def gated(self, name: str, *, defer: bool = False) -> tuple[Built, RateGatedAdapter, str]:
        """The account's adapter behind its shared rate budget, and its store key."""
        built = self.built(name)
        key = account_key(built.adapter)
        self.budget.configure(key, built.spec.rate)
        if built.spec.target == "memory" or built.spec.factory:
            # A file-persisted fake CRM is shared with other processes: re-read it every task.
            fresh = make_adapter(built.spec, built.settings, built.mapping)
            built = replace(built, adapter=fresh)
        after = self.settings.defer_after_s if defer else None
        return built, RateGatedAdapter(built.adapter, self.budget, key, defer_after_s=after), key

    def options(self, built: Built) -> RunOptions:
        """Run options from settings; the per-process bucket is off (the shared one paces)."""
        s = self.settings
        return RunOptions(
            budget=s.run_budget,
            rate=0.0,
            page_size=built.spec.page_size or s.page_size,
            overlap_s=s.overlap_s,
            lease_ttl_s=s.lease_ttl_s,
        )

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()


def _env(name: str, default: str) -> str:
    import os  # noqa: PLC0415 - only here, to keep the module's imports about the work itself

    return os.environ.get(name, default)


def pull_stream(
    rt: Runtime, name: str, stream: Stream, *, defer: bool = False, resume: bool = False
) -> dict[str, Any]:
    """Pull one stream of one account into the store; skipped when another worker pulls it.

    With ``defer``, raises RateDeferred between pages when the account's budget is dry; the
    pages already stored stay. The re-queued task passes ``resume`` to continue from the exact
    stored cursor rather than re-reading the overlap window.
    """
    built, adapter, key = rt.gated(name, defer=defer)
    options = rt.options(built)
    ctx = RunContext(
        adapter, built.mapping, built.computer, rt.store, options, key, CallGate(None, None)
    )
    entity = STREAMS[stream]
    props = pull_properties(built.mapping, entity) if entity else []
    pages = 0
    try:
        with Lease(rt.store, f"{key}#pull:{stream}", new_holder_id(), options.lease_ttl_s):
            # The engine's own page loop and page store: same cursor and crash-safety rules.
            for page in pull._pages(ctx, stream, props, resume=resume):
                pull._store_page(ctx, page, entity)
                pages += 1
    except LockHeld as exc:
        return {"account": name, "stream": stream, "status": "skipped", "holder": exc.holder}
    return {
        "account": name,
        "stream": stream,
        "status": "ok",
        "pages": pages,
        "counts": ctx.counts,
        "waited_s": round(adapter.waited_s, 3),
    }


def sync_account(rt: Runtime, name: str, *, pull: bool = True, defer: bool = False) -> RunRecord:
    """Compute and push one account under its lease; raises LockHeld when another holds it.

    ``pull=False`` when this cycle's :func:`pull_stream` tasks already pulled every stream.
    With ``defer``, raises RateDeferred before a push batch the budget cannot pay for soon (the
    run is recorded ``deferred``; confirmed batches stay, and the next attempt pushes the rest).
    The two do not combine: a re-queued run would restart its pull at the first stream each
    time, so deferring work pulls in :func:`pull_stream` tasks first.
    """
    if pull and defer:
        msg = "sync_account(defer=True) needs pull=False: pull each stream with pull_stream first"
        raise ValueError(msg)
    built, adapter, _ = rt.gated(name, defer=defer)
    options = replace(rt.options(built), pull=pull)
    if defer:
        options.before_batch = adapter.checkpoint
    return run_sync(adapter, built.mapping, built.computer, rt.store, options)
