"""The long-running worker: one run every interval, stopping gracefully on SIGTERM.

SIGTERM (and SIGINT) only set a flag; the engine checks it between pages and batches, so a stop
never leaves a batch half-recorded. The current run ends with status ``stopped`` and the next start
resumes from the stored cursors and work lists.
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Callable
from types import FrameType

from crm_sync.errors import ConfigError
from crm_sync.sync.engine import RunRecord

__all__ = ["GracefulStop", "parse_duration", "serve"]

_DURATION = re.compile(r"^(\d+)(s|m|h)$")


def parse_duration(text: str) -> float:
    """``30s``, ``15m``, ``1h`` → seconds."""
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        msg = f"invalid duration '{text}'; use e.g. 30s, 15m or 1h"
        raise ConfigError(msg)
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]


class GracefulStop:
    """Installs SIGTERM/SIGINT handlers that request a stop instead of killing the process."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def install(self) -> GracefulStop:
        """Route the signals to :meth:`request`."""
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.request()

    def request(self) -> None:
        """Ask the worker to stop between batches."""
        self.event.set()

    def __call__(self) -> bool:
        """True once a stop was requested (the engine's ``should_stop``)."""
        return self.event.is_set()


def serve(
    run_once: Callable[[Callable[[], bool]], RunRecord],
    every_s: float,
    stop: GracefulStop,
    on_run: Callable[[RunRecord], None],
    *,
    max_runs: int | None = None,
) -> int:
    """Run, wait ``every_s`` (waking at once on stop), repeat; returns the number of runs."""
    runs = 0
    while not stop():
        record = run_once(stop)
        runs += 1
        on_run(record)
        if max_runs is not None and runs >= max_runs:
            break
        stop.event.wait(every_s)
    return runs
