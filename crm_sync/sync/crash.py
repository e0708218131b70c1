"""Named crash points for the crash-safety test (DESIGN §6).

``CRM_SYNC_CRASH_AT=<point>:<n>`` kills the process with SIGKILL the n-th time the run passes the
named point (no cleanup, no ``finally``: exactly what a power cut or OOM kill does). Unset, a
check costs one dict lookup. The points are listed in :data:`POINTS` so the test can iterate them.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

__all__ = ["POINTS", "crash_point"]

POINTS: tuple[str, ...] = (
    "run.started",
    "pull.page_fetched",
    "pull.page_stored",
    "pull.stream_done",
    "pull.done",
    "compute.started",
    "compute.loaded",
    "compute.done",
    "compute.results_stored",
    "push.started",
    "recover.done",
    "diff.done",
    "push.intents_recorded",
    "push.sent",
    "push.confirmed",
    "push.batch_done",
    "push.done",
    "snapshot.stored",
    "run.recorded",
    "lock.released",
)

_seen: Counter[str] = Counter()


def crash_point(name: str) -> None:
    """SIGKILL ourselves if ``CRM_SYNC_CRASH_AT`` names this point and occurrence."""
    spec = os.environ.get("CRM_SYNC_CRASH_AT")
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point != name:
        return
    _seen[name] += 1
    if _seen[name] >= int(nth or "1"):
        os.kill(os.getpid(), signal.SIGKILL)
