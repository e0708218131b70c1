"""crm_sync benchmarks: ``python -m bench`` (what ``make bench`` runs) and their shared helpers.

Contract for a benchmark module (so ``bench/__main__.py`` finds it without being edited):

* it lives at ``bench/bench_<name>.py`` and defines ``main()``;
* ``main`` may take a keyword ``scale: float`` (1.0 = the issue's full size); the runner passes it
  when the signature accepts it, and always exports it as ``CRM_SYNC_BENCH_SCALE``
  (read it with :func:`bench_scale`);
* ``main`` returns the figures for ``bench/results.md``: a ``str`` (markdown, used verbatim), a
  mapping ``{figure: value}`` (rendered as a table), a number, or ``None`` (what it printed is
  kept in every case but the first two);
* ``main`` is called with ``sys.argv`` reset to just the module's file name.

Timings on the shared 2-core machine are noisy; benchmarks measure in child processes so peak
memory (``ru_maxrss``) belongs to the measured work alone (:func:`run_child`).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["ROOT", "bench_scale", "emit", "peak_rss_mb", "run_child"]

ROOT = Path(__file__).resolve().parent.parent
SCALE_ENV = "CRM_SYNC_BENCH_SCALE"
_RESULT_MARK = "BENCH-RESULT "


def bench_scale(default: float = 1.0) -> float:
    """The scale factor from ``CRM_SYNC_BENCH_SCALE`` (e.g. 0.01 for a quick run)."""
    raw = os.environ.get(SCALE_ENV, "").strip()
    if not raw:
        return default
    value = float(raw)
    if value <= 0:
        msg = f"{SCALE_ENV} must be > 0, got {raw!r}"
        raise ValueError(msg)
    return value


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports ru_maxrss in KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def emit(payload: dict[str, Any]) -> None:
    """Child side of :func:`run_child`: hand the figures back on one marked stdout line."""
    print(_RESULT_MARK + json.dumps(payload), flush=True)


def run_child(module: str, args: Sequence[str], *, timeout: float = 1800) -> dict[str, Any]:
    """Run ``python -m module args`` in a fresh process and return what it :func:`emit`-ted.

    A fresh process per measured step keeps peak memory honest: ru_maxrss is per process and
    never goes down, so measuring generation and evaluation in one process would report the
    larger of the two for both.
    """
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        msg = f"{module} {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
        raise RuntimeError(msg)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(_RESULT_MARK):
            result: dict[str, Any] = json.loads(line[len(_RESULT_MARK) :])
            return result
    msg = f"{module} {' '.join(args)} printed no result:\n{proc.stdout[-2000:]}"
    raise RuntimeError(msg)
