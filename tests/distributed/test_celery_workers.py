"""Acceptance (issue #9): three Celery workers on two accounts, real Redis and PostgreSQL.

The CRM side logs every call, so the test checks what the CRMs saw: per account, no rolling
window holds more calls than the account's limit, and no two workers' pushes overlap.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from celery import Celery
from crmfake import max_in_window, read_log, seed_crm, write_accounts

from crm_sync.store.sql import Store

HERE = Path(__file__).parent
LIMIT, WINDOW = 20, 2.0


def _workers(n: int, env: dict[str, str], tmp: Path) -> list[subprocess.Popen[bytes]]:
    cmd = [sys.executable, "-m", "celery", "-A", "crm_sync.distributed.celery_app", "worker"]
    cmd += ["--pool", "solo", "-c", "1", "--loglevel", "WARNING", "-Q", env["CRM_SYNC_QUEUE"]]
    procs = []
    for i in range(n):
        with (tmp / f"w{i}.log").open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [*cmd, "-n", f"w{i}@%h"], env=env, stdout=out, stderr=subprocess.STDOUT
                )
            )
    return procs


def test_three_workers_two_accounts_obey_limits_and_leases(pg_url, redis_url, tmp_path):
    """Per-account calls stay within 20 per 2 s and pushes to one account never overlap."""
    names = ["acct-a", "acct-b"]
    for i, name in enumerate(names):
        seed_crm(tmp_path / f"{name}.json", str(1000 + i), companies=30)
    accounts = write_accounts(tmp_path, names, max_calls=LIMIT, per_s=WINDOW, page_size=5)
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "CRM_SYNC_BROKER_URL": redis_url,
        "CRM_SYNC_QUEUE": queue,
        "CRM_SYNC_STORE_URL": pg_url,
        "CRM_SYNC_ACCOUNTS_FILE": str(accounts),
        "CRM_SYNC_OVERLAP_S": "0",
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    }
    Store.open(pg_url).close()  # migrate once before the workers race to
    procs = _workers(3, env, tmp_path)
    client = Celery(broker=redis_url, backend=redis_url)
    try:
        client.send_task("crm_sync.dispatch", args=[None], queue=queue)
        for name in names * 3:  # extra syncs racing for the same accounts' leases
            client.send_task("crm_sync.sync_account", kwargs={"name": name}, queue=queue)
        store = Store.open(pg_url)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            done = {r["account"] for r in store.runs(limit=50) if r["status"] == "ok"}
            if done >= {"memory:1000", "memory:1001"} and all(
                _quiet(tmp_path / f"{n}.json") for n in names
            ):
                break
            time.sleep(0.5)
        store.close()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=20)
        client.close()
    assert done >= {"memory:1000", "memory:1001"}, (tmp_path / "w0.log").read_text()[-3000:]
    for name in names:
        log = read_log(tmp_path / f"{name}.json")
        calls = [t for t, _, what in log if what.startswith("call")]
        assert len(calls) > LIMIT, "the workload must be big enough to hit the limit"
        assert max_in_window(calls, WINDOW) <= LIMIT
        pullers = {pid for _, pid, what in log if what.startswith("call pull")}
        assert len(pullers) >= 2, "pulls of one account ran on several workers"
        spans: list[tuple[float, float, int]] = []
        starts: dict[int, float] = {}
        for t, pid, what in log:
            if what == "push-start":
                starts[pid] = t
            elif what == "push-end":
                spans.append((starts.pop(pid), t, pid))
        assert spans, "the account was pushed"
        spans.sort()
        last_end, last_pid = 0.0, 0
        for start, end, pid in spans:
            assert start >= last_end or pid == last_pid, "two workers pushed one account at once"
            if end > last_end:
                last_end, last_pid = end, pid


def _quiet(crm_file: Path) -> bool:
    """No CRM call for a second: every queued task has finished with this account."""
    log = read_log(crm_file)
    return bool(log) and time.time() - log[-1][0] > 1.5
