"""Write policies, tag ownership, retry, quota stop/resume, dead letters, leases, cursors."""

from __future__ import annotations

import datetime as dt

import pytest

from crm_sync.adapters.base import Cursor
from crm_sync.adapters.memory import InMemoryAdapter
from crm_sync.errors import LockHeld, QuotaExhausted, RateLimited, RecordRejected, TransientError
from crm_sync.mapping.load import MappedProperty
from crm_sync.store import leases
from crm_sync.sync import deadletters, run_sync
from crm_sync.sync.diff import diff_record
from crm_sync.sync.pull import since
from crm_sync.sync.retry import RetryPolicy, call_with_retry

SINGLE = MappedProperty(
    "contact",
    "stage",
    "contacts",
    "crm_stage",
    False,
    "overwrite",
    (("lead", "lead"), ("customer", "customer")),
)
TAGS = MappedProperty(
    "contact",
    "tags",
    "contacts",
    "crm_tags",
    True,
    "overwrite",
    (("active", "active"), ("vip", "vip")),
)


def _with(target: MappedProperty, policy: str) -> MappedProperty:
    return MappedProperty(
        target.entity,
        target.output,
        target.object,
        target.name,
        target.multi,
        policy,
        target.options,
    )


def test_overwrite_replaces_but_never_rewrites_same_value():
    """overwrite writes a different value and skips a value already in the CRM."""
    assert (
        diff_record([SINGLE], {"stage": "customer"}, {"crm_stage": ("lead", "lead")})[0].new
        == "customer"
    )
    assert diff_record([SINGLE], {"stage": "customer"}, {"crm_stage": ("customer", None)}) == ()


def test_if_empty_only_fills_empty():
    """if_empty writes into an empty property only."""
    target = _with(SINGLE, "if_empty")
    assert diff_record([target], {"stage": "customer"}, {"crm_stage": ("lead", None)}) == ()
    assert diff_record([target], {"stage": "customer"}, {})[0].new == "customer"


def test_respect_manual_edits_skips_values_changed_by_people():
    """respect_manual_edits overwrites our own value but not a value a person set."""
    target = _with(SINGLE, "respect_manual_edits")
    assert (
        diff_record([target], {"stage": "customer"}, {"crm_stage": ("lead", "lead")})[0].new
        == "customer"
    )
    assert diff_record([target], {"stage": "customer"}, {"crm_stage": ("lead", "prospect")}) == ()
    assert diff_record([target], {"stage": "customer"}, {"crm_stage": ("lead", None)}) == ()


def test_tags_never_remove_values_crm_sync_does_not_own():
    """Tag diffs are per value and keep foreign values."""
    (change,) = diff_record([TAGS], {"tags": ("vip",)}, {"crm_tags": ("active;manual", "active")})
    assert change.add == {"vip"}
    assert change.remove == {"active"}
    assert change.result == {"vip", "manual"}


def test_tags_respect_manual_edits_per_value():
    """Under respect_manual_edits an owned value a person removed is not re-added."""
    target = _with(TAGS, "respect_manual_edits")
    assert (
        diff_record([target], {"tags": ("vip", "active")}, {"crm_tags": ("active", "active;vip")})
        == ()
    )


def test_retry_honours_retry_after_with_injected_sleep():
    """RateLimited(retry_after=7) waits exactly 7 s, then succeeds."""
    slept: list[float] = []
    calls = iter(
        [RateLimited("slow down", retry_after=7.0), TransientError("503", retry_after=2.0), "ok"]
    )

    def fn() -> str:
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        return item

    assert call_with_retry(fn, RetryPolicy(), sleep=slept.append) == "ok"
    assert slept == [7.0, 2.0]


def test_quota_is_never_retried():
    """QuotaExhausted propagates on the first attempt."""
    slept: list[float] = []
    attempts = []

    def fn() -> None:
        attempts.append(1)
        raise QuotaExhausted("daily")

    with pytest.raises(QuotaExhausted):
        call_with_retry(fn, RetryPolicy(), sleep=slept.append)
    assert attempts == [1]
    assert slept == []


def test_scripted_rate_limit_is_retried_in_a_run(adapter, store, computer, options, mapping_for):
    """A scripted 429 during pull is retried after Retry-After and the run completes."""
    slept: list[float] = []
    options.sleep = slept.append
    adapter.script = [RateLimited("429", retry_after=2.0)]
    record = run_sync(adapter, mapping_for(), computer, store, options)
    assert record.status == "ok"
    assert slept == [2.0]


def test_daily_quota_stops_cleanly_and_next_run_resumes(
    adapter, store, computer, options, mapping_for
):
    """A quota refusal ends the run as quota_stopped with state saved; the next run finishes."""
    mapping = mapping_for()
    adapter.daily_quota = 6  # enough to pull and push one batch, not everything
    first = run_sync(adapter, mapping, computer, store, options)
    assert first.status == "quota_stopped"
    pushed_first = first.counts.get("records_pushed", 0)
    adapter.reset_quota()
    adapter.daily_quota = None
    second = run_sync(adapter, mapping, computer, store, options)
    assert second.status == "ok"
    assert pushed_first + second.counts["records_pushed"] == 12
    third = run_sync(adapter, mapping, computer, store, options)
    assert third.counts.get("write_calls", 0) == 0


def test_dead_letter_retried_until_success(adapter, store, computer, options, mapping_for):
    """A rejected record is dead-lettered, retried on later runs, and resolved when it succeeds."""
    mapping = mapping_for()
    adapter.script_on = frozenset({"push:company"})
    adapter.script = [RecordRejected("bad value", record_id="co1")]
    run_sync(adapter, mapping, computer, store, options)
    assert adapter.value("company", "co1", "crm_tier") is None
    letters = deadletters.list_letters(store, None)
    assert [(d["record_id"], d["attempts"]) for d in letters] == [("co1", 1)]
    assert deadletters.retry_now(store, None, ["co1"]) == 1
    adapter.script = [RecordRejected("still bad", record_id="co1")]
    run_sync(adapter, mapping, computer, store, options)
    assert deadletters.list_letters(store, None)[0]["attempts"] == 2
    deadletters.retry_now(store, None, None)
    run_sync(adapter, mapping, computer, store, options)
    assert adapter.value("company", "co1", "crm_tier") == "b"
    assert deadletters.list_letters(store, None) == []


def test_waived_dead_letter_is_not_retried(adapter, store, computer, options, mapping_for):
    """Waiving stops retries and drops the pending push."""
    mapping = mapping_for()
    adapter.script_on = frozenset({"push:company"})
    adapter.script = [RecordRejected("bad", record_id="co1")]
    run_sync(adapter, mapping, computer, store, options)
    assert deadletters.waive(store, None, ["co1"]) == 1
    deadletters.retry_now(store, None, None)
    run_sync(adapter, mapping, computer, store, options)
    assert adapter.value("company", "co1", "crm_tier") is None
    assert deadletters.list_letters(store, None, "waived")[0]["record_id"] == "co1"


def test_second_worker_exits_naming_the_holder(adapter, store, computer, options, mapping_for):
    """While one worker holds the lease, another run raises LockHeld naming it."""
    leases.acquire(store, "memory:memory-1", "worker-A", 60)
    with pytest.raises(LockHeld, match="worker-A"):
        run_sync(adapter, mapping_for(), computer, store, options)
    assert not any(k.startswith("push") for k in adapter.api_calls())


def test_stale_lease_is_taken_over(store):
    """An expired lease (a killed worker) is taken over by the next worker."""
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    leases.acquire(store, "acct", "dead-worker", 60, now=past)
    leases.acquire(store, "acct", "new-worker", 60)
    assert leases.holder_of(store, "acct")[0] == "new-worker"


def test_cursor_overlap_and_dedupe(adapter, store, computer, options, mapping_for):
    """Pull starts overlap seconds before the cursor; re-read records are not new data."""
    c = Cursor(dt.datetime(2025, 1, 1, 0, 10, tzinfo=dt.UTC), "x")
    assert since(c, 300) == Cursor(dt.datetime(2025, 1, 1, 0, 5, tzinfo=dt.UTC), "")
    mapping = mapping_for()
    run_sync(adapter, mapping, computer, store, options)
    options.overlap_s = 10_000  # re-read everything
    record = run_sync(adapter, mapping, computer, store, options)
    assert record.counts["pulled_contact"] == 9
    assert record.counts["changed_contact"] == 0
    assert record.counts["recompute_contact"] == 0


def test_manual_edit_respected_end_to_end(adapter, store, computer, options, mapping_for):
    """A person's edit under respect_manual_edits survives later runs; overwrite restores ours."""
    mapping = mapping_for(stage="respect_manual_edits")
    run_sync(adapter, mapping, computer, store, options)
    adapter.set_value("contact", "p1-0", "crm_stage", "customer")
    adapter.set_value("company", "co1", "crm_tier", "c")
    run_sync(adapter, mapping, computer, store, options)
    assert adapter.value("contact", "p1-0", "crm_stage") == "customer"
    assert adapter.value("company", "co1", "crm_tier") == "b"


def test_foreign_tag_survives_sync(adapter, store, computer, options, mapping_for):
    """A hand-set tag value crm_sync does not own is kept when crm_sync writes its tags."""
    adapter.set_value("contact", "p2-0", "crm_tags", "partner")
    run_sync(adapter, mapping_for(), computer, store, options)
    assert adapter.value("contact", "p2-0", "crm_tags") == "partner;vip"


def test_budget_spent_stops_like_quota(adapter, store, computer, options, mapping_for):
    """The per-run API budget stops the run cleanly; the next run continues."""
    options.budget = 4
    first = run_sync(adapter, mapping_for(), computer, store, options)
    assert first.status == "quota_stopped"
    options.budget = None
    assert run_sync(adapter, mapping_for(), computer, store, options).status == "ok"
    assert adapter.value("contact", "p0-0", "crm_stage") == "customer"


def test_memory_adapter_counts_calls_per_endpoint():
    """The fake CRM counts API calls per endpoint for the run record."""
    crm = InMemoryAdapter()
    list(crm.pull("contacts", None, properties=[], page_size=10))
    assert crm.api_calls() == {}
