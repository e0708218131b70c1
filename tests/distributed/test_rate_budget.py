"""The shared rate budget: a token bucket row per account that all workers draw from."""

from __future__ import annotations

import threading
import time

import pytest
from crmfake import max_in_window

from crm_sync.distributed.budget import RateLimit, SharedRateBudget
from crm_sync.store.sql import Store


def test_limit_becomes_a_bucket_that_fits_the_window():
    """burst + rate x window equals the usable calls per window (headroom kept free)."""
    lim = RateLimit(100, 10.0, headroom=0.1)
    assert lim.usable == 90
    assert lim.burst + lim.rate * lim.per_s == pytest.approx(90)


def test_bucket_refills_with_the_clock(tmp_path):
    """After the burst, a token is granted only once the clock has refilled one."""
    now = [1000.0]
    store = Store.open(path=tmp_path / "s.sqlite")
    budget = SharedRateBudget(store, clock=lambda: now[0], sleep=lambda s: None)
    budget.configure("a", RateLimit(20, 2.0))  # burst 2, 9 tokens/s
    assert budget.try_take("a") == 0.0
    assert budget.try_take("a") == 0.0
    wait = budget.try_take("a")
    assert wait == pytest.approx(1 / 9, rel=0.01)
    now[0] += wait + 1e-9
    assert budget.try_take("a") == 0.0
    store.close()


def test_accounts_have_separate_buckets(tmp_path):
    """Spending one account's budget leaves another account's untouched."""
    store = Store.open(path=tmp_path / "s.sqlite")
    budget = SharedRateBudget(store, clock=lambda: 5.0)
    for name in ("a", "b"):
        budget.configure(name, RateLimit(10, 10.0))
    assert budget.try_take("a") == 0.0
    assert budget.try_take("a") > 0
    assert budget.try_take("b") == 0.0
    store.close()


def test_many_threads_on_postgres_never_exceed_the_limit(pg_url):
    """Eight threads with their own connections together stay within 30 calls per 1 s."""
    stores = [Store.open(pg_url) for _ in range(8)]
    SharedRateBudget(stores[0]).configure("acct", RateLimit(30, 1.0))
    stamps: list[float] = []

    def worker(store: Store) -> None:
        budget = SharedRateBudget(store)
        for _ in range(10):
            budget.take("acct")
            stamps.append(time.time())

    threads = [threading.Thread(target=worker, args=(s,)) for s in stores]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(stamps) == 80
    assert max_in_window(stamps, 1.0) <= 30
    for store in stores:
        store.close()
