"""Rate deferral: a task whose account has no token soon yields its worker and resumes later.

These run in-process on SQLite with a fake clock (the budget's clock only moves when the test
moves it), so every deferral is deterministic; the Celery side is exercised by
``test_celery_workers.py`` and measured by ``bench/bench_distributed.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from crmfake import read_log, seed_crm, write_accounts
from sqlalchemy import func, select

from crm_sync.adapters.memory import InMemoryAdapter
from crm_sync.config import Settings
from crm_sync.distributed.budget import RateLimit, SharedRateBudget
from crm_sync.distributed.gate import RateGatedAdapter
from crm_sync.distributed.runner import STREAMS, Runtime, pull_stream, sync_account
from crm_sync.errors import RateDeferred
from crm_sync.model import Company
from crm_sync.store import schema as t
from crm_sync.store.sql import Store


class FakeTime:
    """The budget's clock and sleep: sleeping moves the clock, nothing else does."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


@pytest.fixture
def tight(tmp_path: Path) -> tuple[Runtime, FakeTime]:
    """One account (20 companies, 40 contacts) limited to 2 calls per 2 s: 1 token, 0.5/s."""
    seed_crm(tmp_path / "acct-a.json", "1000")
    accounts = write_accounts(
        tmp_path,
        ["acct-a"],
        max_calls=2,
        per_s=2.0,
        page_size=5,
        factory="crmfake:small_batches",
    )
    settings = Settings(store_path=tmp_path / "s.sqlite", overlap_s=300, defer_after_s=0.5)
    rt = Runtime.open(settings, accounts)
    fake = FakeTime()
    rt.budget = SharedRateBudget(rt.store, clock=fake.clock, sleep=fake.sleep)
    yield rt, fake
    rt.close()


def test_take_beyond_max_wait_raises_instead_of_sleeping(tmp_path):
    """An empty bucket raises RateDeferred naming the wait; without max_wait it sleeps it."""
    fake = FakeTime()
    store = Store.open(path=tmp_path / "s.sqlite")
    budget = SharedRateBudget(store, clock=fake.clock, sleep=fake.sleep)
    budget.configure("a", RateLimit(2, 2.0))  # one token, refilled at 0.5/s
    assert budget.take("a", max_wait=0.5) == 0.0
    with pytest.raises(RateDeferred) as info:
        budget.take("a", max_wait=0.5)
    assert info.value.retry_in == pytest.approx(2.0)
    assert fake.slept == 0.0
    assert budget.take("a") == pytest.approx(2.0)
    assert fake.slept == pytest.approx(2.0)
    store.close()


def test_gate_charges_each_request_and_nothing_for_the_end_of_a_stream(counting_budget):
    """Three pages of companies cost three tokens: learning the stream ended costs none."""
    crm = InMemoryAdapter("m")
    crm.seed(companies=[Company(id=f"c{i}", name=f"C {i}") for i in range(12)])
    budget = counting_budget
    gated = RateGatedAdapter(crm, budget, "memory:m")  # type: ignore[arg-type]
    pages = list(gated.pull("companies", None, properties=[], page_size=5))
    assert len(pages) == 3
    assert budget.taken == sum(crm.api_calls().values()) == 3


def test_deferred_pull_resumes_at_its_cursor_and_finishes(tight):
    """Re-queued after every page, a pull still ends: it resumes at the exact stored cursor.

    The overlap (300 s) covers every record here, so a resume that moved back by the overlap
    would re-read the first page on every attempt and never finish.
    """
    rt, fake = tight
    attempts = 0
    while True:
        try:
            result = pull_stream(rt, "acct-a", "contacts", defer=True, resume=attempts > 0)
            break
        except RateDeferred as exc:
            attempts += 1
            assert attempts < 40, "the deferred pull made no progress"
            fake.now += exc.retry_in  # what the re-queued task's countdown does
    assert result["status"] == "ok"
    with rt.store.begin() as conn:
        stored = conn.execute(
            select(func.count()).where(t.records.c.entity == "contact")
        ).scalar_one()
    assert stored == 40
    assert attempts <= 40 // 5 + 1  # about one attempt per page: no page read twice in vain


def test_deferred_sync_journals_nothing_unsent_and_the_next_attempt_pushes_the_rest(
    tight, tmp_path
):
    """Each attempt pushes what its tokens allow; deferred runs leave no dangling intents."""
    rt, fake = tight
    for stream in STREAMS:
        pull_stream(rt, "acct-a", stream)  # in-process: waits (on the fake clock) for tokens
    assert fake.slept > 0
    statuses: list[str] = []
    while True:
        try:
            record = sync_account(rt, "acct-a", pull=False, defer=True)
            break
        except RateDeferred as exc:
            statuses.append(rt.store.runs(limit=1)[0]["status"])
            with rt.store.begin() as conn:
                dangling = conn.execute(
                    select(func.count()).where(t.audit.c.status == "intent")
                ).scalar_one()
            assert dangling == 0, "a deferred run left a journalled batch it never sent"
            assert len(statuses) < 40
            fake.now += exc.retry_in
    assert record.status == "ok"
    assert statuses
    assert set(statuses) == {"deferred"}
    pushed = sum(r["detail"]["counts"].get("records_pushed", 0) for r in rt.store.runs(limit=50))
    batches = [w for _, _, w in read_log(tmp_path / "acct-a.json") if w == "push-start"]
    assert pushed == 60  # 20 companies + 40 contacts, each pushed exactly once
    assert len(batches) == 60 // 5
    assert len(statuses) <= len(batches) + 1  # every attempt but the first pushed a batch


@pytest.mark.parametrize("retry_in", [0.0, 0.1, 0.25, 0.9, 1.11, 30.0])
def test_requeued_task_is_due_before_its_token_but_never_so_early_it_defers_again(retry_in):
    """Due at the token, the re-queue's broker round trip was lost API time on every deferral."""
    from crm_sync.distributed.celery_app import requeue_in

    defer_after = 0.5
    countdown = requeue_in(RateDeferred("hubspot:1", retry_in), defer_after)
    assert 0.0 <= countdown <= retry_in
    left_on_arrival = retry_in - countdown
    assert left_on_arrival <= defer_after / 2  # slept in the worker, not deferred again
    if retry_in >= defer_after / 2:
        assert left_on_arrival == pytest.approx(defer_after / 2)
