"""Per-token request pacing that matches HubSpot's own meters, so 429s never happen in the first place.

Why not only :mod:`crm_sync.sync.ratelimit`: the engine's token bucket paces *adapter calls*, and
one adapter call can be several HTTP requests (a tag re-read before a write, lifecycle
clear-then-set, a bisected 400). HubSpot meters *requests*: a rolling 10-second window per app
token (100 on Free/Starter, 190 on Professional/Enterprise) and, separately, 5 searches per
second per account (facts §2.6, Gotcha 3). This module keeps an exact log of request times per
window and waits only when the next request would overflow one, so it can run at the full
allowed rate with zero 429s.

Each request is logged at the moment its *answer* arrived. HubSpot counted it at arrival, which
is earlier, so a slot frees on our side no sooner than on HubSpot's: the window can be filled
to the limit without racing the server's clock. The limit adopts ``X-HubSpot-RateLimit-Max``
when HubSpot sends it, and a short answer of ``X-HubSpot-RateLimit-Remaining`` (another
integration using the same token) pauses us until our log frees a slot.

Windows are shared per token (:func:`window_for`), so two adapters of one process using the same
app never together exceed what HubSpot allows.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

__all__ = ["RequestWindow", "window_for"]

TEN_SECONDS = 10.0
DEFAULT_PER_10S = 100  # Free/Starter: the safe default until the headers say otherwise
SEARCH_PER_SECOND = 4  # HubSpot allows 5/s per account; one slot is left for other apps


class RequestWindow:
    """Sliding-window logs for the 10-second app limit and the per-second search limit."""

    def __init__(
        self,
        per_10s: int = DEFAULT_PER_10S,
        *,
        search_per_s: int = SEARCH_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        adopt_headers: bool = True,
    ) -> None:
        self.per_10s = per_10s
        self.search_per_s = search_per_s
        self.clock = clock
        self.sleep = sleep
        self.adopt_headers = adopt_headers
        self._app: deque[float] = deque()
        self._search: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited_s = 0.0
        self.requests = 0

    def _wait(self, log: deque[float], limit: int, span: float) -> None:
        while True:
            now = self.clock()
            while log and log[0] <= now - span:
                log.popleft()
            if len(log) < limit:
                return
            pause = log[0] + span - now + 0.001
            self.waited_s += pause
            self.sleep(pause)

    def before(self, *, search: bool) -> None:
        """Block until one more request fits every window it counts against."""
        with self._lock:
            self._wait(self._app, self.per_10s, TEN_SECONDS)
            if search:
                self._wait(self._search, self.search_per_s, 1.0)

    def after(self, *, search: bool, headers: Mapping[str, str] | None = None) -> None:
        """Log a request whose answer just arrived; learn the limit from HubSpot's headers."""
        with self._lock:
            now = self.clock()
            self._app.append(now)
            if search:
                self._search.append(now)
            self.requests += 1
            if not headers or not self.adopt_headers:
                return
            try:
                limit = int(headers.get("X-HubSpot-RateLimit-Max") or 0)
                remaining = headers.get("X-HubSpot-RateLimit-Remaining")
            except (TypeError, ValueError):
                return
            if limit > 0:
                self.per_10s = limit
            if remaining is not None and remaining.isdigit() and limit > 0:
                # Someone else spends this token too: pad our log so we leave them their share.
                others = limit - int(remaining) - len(self._app)
                for _ in range(max(0, others)):
                    self._app.append(now)


_WINDOWS: dict[str, RequestWindow] = {}
_WINDOWS_LOCK = threading.Lock()


def window_for(key: str, per_10s: int = DEFAULT_PER_10S) -> RequestWindow:
    """The process-wide window of one app token (``key`` is a hash, never the token)."""
    with _WINDOWS_LOCK:
        if key not in _WINDOWS:
            _WINDOWS[key] = RequestWindow(per_10s)
        return _WINDOWS[key]
