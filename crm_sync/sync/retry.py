"""The one retry policy: transient failures only, honouring Retry-After, never the daily quota.

Adapters classify, this module decides (CONVENTIONS §6). :class:`~crm_sync.errors.QuotaExhausted`
is not a :class:`~crm_sync.errors.TransientError`, so it is never retried: retrying a daily-quota
refusal burns what is left of the day (HubSpot gotcha 3, Salesforce gotcha 13). The sleep is
injectable so tests assert the exact waits without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)
from tenacity.wait import wait_base

from crm_sync.errors import TransientError

__all__ = ["RetryPolicy", "call_with_retry", "retrying"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Caps: attempts per call, total seconds per call, and the largest single wait."""

    max_attempts: int = 6
    deadline_s: float = 300.0
    max_wait_s: float = 120.0
    initial_wait_s: float = 1.0


class _WaitRetryAfter(wait_base):
    """Wait what the CRM asked for (``retry_after``), else fall back to jittered backoff."""

    def __init__(self, fallback: wait_base, cap: float) -> None:
        self.fallback = fallback
        self.cap = cap

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        hinted = getattr(exc, "retry_after", None)
        if isinstance(hinted, int | float) and hinted >= 0:
            return min(float(hinted), self.cap)
        return min(float(self.fallback(retry_state)), self.cap)


def retrying(policy: RetryPolicy, *, sleep: Callable[[float], None] = time.sleep) -> Retrying:
    """Retry TransientError only; honour Retry-After; cap by attempts and total time."""
    return Retrying(
        retry=retry_if_exception_type(TransientError),
        wait=_WaitRetryAfter(
            wait_exponential_jitter(multiplier=policy.initial_wait_s, max=policy.max_wait_s),
            policy.max_wait_s,
        ),
        stop=stop_after_attempt(policy.max_attempts) | stop_after_delay(policy.deadline_s),
        sleep=sleep,
        reraise=True,
    )


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    before_attempt: Callable[[], None] | None = None,
) -> T:
    """Run ``fn`` under the policy; ``before_attempt`` (the rate limiter) runs before each try."""
    for attempt in retrying(policy, sleep=sleep):
        with attempt:
            if before_attempt is not None:
                before_attempt()
            return fn()
    raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover
