"""One writer per CRM account: two workers never push at once; a stale lease is taken over.

The overlap detector sits in the sandbox, on the CRM side of the wire: every batch write request
to HubSpot is timed while it is in flight (each one slowed by an injected 0.15 s latency, so two
writers pushing at the same time cannot miss each other). The store's run records give the second
view: the runs of two workers never overlap in time.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from reliability_harness import AS_OF, OnPhase, World, computer, world
from sqlalchemy import select

from crm_sync.errors import LockHeld
from crm_sync.store import schema as t
from crm_sync.store.leases import acquire, holder_of
from crm_sync.sync.api import run
from crm_sync.sync.engine import account_key

WORKER = Path(__file__).with_name("concurrent_worker.py")
WRITE_PATHS = ("/batch/update", "/batch/upsert", "/batch/create")


class InFlight:
    """Counts batch write requests in flight at the CRM; remembers the maximum."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.max = 0
        self.total = 0

    def wrap(self, dispatch: Any) -> Any:
        def tracked(request: Any) -> Any:
            writing = request.method == "POST" and request.path.endswith(WRITE_PATHS)
            if not writing:
                return dispatch(request)
            with self.lock:
                self.now += 1
                self.total += 1
                self.max = max(self.max, self.now)
            try:
                time.sleep(0.15)
                return dispatch(request)
            finally:
                with self.lock:
                    self.now -= 1

        return tracked


def test_two_worker_processes_never_push_to_one_account_at_once(tmp_path: Path) -> None:
    """Two processes loop runs on one portal and store: writes never overlap at the CRM."""
    with world("hubspot", tmp_path, size=4) as w:
        flight = InFlight()
        router = w.sandbox.hubspot._router
        router.dispatch = flight.wrap(router.dispatch)  # type: ignore[method-assign]
        store = str(tmp_path / "hubspot.sqlite")
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(WORKER),
                    store,
                    w.sandbox.hubspot_url,
                    w.sandbox.token,
                    "4",
                    (AS_OF + dt.timedelta(days=i)).isoformat(),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for i in range(2)
        ]
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=240)
            assert proc.returncode == 0, err.decode()[-2000:]
            results.append(json.loads(out.decode().strip().splitlines()[-1]))
        assert [r["runs"] for r in results] == [4, 4]
        assert flight.total > 0, "nothing was pushed: the detector saw no write"
        assert flight.max == 1, f"{flight.max} batch writes were in flight at once"
        _assert_runs_never_overlap(w)


def _assert_runs_never_overlap(w: World) -> None:
    """Runs by different holders have disjoint [started, finished] intervals."""
    r = t.runs.c
    with w.store.begin() as conn:
        rows = conn.execute(
            select(r.holder, r.started_at, r.finished_at).order_by(r.started_at)
        ).all()
    holders = {row[0] for row in rows}
    assert len(holders) >= 2, holders
    for before, after in itertools.pairwise(rows):
        assert before.finished_at is not None
        assert before.finished_at <= after.started_at, (before, after)


def test_stale_lease_is_taken_over_after_its_ttl(tmp_path: Path) -> None:
    """A dead worker's lease blocks runs until its TTL passes, then the next run takes over."""
    with world("salesforce", tmp_path, size=3) as w:
        account = account_key(w.adapter)
        acquire(w.store, account, "dead-worker:4242", ttl_s=1.0)  # killed without releasing
        with pytest.raises(LockHeld, match="dead-worker"):
            w.run()
        time.sleep(1.1)
        record = w.run()
        assert record.status == "ok"
        assert record.counts.get("records_pushed", 0) > 0
        assert holder_of(w.store, account) is None, "the lease was not released after the run"


def test_worker_whose_lease_was_taken_over_stops_pushing(tmp_path: Path) -> None:
    """A run outliving its lease, taken over by another worker, pushes nothing more."""
    with world("hubspot", tmp_path, size=3) as w:
        account = account_key(w.adapter)

        def intruder() -> None:
            time.sleep(0.25)  # our 0.2 s lease expires...
            acquire(w.store, account, "other-worker:1", ttl_s=60)  # ...and another worker takes it

        options = w.options(OnPhase("push company", intruder))
        options.lease_ttl_s = 0.2
        with pytest.raises(LockHeld, match="other-worker"):
            run("hubspot", adapter=w.adapter, computer=computer(), mapping=w.mapping,
                store=w.store, options=options)  # fmt: skip
        assert not w.writes, "the run kept pushing after losing its lease"
        assert holder_of(w.store, account)[0] == "other-worker:1"  # type: ignore[index]
