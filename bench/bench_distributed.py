"""Issue #9 benchmark: 20 CRM accounts synced by 1, 2 and 4 Celery workers.

Real Redis broker and PostgreSQL store (``bash scripts/services.sh``); each account is a
file-backed memory CRM with its own API limit held in the shared rate budget, whose pushes take
50 ms like a real round trip. For each worker count the store is emptied, one cycle is
dispatched (per account: three pull tasks, then compute + push) and timed until all 20 accounts
have a finished run. Two account limits are measured: a loose one, where workers are the
bottleneck (scaling should be near-linear), and a tight one, where each account's own limit binds
(adding workers stops helping once the accounts in flight are all waiting for tokens).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from bench import ROOT, bench_scale
from crm_sync.store.sql import Store

sys.path.insert(0, str(ROOT / "tests" / "distributed"))
from crmfake import read_log, seed_crm, write_accounts

PG = os.environ.get(
    "TEST_POSTGRES_URL",
    "postgresql+psycopg://crm_sync_test:crm_sync_test@127.0.0.1:5432/crm_sync_test",
)
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
ACCOUNTS = 20


def _reset_pg() -> None:
    engine = create_engine(PG)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    Store.open(PG).close()


def _cycle(workers: int, max_calls: int, companies: int) -> dict[str, float]:
    from celery import Celery

    _reset_pg()
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        names = [f"acct-{i:02d}" for i in range(ACCOUNTS)]
        for i, name in enumerate(names):
            seed_crm(tmp / f"{name}.json", str(1000 + i), companies=companies)
        accounts = write_accounts(tmp, names, max_calls=max_calls, per_s=1.0, page_size=10)
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        env = {
            **os.environ,
            "CRM_SYNC_BROKER_URL": REDIS,
            "CRM_SYNC_QUEUE": queue,
            "CRM_SYNC_STORE_URL": PG,
            "CRM_SYNC_ACCOUNTS_FILE": str(accounts),
            "CRM_SYNC_OVERLAP_S": "0",
            "PYTHONPATH": str(ROOT / "tests" / "distributed"),
        }
        cmd = [sys.executable, "-m", "celery", "-A", "crm_sync.distributed.celery_app", "worker"]
        cmd += ["--pool", "solo", "--loglevel", "ERROR", "-Q", queue]
        procs = [
            subprocess.Popen([*cmd, "-n", f"b{i}@%h"], env=env, stdout=subprocess.DEVNULL)
            for i in range(workers)
        ]
        client = Celery(broker=REDIS, backend=REDIS)
        time.sleep(3.0)  # let the workers connect, so start-up is not timed
        store = Store.open(PG)
        start = time.perf_counter()
        client.send_task("crm_sync.dispatch", args=[None], queue=queue)
        done: set[str] = set()
        while len(done) < ACCOUNTS and time.perf_counter() - start < 600:
            done = {r["account"] for r in store.runs(limit=100) if r["status"] == "ok"}
            time.sleep(0.1)
        elapsed = time.perf_counter() - start
        store.close()
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        client.close()
        calls = sum(
            sum(1 for _, _, w in read_log(tmp / f"{n}.json") if w.startswith("call")) for n in names
        )
    records = ACCOUNTS * companies * 3
    return {
        "seconds": round(elapsed, 2),
        "records_per_s": round(records / elapsed, 1),
        "calls_per_s": round(calls / elapsed, 1),
    }


def main(scale: float | None = None) -> str:
    scale = bench_scale() if scale is None else scale
    companies = max(10, int(60 * scale))
    lines = [
        f"20 accounts x {companies} companies, {companies * 2} contacts; page size 10; "
        "pushes 50 ms; Celery solo workers, Redis broker, PostgreSQL store.",
        "",
        "| account limit | workers | wall s | records/s | CRM calls/s | speed-up |",
        "|---|---|---|---|---|---|",
    ]
    for label, limit in (("200 calls/s (loose)", 200), ("10 calls/s (tight)", 10)):
        base = None
        for workers in (1, 2, 4):
            r = _cycle(workers, limit, companies)
            base = base or r["seconds"]
            lines.append(
                f"| {label} | {workers} | {r['seconds']} | {r['records_per_s']} | "
                f"{r['calls_per_s']} | {base / r['seconds']:.2f}x |"
            )
            print(lines[-1], flush=True)
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
