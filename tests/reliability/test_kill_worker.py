"""Kill test at scale: a ``crm-sync worker`` SIGKILLed at random moments converges every time.

Complements ``tests/e2e/test_crash_safety.py`` (which kills at each *named* point once, against a
fake model): here the real CLI worker runs the shipped model against a file-persisted memory CRM,
and is killed at seeded random moments, cycle after cycle, while the CRM keeps receiving new
activity between cycles. Each new worker must take over the dead one's lease once its TTL has
passed and carry on. After the last kill one clean run must leave the CRM exactly as a single
uninterrupted run over the same final data does, with no value written twice and no duplicate.

The default test runs 50 cycles on a small book to keep ``make test`` under its budget;
``CRM_SYNC_RELEASE_CHECK=1`` makes it 200 cycles on a 3x larger book, and the ``slow``-marked
variant (``pytest -m slow``) always runs that release size (see RELEASING.md).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from reliability_harness import ROOT

from crm_sync.adapters.memory import InMemoryAdapter
from crm_sync.config import Settings
from crm_sync.model import Activity
from crm_sync.sandbox.seed import generate_book
from crm_sync.sync.api import run

RELEASE = os.environ.get("CRM_SYNC_RELEASE_CHECK") == "1"
CYCLES = 200 if RELEASE else 50
SIZE = 24 if RELEASE else 8
SEED = 2027
CLI = Path(sys.executable).with_name("crm-sync")


def _settings(work: Path) -> Settings:
    return Settings(
        model_path=ROOT / "mappings" / "model.yaml",
        mappings_dir=ROOT / "mappings",
        store_path=work / "state.sqlite",
        overlap_s=0,
        page_size=25,
        lease_ttl_s=0.5,
    )


def _env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_SYNC_")}
    env.update(
        CRM_SYNC_MODEL_PATH=str(ROOT / "mappings" / "model.yaml"),
        CRM_SYNC_MAPPINGS_DIR=str(ROOT / "mappings"),
        CRM_SYNC_STORE_PATH=str(work / "state.sqlite"),
        CRM_SYNC_OVERLAP_S="0",
        CRM_SYNC_PAGE_SIZE="25",
        CRM_SYNC_LEASE_TTL_S="0.5",
    )
    return env


def _new_activities(book: Any, cycle: int, rng: random.Random) -> list[Activity]:
    """Fresh activity between cycles: copies of existing ones (valid by construction), new ids."""
    picks = rng.sample(list(book.activities), k=min(6, len(book.activities)))
    # Naive, like the generated book: one book mixing naive and aware stamps cannot be framed.
    today = dt.datetime.combine(book.as_of, dt.time(12))
    return [
        a.model_copy(
            update={
                "id": f"kill-{cycle}-{i}",
                "occurred_at": today - dt.timedelta(days=rng.randint(1, 400)),
            }
        )
        for i, a in enumerate(picks)
    ]


def _seed(path: Path, book: Any) -> None:
    InMemoryAdapter(path.stem, path=path).seed(
        companies=book.companies,
        contacts=book.contacts,
        potentials=book.potentials,
        activities=book.activities,
    )


def _values(path: Path) -> tuple[dict[str, Any], list[list[Any]]]:
    state = json.loads(path.read_text())
    return state["values"], state["writes"]


def test_worker_killed_at_random_moments_converges(tmp_path: Path) -> None:
    """SIGKILL a worker at seeded random moments for many cycles; one clean run converges."""
    _kill_cycles(tmp_path, CYCLES, SIZE, SEED)


@pytest.mark.slow
def test_worker_killed_at_random_moments_converges_at_release_size(tmp_path: Path) -> None:
    """Release check: 200 random SIGKILLs on a larger book, another seed; still converges."""
    _kill_cycles(tmp_path, 200, 24, SEED + 1)


def _kill_cycles(tmp_path: Path, cycles: int, size: int, seed: int) -> None:
    today = dt.datetime.now(dt.UTC).date()
    book = generate_book(seed, size, as_of=today)
    rng = random.Random(seed)
    work, ref = tmp_path / "work", tmp_path / "ref"
    work.mkdir()
    ref.mkdir()
    crm = work / "crm.json"
    _seed(crm, book)
    added: list[Activity] = []
    outcomes: Counter[str] = Counter()
    deadline = time.monotonic() + (1800 if cycles > 50 else 150)
    for cycle in range(cycles):
        assert time.monotonic() < deadline, f"kill test too slow at cycle {cycle}"
        proc = subprocess.Popen(
            [str(CLI), "worker", "--target", "memory", "--crm-file", str(crm), "--every", "1s"],
            env=_env(work),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(rng.uniform(0.4, 2.2))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            outcomes["killed"] += 1
        else:
            outcomes[f"exited {proc.returncode}"] += 1
        _, err = proc.communicate(timeout=30)
        assert b"Traceback" not in err, err.decode()[-2000:]
        if cycle % 3 == 0:  # new CRM activity arrives while no worker runs
            new = _new_activities(book, cycle, rng)
            InMemoryAdapter(crm.stem, path=crm).seed(activities=new)
            added.extend(new)
        if cycle % 10 == 9:
            time.sleep(0.6)  # sometimes the next worker starts after the lease TTL, sometimes not
    print(f"kill test: {cycles} cycles, {dict(outcomes)}")
    assert outcomes["killed"] >= cycles * 0.8, outcomes
    time.sleep(0.6)  # the last victim's lease expires
    final = run("memory", crm_file=crm, settings=_settings(work))
    assert final.status == "ok", final
    quiet = run("memory", crm_file=crm, settings=_settings(work))
    assert quiet.counts.get("records_pushed", 0) == 0, "a converged CRM was written again"

    ref_crm = ref / "crm.json"
    _seed(ref_crm, book)
    InMemoryAdapter(ref_crm.stem, path=ref_crm).seed(activities=added)
    assert run("memory", crm_file=ref_crm, settings=_settings(ref)).status == "ok"

    values, writes = _values(crm)
    expected, _ = _values(ref_crm)
    assert values == expected, "the CRM differs from one uninterrupted run over the same data"
    ours = [w for w in writes if w[0] == "sync"]
    assert ours, "nothing was ever pushed"
    assert not [w for w in ours if w[3] == w[4]], "a value already in the CRM was written again"
