"""Subprocess body of the concurrency test: N runs against one HubSpot sandbox, one shared store.

Usage: python concurrent_worker.py STORE HUBSPOT_URL TOKEN RUNS FIRST_AS_OF. Prints one JSON line:
how many runs completed and how many met the other worker's lease (LockHeld).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

from reliability_harness import computer, mapping

from crm_sync.adapters.hubspot.adapter import HubSpotAdapter
from crm_sync.adapters.hubspot.auth import PrivateAppToken
from crm_sync.adapters.hubspot.client import HubSpotClient
from crm_sync.adapters.hubspot.ratelimit import RequestWindow
from crm_sync.errors import LockHeld
from crm_sync.store.sql import Store
from crm_sync.sync.api import run
from crm_sync.sync.options import RunOptions


def main(store_path: Path, url: str, token: str, runs: int, first: dt.date) -> None:
    mapped = mapping("hubspot")
    adapter = HubSpotAdapter(
        HubSpotClient(url, PrivateAppToken(token), window=RequestWindow(10_000)), mapped
    )
    store = Store.open(path=store_path)
    done = held = 0
    try:
        while done < runs:
            # A different as_of each run moves windows, so most runs have something to push.
            options = RunOptions(
                as_of=first + dt.timedelta(days=30 * done), rate=0.0, overlap_s=0.0, lease_ttl_s=30
            )
            try:
                run("hubspot", adapter=adapter, computer=computer(), mapping=mapped,
                    store=store, options=options)  # fmt: skip
                done += 1
            except LockHeld:
                held += 1
                time.sleep(0.05)
    finally:
        store.close()
    sys.stdout.write(json.dumps({"runs": done, "lock_held": held}) + "\n")


if __name__ == "__main__":
    main(
        Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]),
        dt.date.fromisoformat(sys.argv[5]),
    )  # fmt: skip
