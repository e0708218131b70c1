"""Run options, progress reporting and the run context shared by the engine's phases."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from crm_sync.adapters.base import CrmAdapter
from crm_sync.mapping.load import MappingFile
from crm_sync.store.sql import Store
from crm_sync.sync.computer import Computer
from crm_sync.sync.ratelimit import CallGate
from crm_sync.sync.retry import RetryPolicy, call_with_retry

__all__ = ["Progress", "RunContext", "RunOptions", "StopRequested"]


class StopRequested(Exception):
    """The worker was asked to stop (SIGTERM); raised between batches, never mid-batch."""


class Progress(Protocol):
    """Where the engine reports progress: rich bars on a TTY, plain lines otherwise, or nothing."""

    def phase(self, name: str, total: int | None) -> None:
        """A phase (pull, compute, push) starts; ``total`` may be unknown."""
        ...

    def advance(self, name: str, n: int) -> None:
        """``n`` more items of the phase are done."""
        ...

    def done(self, name: str, summary: str) -> None:
        """The phase finished."""
        ...


class NoProgress:
    """Silent progress (library and test use)."""

    def phase(self, name: str, total: int | None) -> None:
        """Ignore."""

    def advance(self, name: str, n: int) -> None:
        """Ignore."""

    def done(self, name: str, summary: str) -> None:
        """Ignore."""


@dataclass
class RunOptions:
    """Everything that tunes one run; defaults suit a nightly job.

    ``budget`` caps API calls per run (a share of the daily quota); ``rate``/``burst`` pace calls
    client-side. ``overlap_s`` re-reads that many seconds before the stored cursor, because CRM
    search indexes lag writes; re-read records are de-duplicated by content.

    ``pull=False`` skips the pull phase: distributed cycles pull each stream in its own task
    first. ``before_batch`` runs before each push batch is journalled; the distributed runner
    uses it to take the account's shared token there, so a deferral
    (:class:`~crm_sync.errors.RateDeferred`) never leaves a journalled batch unsent.
    """

    dry_run: bool = False
    as_of: dt.date | None = None
    page_size: int = 500
    overlap_s: float = 300.0
    budget: int | None = None
    rate: float = 0.0
    burst: int = 10
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    lease_ttl_s: float = 900.0
    holder: str | None = None
    progress: Progress = field(default_factory=NoProgress)
    should_stop: Callable[[], bool] = lambda: False
    pull: bool = True
    before_batch: Callable[[], None] = lambda: None


@dataclass
class RunContext:
    """One run's collaborators and its growing run record."""

    adapter: CrmAdapter
    mapping: MappingFile
    computer: Computer
    store: Store
    options: RunOptions
    account: str
    gate: CallGate
    run_id: int = 0
    as_of: dt.date = dt.date(1970, 1, 1)
    counts: dict[str, Any] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)

    def call(self, endpoint: str, fn: Callable[[], Any]) -> Any:
        """An adapter call under the shared rate limiter, budget and retry policy."""
        return call_with_retry(
            fn,
            self.options.retry,
            sleep=self.options.sleep,
            before_attempt=lambda: self.gate.before(endpoint),
        )

    def count(self, key: str, n: int = 1) -> None:
        """Add to a run-record counter."""
        self.counts[key] = self.counts.get(key, 0) + n

    def check_stop(self) -> None:
        """Raise :class:`StopRequested` if the worker got SIGTERM (called between batches)."""
        if self.options.should_stop():
            raise StopRequested
