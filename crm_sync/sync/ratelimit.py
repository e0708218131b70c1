"""Client-side rate limiting and the per-run API budget, shared by pull and push.

One :class:`CallGate` per run sits in front of every adapter call. The token bucket keeps us under
the CRM's burst limits (HubSpot 100-190 calls per 10 s, Salesforce concurrency) before the CRM has
to refuse; the budget caps one run's share of the daily quota, so a large backfill cannot starve
every other integration on the account. Exceeding the budget stops the run the same clean way a
daily-quota refusal does, with state saved for the next run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from crm_sync.errors import QuotaExhausted

__all__ = ["BudgetSpent", "CallGate", "TokenBucket"]


class BudgetSpent(QuotaExhausted):
    """This run used its share of the daily quota; the next run continues where it stopped."""


class TokenBucket:
    """``rate`` calls per second on average, bursts up to ``burst``; injectable clock and sleep."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.clock = clock
        self.sleep = sleep
        self.updated = clock()

    def take(self) -> float:
        """Take one token, sleeping until one is available; returns the seconds slept."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        wait = (1 - self.tokens) / self.rate
        self.sleep(wait)
        self.tokens = 0.0
        self.updated = self.clock()
        return wait


class CallGate:
    """Counts calls by endpoint against the run's budget and paces them through the bucket."""

    def __init__(self, bucket: TokenBucket | None, budget: int | None) -> None:
        self.bucket = bucket
        self.budget = budget
        self.calls: Counter[str] = Counter()

    @property
    def used(self) -> int:
        """Calls made (or attempted) in this run."""
        return sum(self.calls.values())

    def before(self, endpoint: str) -> None:
        """Call before each attempt: raises :class:`BudgetSpent` once the budget is used up."""
        if self.budget is not None and self.used >= self.budget:
            msg = (
                f"this run's API budget of {self.budget} calls is used up; state is saved and "
                "the next run resumes (raise CRM_SYNC_RUN_BUDGET to do more per run)"
            )
            raise BudgetSpent(msg, operation=endpoint)
        if self.bucket is not None:
            self.bucket.take()
        self.calls[endpoint] += 1
