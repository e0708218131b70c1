"""The org's API allocation: a rolling 24-hour call count and the Bulk batch budget.

Why rolling and enforced: crm_sync must stop cleanly when the daily allocation is spent and
resume later (errors.QuotaExhausted), and it must tell that refusal apart from the concurrency
one, which *is* worth retrying (facts §5, Gotcha 13). Every counted REST response carries
``Sforce-Limit-Info: api-usage=N/M`` (facts §1.4) so the adapter's response hook sees usage.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from crm_sync.sandbox.salesforce.errors import SfError

__all__ = [
    "BULK_BATCHES_PER_DAY",
    "CONCURRENT_MESSAGE",
    "DEVELOPER_EDITION_DAILY_LIMIT",
    "ApiLimits",
    "concurrent_limit_error",
]

# facts §5: Developer Edition orgs get 15,000 calls per rolling 24 h [3P].
DEVELOPER_EDITION_DAILY_LIMIT = 15_000
# facts §2.2: 15,000 Bulk batches per rolling 24 h, shared by Bulk 1.0 and 2.0 ingest.
BULK_BATCHES_PER_DAY = 15_000
CONCURRENT_MESSAGE = "ConcurrentRequests (Concurrent API Requests) Limit exceeded."
_WINDOW = dt.timedelta(hours=24)


def concurrent_limit_error() -> SfError:
    """Facts §5: the concurrency refusal shares the daily one's code; only the message differs."""
    return SfError("REQUEST_LIMIT_EXCEEDED", CONCURRENT_MESSAGE, status=403)


class ApiLimits:
    """Counts calls in a rolling window using the org's clock (tests move the clock, not sleep)."""

    def __init__(self, daily_limit: int, clock: Callable[[], dt.datetime]) -> None:
        self.daily_limit = daily_limit
        self._clock = clock
        self._calls: deque[dt.datetime] = deque()
        self._batches: deque[tuple[dt.datetime, int]] = deque()
        self._lock = threading.Lock()

    def _prune(self) -> dt.datetime:
        now = self._clock()
        while self._calls and now - self._calls[0] >= _WINDOW:
            self._calls.popleft()
        while self._batches and now - self._batches[0][0] >= _WINDOW:
            self._batches.popleft()
        return now

    @property
    def used(self) -> int:
        """Calls made in the last 24 hours."""
        with self._lock:
            self._prune()
            return len(self._calls)

    def charge(self) -> None:
        """Count one call, or refuse with 403 ``REQUEST_LIMIT_EXCEEDED`` when the allocation is spent."""
        with self._lock:
            now = self._prune()
            if len(self._calls) >= self.daily_limit:
                raise SfError("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", status=403)
            self._calls.append(now)

    def spend(self, count: int) -> None:
        """Set usage to ``count`` calls now (tests and the demo start from a busy org)."""
        with self._lock:
            now = self._prune()
            self._calls = deque([now] * count)

    def header(self) -> str:
        """The ``Sforce-Limit-Info`` value."""
        return f"api-usage={self.used}/{self.daily_limit}"

    def charge_batches(self, count: int) -> bool:
        """Consume Bulk batches; ``False`` (nothing consumed) when the daily budget would overflow."""
        with self._lock:
            now = self._prune()
            if sum(n for _, n in self._batches) + count > BULK_BATCHES_PER_DAY:
                return False
            self._batches.append((now, count))
            return True

    def resource(self) -> dict[str, Any]:
        """``GET /limits``: the allocations clients read (facts §1.4)."""
        with self._lock:
            self._prune()
            used_batches = sum(n for _, n in self._batches)
            calls = len(self._calls)
        return {
            "DailyApiRequests": {"Max": self.daily_limit, "Remaining": self.daily_limit - calls},
            "DailyBulkApiBatches": {
                "Max": BULK_BATCHES_PER_DAY,
                "Remaining": BULK_BATCHES_PER_DAY - used_batches,
            },
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
            "DailyBulkV2QueryFileStorageMB": {"Max": 1048576, "Remaining": 1048576},
        }
