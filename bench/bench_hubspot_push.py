"""Issue #5 benchmark: 10,000 changed contacts pushed through the real engine to the sandbox.

The HubSpot sandbox enforces the Free/Starter limit (100 requests per rolling 10 s, real 429
bodies). The run is the real one — ``crm_sync.sync.api.run`` with the HubSpot adapter, the shipped
model and mapping — so every contact's computed outputs are new to the CRM and must be written.

Acceptance (issue #5): write calls ≤ 1.02 × ceil(N / 100); zero 429s; at least 85 % of the
allowed request rate sustained while pushing (the adapter's request window paces itself, the
engine's own bucket is off so it does not double-throttle).
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import ROOT, bench_scale
from crm_sync.adapters.hubspot.adapter import HubSpotAdapter
from crm_sync.adapters.hubspot.auth import PrivateAppToken
from crm_sync.adapters.hubspot.client import HubSpotClient
from crm_sync.adapters.hubspot.ratelimit import RequestWindow
from crm_sync.mapping.load import load_mapping_file
from crm_sync.sandbox.hubspot import HubSpotSandbox
from crm_sync.store.sql import Store
from crm_sync.sync.api import run
from crm_sync.sync.computer import RulesComputer
from crm_sync.sync.options import RunOptions

LIMIT_PER_10S = 100
WRITE = "POST /crm/v3/objects/contacts/batch/update"


def main(scale: float | None = None) -> dict[str, Any]:
    scale = bench_scale() if scale is None else scale
    contacts = max(100, int(10_000 * scale))
    sandbox = HubSpotSandbox(rate_limit_per_10s=LIMIT_PER_10S)
    with sandbox.state.lock:
        for i in range(contacts):
            sandbox.state.create("contacts", {"email": f"c{i}@bench.example", "firstname": "B"})
    server = sandbox.serve()
    try:
        computer = RulesComputer(ROOT / "mappings" / "model.yaml")
        mapping = load_mapping_file(ROOT / "mappings" / "hubspot.yaml", computer)
        client = HubSpotClient(
            server.url, PrivateAppToken("sandbox"), window=RequestWindow(LIMIT_PER_10S)
        )
        adapter = HubSpotAdapter(client, mapping, account="bench")
        adapter.apply_provision(adapter.plan_provision(mapping))
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(path=Path(tmp) / "s.sqlite")
            before = dict(client.calls)
            started = time.perf_counter()
            record = run(
                "hubspot",
                adapter=adapter,
                computer=computer,
                mapping=mapping,
                store=store,
                options=RunOptions(rate=0.0, overlap_s=0.0, page_size=200),
            )
            total_s = time.perf_counter() - started
            store.close()
        calls = {k: v - before.get(k, 0) for k, v in client.calls.items()}
        push_requests = sum(
            v
            for k, v in calls.items()
            if "batch/update" in k or "batch/read" in k or "properties" in k
        )
        push_s = record.durations.get("push", 0.0)
        writes = calls.get(WRITE, 0)
        bound = 1.02 * math.ceil(contacts / 100)
        allowed = LIMIT_PER_10S / 10.0
        # A rolling window admits a full window's worth at once, so a short phase can show more
        # than limit/10 per second (the pull phase is bound by the sandbox listing 10,000 records
        # per page request, i.e. server CPU, not by the limiter). The sustained figure therefore discounts that first window:
        # (requests - limit) / seconds is a lower bound of the steady rate.
        push_rate = max(0, push_requests - LIMIT_PER_10S) / push_s if push_s else 0.0
        io_s = record.durations.get("pull", 0.0) + push_s
        io_rate = max(0, sum(calls.values()) - LIMIT_PER_10S) / io_s if io_s else 0.0
        run_rate = sum(calls.values()) / total_s
        figures: dict[str, Any] = {
            "contacts changed": contacts,
            "run status": record.status,
            "records pushed": record.counts.get("records_pushed", 0),
            "write calls": writes,
            "write-call bound 1.02 x ceil(N/100)": round(bound, 1),
            "429 responses": client.status_counts.get(429, 0),
            "requests in run": sum(calls.values()),
            "push phase requests": push_requests,
            "push phase seconds": round(push_s, 2),
            "push sustained req/s, first window discounted (allowed 10.0)": round(push_rate, 2),
            "push sustained % of allowed": round(100 * push_rate / allowed, 1),
            "pull+push sustained req/s, first window discounted": round(io_rate, 2),
            "pull+push sustained % of allowed": round(100 * io_rate / allowed, 1),
            "phase seconds": {k: round(v, 2) for k, v in record.durations.items()},
            "whole-run rate req/s (pull+compute+push)": round(run_rate, 2),
            "run seconds": round(total_s, 2),
            "acceptance": (
                "PASS"
                if writes <= bound
                and client.status_counts.get(429, 0) == 0
                and push_rate >= 0.85 * allowed
                else "FAIL"
            ),
        }
    finally:
        server.stop()
    for key, value in figures.items():
        print(f"{key:<45} {value}")
    return figures


if __name__ == "__main__":
    main()
