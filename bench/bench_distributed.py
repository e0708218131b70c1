"""Issue #9 benchmark: 20 CRM accounts synced by 1, 2, 4 and 8 Celery workers.

What the distributed design is for: CRM calls are network-bound (a HubSpot or Salesforce request
spends ~100-300 ms waiting), so workers should overlap their waiting until each account's own API
limit binds. Real Redis broker and PostgreSQL store (``bash scripts/services.sh``); each account is
a file-backed fake CRM (``tests/distributed/crmfake.py:NetworkAdapter``) whose every call —
describe, each pulled page, each pushed batch — sleeps 80-150 ms (uniform; 20 ms uplink, the call
logged on arrival, then the rest). The latency is injected in the fake CRM rather than through the
HubSpot sandbox's ``latency`` fault because the sandbox's HTTP server and the official client cost
tens of CPU-ms per request, which on 2 cores would measure the emulator, not the workers' overlap.

Each worker is one ``celery worker --pool solo`` process (one task at a time), started with
``--without-gossip --without-mingle --without-heartbeat`` and timed only once it answers a
``ping``. Per run the store is emptied, one cycle is dispatched (per account: three pull tasks,
then compute + push) and timed until all 20 accounts have a finished run. Data per account is
small (page size 10), so CPU per call stays a few ms; machine CPU (``/proc/stat``, both cores)
and the workers' own CPU are reported so the bottleneck is visible.

Two account limits: *loose* (no account ever waits: throughput scales with workers) and *tight*
(``TIGHT`` per account: a bucket of 1 token refilled at 0.9/s, so the 20 accounts together can
never exceed 18 calls/s — the plateau). A task whose account has no token within
``CRM_SYNC_DEFER_AFTER_S`` (0.5 s) re-queues itself (``RateDeferred``) instead of sleeping in its
worker, so W workers keep all 20 accounts busy: tight throughput grows with workers until it
meets the 18 calls/s the accounts' own limits allow. For every run the CRM-side call log is
checked: no account ever saw more than its limit in any rolling window.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

from bench import ROOT, bench_scale
from crm_sync.distributed.budget import RateLimit
from crm_sync.store.schema import runs
from crm_sync.store.sql import Store

sys.path.insert(0, str(ROOT / "tests" / "distributed"))
from crmfake import max_in_window, read_log, seed_crm, write_accounts

PG = os.environ.get(
    "TEST_POSTGRES_URL",
    "postgresql+psycopg://crm_sync_test:crm_sync_test@127.0.0.1:5432/crm_sync_test",
)
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
ACCOUNTS = 20
LATENCY_MS = "80-150"
LOOSE = (1000, 1.0)  # calls per second: never binds
TIGHT = (10, 10.0)  # 10 calls per 10 s per account -> 20 accounts: 20 calls/s at most
WORKERS = (1, 2, 4, 8)


def reset_pg() -> None:
    engine = create_engine(PG)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    Store.open(PG).close()


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _proc_ticks(pids: list[int]) -> int:
    """utime + stime of these processes (jiffies)."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        rest = stat.rsplit(")", 1)[1].split()
        total += int(rest[11]) + int(rest[12])
    return total


def _wait_ready(client: Any, names: list[str], timeout: float = 120.0) -> None:
    """Until every worker answers a ping (so start-up is never timed)."""
    deadline = time.monotonic() + timeout
    seen: set[str] = set()
    while time.monotonic() < deadline:
        for reply in client.control.ping(destination=names, timeout=0.5) or []:
            seen |= set(reply)
        if seen >= set(names):
            return
    msg = f"workers not ready after {timeout:.0f} s: {sorted(set(names) - seen)}"
    raise RuntimeError(msg)


def _finished(store: Store) -> int:
    """Accounts with a completed run (deferred attempts leave rows too; only ``ok`` counts)."""
    q = select(func.count(func.distinct(runs.c.account))).where(runs.c.status == "ok")
    with store.begin() as conn:
        return int(conn.execute(q).scalar_one())


def timed_cycle(
    workers: int, accounts_file: Path, accounts: int, *, timeout: float, env: dict[str, str]
) -> dict[str, Any]:
    """Start ``workers`` solo Celery workers, dispatch one cycle, time it until ``accounts`` are ok.

    Workers (on a fresh queue, the bench Redis and PostgreSQL, ``env`` added) are pinged before
    the clock starts and stopped afterwards; returns the wall seconds and the machine's and the
    workers' CPU (% of all cores) over the timed part.
    """
    from celery import Celery

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "CRM_SYNC_BROKER_URL": REDIS,
        "CRM_SYNC_QUEUE": queue,
        "CRM_SYNC_STORE_URL": PG,
        "CRM_SYNC_ACCOUNTS_FILE": str(accounts_file),
        "CRM_SYNC_OVERLAP_S": "0",
        **env,
    }
    cmd = [sys.executable, "-m", "celery", "-A", "crm_sync.distributed.celery_app", "worker"]
    cmd += ["--pool", "solo", "--loglevel", "ERROR", "-Q", queue]
    cmd += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    wnames = [f"b{i}-{queue}@bench" for i in range(workers)]
    procs = [
        subprocess.Popen([*cmd, "-n", n], env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        for n in wnames
    ]
    client = Celery(broker=REDIS, backend=REDIS)
    store = Store.open(PG)
    try:
        _wait_ready(client, wnames)
        pids = [p.pid for p in procs]
        busy0, total0 = _machine_ticks()
        mine0 = _proc_ticks(pids)
        start = time.perf_counter()
        client.send_task("crm_sync.dispatch", args=[None], queue=queue)
        done = 0
        while done < accounts and time.perf_counter() - start < timeout:
            time.sleep(0.1)
            done = _finished(store)
        elapsed = time.perf_counter() - start
        busy1, total1 = _machine_ticks()
        mine1 = _proc_ticks(pids)
    finally:
        store.close()
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        client.close()
    if done < accounts:
        msg = f"only {done} of {accounts} accounts finished in {timeout:.0f} s"
        raise RuntimeError(msg)
    hz = os.sysconf("SC_CLK_TCK")
    return {
        "seconds": elapsed,
        "cpu_machine": 100.0 * (busy1 - busy0) / max(total1 - total0, 1),
        "cpu_workers": 100.0 * (mine1 - mine0) / hz / elapsed / (os.cpu_count() or 1),
    }


def _cycle(workers: int, limit: tuple[int, float], companies: int) -> dict[str, Any]:
    reset_pg()
    max_calls, per_s = limit
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        names = [f"acct-{i:02d}" for i in range(ACCOUNTS)]
        for i, name in enumerate(names):
            seed_crm(tmp / f"{name}.json", str(1000 + i), companies=companies)
        accounts = write_accounts(
            tmp,
            names,
            max_calls=max_calls,
            per_s=per_s,
            page_size=10,
            factory="crmfake:networked",
        )
        extra = {
            "CRMFAKE_LATENCY_MS": LATENCY_MS,
            "PYTHONPATH": str(ROOT / "tests" / "distributed"),
        }
        timing = timed_cycle(workers, accounts, ACCOUNTS, timeout=240, env=extra)
        logs = {n: read_log(tmp / f"{n}.json") for n in names}
    stamps = {n: [t for t, _, w in log if w.startswith("call")] for n, log in logs.items()}
    calls = sum(len(s) for s in stamps.values())
    worst = max(max_in_window(s, per_s) for s in stamps.values())
    if max_calls < 100 and worst > max_calls:
        msg = f"an account saw {worst} calls in {per_s:g} s (limit {max_calls})"
        raise AssertionError(msg)
    elapsed = timing["seconds"]
    return {
        **timing,
        "records_per_s": ACCOUNTS * companies * 3 / elapsed,
        "calls": calls,
        "calls_per_s": calls / elapsed,
        "worst_window": worst,
    }


def main(scale: float | None = None) -> str:
    scale = bench_scale() if scale is None else scale
    companies = max(10, int(40 * scale))
    cap = ACCOUNTS * RateLimit(TIGHT[0], TIGHT[1]).rate
    lines = [
        f"{ACCOUNTS} accounts x {companies} companies + {companies * 2} contacts "
        f"({ACCOUNTS * companies * 3} records); page size 10; every CRM call {LATENCY_MS} ms "
        "(fake CRM, `crmfake.NetworkAdapter`); Celery `--pool solo` workers, Redis broker, "
        f"PostgreSQL store. Loose limit: {LOOSE[0]} calls / {LOOSE[1]:g} s per account (never "
        f"binds). Tight limit: {TIGHT[0]} calls / {TIGHT[1]:g} s per account, paced as a bucket "
        f"of 1 refilled at {cap / ACCOUNTS:g}/s, so the accounts' own limits cap the aggregate "
        f"at {ACCOUNTS} x {cap / ACCOUNTS:g} = {cap:g} calls/s. Speed-up is against 1 worker at "
        "the same limit. CPU: whole machine (both cores, includes PostgreSQL and Redis) and the "
        "worker processes alone, as % of both cores. Worst window: most calls one account's CRM "
        "logged in any rolling window of the limit's length (checked <= limit for tight runs).",
        "",
        "| account limit | workers | wall s | records/s | CRM calls/s | speed-up | % of cap | "
        "machine CPU % | worker CPU % | worst window |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, limit in (("loose", LOOSE), ("tight", TIGHT)):
        base = None
        for workers in WORKERS:
            r = _cycle(workers, limit, companies)
            base = base or r["records_per_s"]
            tight = label == "tight"
            window = f"{r['worst_window']} / {limit[0]}" if tight else "-"
            share = f"{100 * r['calls_per_s'] / cap:.0f}" if tight else "-"
            lines.append(
                f"| {label} {limit[0]}/{limit[1]:g}s | {workers} | {r['seconds']:.1f} | "
                f"{r['records_per_s']:.1f} | {r['calls_per_s']:.1f} | "
                f"{r['records_per_s'] / base:.2f}x | {share} | {r['cpu_machine']:.0f} | "
                f"{r['cpu_workers']:.0f} | {window} |"
            )
            print(lines[-1], flush=True)
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
