"""The per-account API rate budget, held in the shared store so all workers together obey it.

A CRM limits requests per *account* (HubSpot: 100-190 per rolling 10 s per app token; Salesforce:
concurrent and daily limits), not per worker. A bucket in each process would let N workers send
N times the limit, so the bucket is one row of ``rate_budgets`` and every call takes its token
with a single conditional ``UPDATE``: refill by elapsed time, take one token only when one is
there. PostgreSQL re-checks the ``WHERE`` on the locked row (READ COMMITTED), and SQLite
serialises writers, so two workers can never take the same token.

A limit of ``max_calls`` per ``per_s`` seconds becomes a bucket of ``burst`` tokens refilled at
``(max_calls - burst) / per_s``: a token bucket grants at most ``burst + rate * T`` calls in any
window of ``T`` seconds, so any rolling window of ``per_s`` seconds sees at most ``max_calls``.
``headroom`` keeps a share of the limit free for the account's other integrations. On PostgreSQL
the clock is the database server's, so machines with skewed clocks still share one timeline.

.. versionadded:: 0.2
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Float, case, cast, func, literal, select, update
from sqlalchemy.sql.elements import ColumnElement

from crm_sync.distributed.sqlutil import insert_new
from crm_sync.errors import RateDeferred
from crm_sync.store.distributed_schema import rate_budgets
from crm_sync.store.sql import Store

__all__ = ["RateLimit", "SharedRateBudget"]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """An account's request limit: ``max_calls`` in any rolling ``per_s``-second window."""

    max_calls: int
    per_s: float
    headroom: float = 0.0

    @property
    def usable(self) -> int:
        """Calls crm_sync may make per window after leaving ``headroom`` to others."""
        return max(1, math.floor(self.max_calls * (1.0 - self.headroom)))

    @property
    def burst(self) -> float:
        """Bucket size: a tenth of the window's calls, so bursts stay short."""
        return float(max(1, self.usable // 10))

    @property
    def rate(self) -> float:
        """Refill per second chosen so ``burst + rate * per_s == usable``."""
        return max(self.usable - self.burst, 1.0) / self.per_s


class SharedRateBudget:
    """Token buckets per account in the store; :meth:`take` blocks until a token is granted."""

    def __init__(
        self,
        store: Store,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.sleep = sleep
        self.clock = clock
        self.postgres = store.engine.dialect.name == "postgresql"
        self._known: dict[str, RateLimit] = {}

    def _now(self) -> ColumnElement[float]:
        if self.postgres:  # one clock for every machine: the database server's
            return cast(func.extract("epoch", func.clock_timestamp()), Float)
        return literal(self.clock(), Float)

    def configure(self, account: str, limit: RateLimit) -> None:
        """Create the account's bucket (full) or adopt a changed limit; cheap to repeat."""
        if self._known.get(account) == limit:
            return
        c = rate_budgets.c
        with self.store.begin() as conn:
            row = {
                "account": account,
                "rate": limit.rate,
                "burst": limit.burst,
                "tokens": limit.burst,
                "updated_at": self.clock(),
            }
            insert_new(conn, rate_budgets, row, ["account"])
            conn.execute(
                update(rate_budgets)
                .where(c.account == account)
                .values(
                    rate=limit.rate,
                    burst=limit.burst,
                    tokens=case((c.tokens > limit.burst, limit.burst), else_=c.tokens),
                )
            )
        self._known[account] = limit

    def try_take(self, account: str) -> float:
        """Take one token now: 0.0 when granted, else the seconds until one will be there."""
        c = rate_budgets.c
        now = self._now()
        elapsed = case((now > c.updated_at, now - c.updated_at), else_=0.0)
        refilled = c.tokens + elapsed * c.rate
        available = case((refilled > c.burst, c.burst), else_=refilled)
        with self.store.begin() as conn:
            res = conn.execute(
                update(rate_budgets)
                .where(c.account == account, available >= 1.0)
                .values(
                    tokens=available - 1.0,
                    updated_at=case((now > c.updated_at, now), else_=c.updated_at),
                )
            )
            if res.rowcount == 1:
                return 0.0
            row = conn.execute(
                select(available.label("available"), c.rate).where(c.account == account)
            ).first()
        if row is None:
            msg = f"no rate budget configured for {account}; call configure() first"
            raise KeyError(msg)
        return max((1.0 - float(row.available)) / float(row.rate), 0.002)

    def take(self, account: str, *, max_wait: float | None = None) -> float:
        """Wait for a token; returns the seconds waited (for run records).

        With ``max_wait``, a wait that would bring the total beyond it raises
        :class:`~crm_sync.errors.RateDeferred` instead of sleeping, so a worker slot is never
        held idle for long while other accounts' work is queued.
        """
        waited = 0.0
        while (wait := self.try_take(account)) > 0:
            if max_wait is not None and waited + wait > max_wait:
                raise RateDeferred(account, wait)
            self.sleep(wait)
            waited += wait
        return waited
