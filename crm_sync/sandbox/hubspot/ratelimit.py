"""Per-token request limits with HubSpot's real 429 bodies and headers (facts §2.6, Gotcha 3).

Three budgets, each refused with its own ``policyName``:

* ``TEN_SECONDLY_ROLLING`` — per token (per app), a rolling 10-second window of 100 requests
  (190 on Professional/Enterprise; ``per_10s``). CRM search does not count here: HubSpot meters it
  separately (the public-app limit explicitly excludes CRM search, facts §2.6).
* ``SECONDLY`` — CRM search, 5 requests per second for the whole account.
* ``DAILY`` — per account per day (midnight UTC here; HubSpot uses the account's time zone).

Refused requests do not consume budget. Headers (facts §2.6 "Headers on normal responses"):
``X-HubSpot-RateLimit-Daily``/``-Daily-Remaining``/``-Interval-Milliseconds``/``-Max``/
``-Remaining`` on every non-search response; search responses carry none. ``Retry-After`` (whole
seconds until the window frees; the unit is [UNVERIFIED]) is sent for the rolling and secondly
limits only: retrying a DAILY refusal before midnight can never succeed.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from crm_sync.sandbox.http import Response

__all__ = ["RateDecision", "RateLimiter", "rate_limit_response"]

WINDOW_SECONDS = 10.0
SEARCH_PER_SECOND = 5

_MESSAGES = {
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "SECONDLY": "You have reached your secondly limit.",
    "DAILY": "You have reached your daily limit.",
}


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Outcome of one admission check: ``policy`` is set when refused; headers always apply."""

    policy: str | None
    headers: dict[str, str]
    retry_after: float | None = None


def rate_limit_response(
    policy: str, headers: dict[str, str], retry_after: float | None
) -> Response:
    """HubSpot's 429 (facts §2.6 "429 body"): ``errorType: RATE_LIMIT`` plus ``policyName``."""
    body = {
        "status": "error",
        "message": _MESSAGES[policy],
        "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()),
        "policyName": policy,
        "requestId": str(uuid.uuid4()),
    }
    out = dict(headers)
    if retry_after is not None:
        out["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return Response.json(429, body, out)


class RateLimiter:
    """Thread-safe admission control; the clock (epoch seconds) is injectable for tests."""

    def __init__(
        self, *, per_10s: int = 100, daily: int = 250_000, clock: Callable[[], float] = time.time
    ) -> None:
        self.per_10s = per_10s
        self.daily = daily
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}
        self._search: deque[float] = deque()
        self._day = -1
        self._used_today = 0

    def reset(self) -> None:
        """Forget all usage (``POST /__sandbox__/reset``)."""
        with self._lock:
            self._windows.clear()
            self._search.clear()
            self._used_today = 0

    def admit(self, token: str, *, search: bool) -> RateDecision:
        """Count the request if it fits every budget; otherwise say which policy refused it."""
        with self._lock:
            now = self._clock()
            day = int(now // 86_400)
            if day != self._day:
                self._day, self._used_today = day, 0
            window = self._windows.setdefault(token, deque())
            while window and window[0] <= now - WINDOW_SECONDS:
                window.popleft()
            while self._search and self._search[0] <= now - 1.0:
                self._search.popleft()
            if self._used_today >= self.daily:
                return RateDecision("DAILY", self._headers(window, search))
            if search and len(self._search) >= SEARCH_PER_SECOND:
                return RateDecision("SECONDLY", {}, self._search[0] + 1.0 - now)
            if not search and len(window) >= self.per_10s:
                headers = self._headers(window, search)
                return RateDecision(
                    "TEN_SECONDLY_ROLLING", headers, window[0] + WINDOW_SECONDS - now
                )
            self._used_today += 1
            if search:
                self._search.append(now)
            else:
                window.append(now)
            return RateDecision(None, self._headers(window, search))

    def _headers(self, window: deque[float], search: bool) -> dict[str, str]:
        if search:
            return {}  # facts §2.6: search responses do not include rate-limit headers
        return {
            "X-HubSpot-RateLimit-Daily": str(self.daily),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.daily - self._used_today)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(WINDOW_SECONDS * 1000)),
            "X-HubSpot-RateLimit-Max": str(self.per_10s),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self.per_10s - len(window))),
        }

    def usage(self) -> dict[str, int]:
        """Daily usage, for ``GET /account-info/v3/api-usage/daily/private-apps``."""
        with self._lock:
            return {"usageLimit": self.daily, "currentUsage": self._used_today}
