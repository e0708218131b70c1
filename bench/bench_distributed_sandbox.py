"""Issue #9 benchmark on the HubSpot sandbox: 20 portals synced by 1, 2 and 4 Celery workers.

Same question as ``bench_distributed`` (do workers overlap their network waits until each
account's own limit binds?), asked end to end: every account is a seeded
:class:`~crm_sync.sandbox.hubspot.HubSpotSandbox` portal on its own 127.0.0.1 port with its own
token (``base_url`` in the accounts file), reached by the real HubSpot adapter and the official
client over HTTP, with the default mapping and segmentation model. Each portal answers after
80-150 ms (20 ms before the request is admitted and logged, the rest after), like a distant API.

Each portal enforces its limit itself: HubSpot's rolling 10-second window and real 429. Runs:
HubSpot's default 100 / 10 s (accounts file: 10 % headroom, as deployed) with 1, 2 and 4
workers — 20 accounts allow 162 requests/s, far above what 4 workers at ~115 ms per request can
send, so throughput should grow with workers — and a *tight* 10 / 10 s with 4 workers, where
the limit binds. Every run asserts that no portal refused a request (429) and that none admitted
more than its limit in any rolling 10 s: the shared budget, charged per HTTP request, kept every
worker under every portal's limit.

What the tight run shows: a HubSpot *first* activity pull reads listings whose pages carry no
cursor until the last one, so it cannot stop and resume mid-stream (RateDeferred is only raised
at a resumable point); at 0.9 requests/s a worker holds that account for the pull's duration.
At HubSpot's real limits a page's requests fit in the bucket's burst and the hold is brief.

Properties are provisioned before the clock starts, without latency. Per run: store emptied,
workers started and pinged, one cycle dispatched, timed until all 20 accounts have an ``ok``
run. The sandbox threads share this process (at most one core); machine and worker CPU are
reported so a CPU bound would be visible.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import ROOT, bench_scale
from bench.bench_distributed import reset_pg, timed_cycle
from crm_sync.adapters.hubspot import from_settings
from crm_sync.config import Settings
from crm_sync.distributed.budget import RateLimit
from crm_sync.mapping.load import load_mapping_file
from crm_sync.sandbox.http import Request, Response, SandboxServer
from crm_sync.sandbox.hubspot import HubSpotSandbox
from crm_sync.sandbox.seed import generate_book
from crm_sync.sync.computer import RulesComputer

sys.path.insert(0, str(ROOT / "tests" / "distributed"))
from crmfake import max_in_window

PORTALS = 20
UPLINK_S, LATENCY_S = 0.02, (0.08, 0.15)
WINDOW_S = 10.0
HUBSPOT = RateLimit(100, WINDOW_S, 0.1)  # HubSpot's default tier, 10 % left to other apps
TIGHT = RateLimit(10, WINDOW_S, 0.0)  # a tenth of it: the limit binds
RUNS = ((HUBSPOT, 1), (HUBSPOT, 2), (HUBSPOT, 4), (TIGHT, 4))
PAGE_SIZE = 100
MAPPING, MODEL = ROOT / "mappings" / "hubspot.yaml", ROOT / "mappings" / "model.yaml"


class Portal:
    """One seeded sandbox portal on its own port: network latency and an admission log."""

    def __init__(self, index: int, size: int) -> None:
        self.token = f"bench-portal-{index}"
        self.sandbox = HubSpotSandbox(token=self.token, rate_limit_per_10s=10**6)
        self.sandbox.load_book(generate_book(index, size))  # type: ignore[arg-type]
        self.admitted: list[tuple[float, int]] = []  # (arrival, status); list.append is atomic
        self.latency = False  # off while provisioning, which is not timed
        self.server = SandboxServer(self.app).start()

    def app(self, request: Request) -> Response:
        if self.latency:
            time.sleep(UPLINK_S)
        arrived = time.time()
        response = self.sandbox.app(request)
        self.admitted.append((arrived, response.status))
        if self.latency:
            time.sleep(random.uniform(*LATENCY_S) - UPLINK_S)
        return response

    def provision(self) -> None:
        """Create crm_sync's properties (before timing; a real portal is set up once)."""
        settings = Settings(hubspot_base_url=self.server.url, hubspot_access_token=self.token)
        mapping = load_mapping_file(MAPPING, RulesComputer(MODEL))
        adapter = from_settings(settings, mapping, account=self.token)
        adapter.apply_provision(adapter.plan_provision(mapping))

    def arm(self, per_10s: int) -> None:
        """Set the portal's limit for the timed run and forget earlier requests."""
        self.sandbox.limiter.per_10s = per_10s
        self.sandbox.limiter.reset()
        self.admitted.clear()
        self.latency = True


def _accounts_file(tmp: Path, portals: list[Portal], limit: RateLimit) -> Path:
    lines = ["accounts:"]
    for i, portal in enumerate(portals):
        lines += [
            f"  - name: portal-{i:02d}",
            "    target: hubspot",
            f"    crm_id: '{9000 + i}'",
            f"    base_url: {portal.server.url}",
            f"    token_env: BENCH_PORTAL_{i}_TOKEN",
            f"    mapping: {MAPPING}",
            f"    model: {MODEL}",
            f"    page_size: {PAGE_SIZE}",
            f"    rate: {{max_calls: {limit.max_calls}, per_s: {limit.per_s}, "
            f"headroom: {limit.headroom}}}",
        ]
    path = tmp / "accounts.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _cycle(workers: int, limit: RateLimit, size: int) -> dict[str, Any]:
    reset_pg()
    portals = [Portal(i, size) for i in range(PORTALS)]
    try:
        for portal in portals:
            portal.provision()
            portal.arm(limit.max_calls)
        with tempfile.TemporaryDirectory() as tmp_s:
            accounts = _accounts_file(Path(tmp_s), portals, limit)
            return _timed(workers, accounts, portals)
    finally:
        for portal in portals:
            portal.server.stop()


def _timed(workers: int, accounts: Path, portals: list[Portal]) -> dict[str, Any]:
    tokens = {f"BENCH_PORTAL_{i}_TOKEN": p.token for i, p in enumerate(portals)}
    timing = timed_cycle(workers, accounts, PORTALS, timeout=600, env=tokens)
    admitted = [[t for t, status in p.admitted if status != 429] for p in portals]
    requests = sum(len(a) for a in admitted)
    return {
        **timing,
        "requests": requests,
        "requests_per_s": requests / timing["seconds"],
        "refused_429": sum(1 for p in portals for _, status in p.admitted if status == 429),
        "worst_window": max(max_in_window(a, WINDOW_S) for a in admitted),
    }


def main(scale: float | None = None) -> str:
    scale = bench_scale() if scale is None else scale
    size = max(1, round(3 * scale))
    lines = [
        f"{PORTALS} HubSpot sandbox portals, each seeded with `generate_book(i, {size})` and "
        "provisioned before timing; one full first sync of every portal by the real HubSpot "
        "adapter and official client over HTTP, default mapping and model, page size "
        f"{PAGE_SIZE}; every request answered after {LATENCY_S[0] * 1000:.0f}-"
        f"{LATENCY_S[1] * 1000:.0f} ms. Celery `--pool solo` workers, Redis broker, PostgreSQL "
        "store. Each portal enforces the limit in the first column itself (HubSpot's rolling "
        "10 s window and 429); the accounts file gives the same limit, with 10 % headroom at "
        "HubSpot's default 100 / 10 s. Cap: what the 20 accounts' budgets allow together. "
        "Requests: HTTP requests the portals admitted; 429s: refusals they served.",
        "",
        "| portal limit | workers | wall s | requests | requests/s | speed-up | % of cap | "
        "429s | worst 10 s | machine CPU % | worker CPU % |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    base: dict[RateLimit, float] = {}
    for limit, workers in RUNS:
        cap = PORTALS * limit.rate
        r = _cycle(workers, limit, size)
        if workers == 1:
            base[limit] = r["requests_per_s"]
        speedup = f"{r['requests_per_s'] / base[limit]:.2f}x" if limit in base else "-"
        lines.append(
            f"| {limit.max_calls}/10s | {workers} | {r['seconds']:.1f} | {r['requests']} | "
            f"{r['requests_per_s']:.1f} | {speedup} | "
            f"{100 * r['requests_per_s'] / cap:.0f} | {r['refused_429']} | "
            f"{r['worst_window']} | {r['cpu_machine']:.0f} | {r['cpu_workers']:.0f} |"
        )
        print(lines[-1], flush=True)
        if r["refused_429"] or r["worst_window"] > limit.max_calls:
            msg = f"a portal saw more than its limit ({r}): the shared budget leaked"
            raise AssertionError(msg)
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
