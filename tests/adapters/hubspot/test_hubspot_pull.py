"""Pull against the sandbox: records, associations, chains, activities, archives, the search cap."""

from __future__ import annotations

import datetime as dt

import pytest

from crm_sync.adapters.base import Cursor
from crm_sync.adapters.hubspot.paging import walk_search
from crm_sync.distributed.gate import RateGatedAdapter
from crm_sync.model.activities import ActivityType
from crm_sync.sandbox.seed import generate_book

EPOCH = Cursor(dt.datetime(2000, 1, 1, tzinfo=dt.UTC), "")


def _all(adapter, stream, since=None, page_size=200):
    return list(adapter.pull(stream, since, properties=["crm_persona"], page_size=page_size))


def test_full_pull_maps_contacts_companies_chains_and_potentials(adapter, sandbox):
    """Contacts carry their company (associations v4), companies their parent and potential."""
    ids = sandbox.load_book(generate_book(3, 12))
    companies = [c for p in _all(adapter, "companies") for c in p.companies]
    contacts = [c for p in _all(adapter, "contacts") for c in p.contacts]
    book = generate_book(3, 12)
    assert len(companies) == len(book.companies)
    assert len(contacts) == len(book.contacts)
    by_seed = {v: k for k, v in ids.items()}
    child = next(c for c in book.companies if c.parent_id)
    pulled = next(c for c in companies if by_seed[c.id] == child.id)
    assert by_seed[pulled.parent_id] == child.parent_id
    person = book.contacts[0]
    got = next(c for c in contacts if by_seed[c.id] == person.id)
    assert by_seed[got.company_id] == person.company_id
    pages = _all(adapter, "companies")
    assert any(p.potentials for p in pages)
    assert pages[-1].cursor is not None


def test_activity_stream_covers_every_source(adapter, sandbox):
    """Engagements, deals with line items, email events and web/form/event activity all arrive."""
    sandbox.load_book(generate_book(5, 8))
    acts = [a for p in _all(adapter, "activities", page_size=500) for a in p.activities]
    kinds = {a.type for a in acts}
    for kind in (
        ActivityType.CALL,
        ActivityType.MEETING,
        ActivityType.VISIT,
        ActivityType.INVOICE,
        ActivityType.EMAIL_OPENED,
        ActivityType.WEB_VISIT,
        ActivityType.FORM_SUBMISSION,
    ):
        assert kind in kinds, kind
    assert len({a.id for a in acts}) == len(acts)
    invoice = next(a for a in acts if a.type is ActivityType.INVOICE)
    assert invoice.amount is not None
    assert invoice.list_amount is not None
    assert invoice.product_family


def test_incremental_activity_pull_is_ordered_by_cursor(adapter, sandbox):
    """An incremental activity pull merges sources into non-decreasing cursor order."""
    sandbox.load_book(generate_book(5, 4))
    pages = _all(adapter, "activities", since=EPOCH, page_size=100)
    cursors = [p.cursor for p in pages]
    assert all(c is not None for c in cursors)
    assert cursors == sorted(cursors)


def test_incremental_pull_reports_archived_and_merged_records(adapter, sandbox):
    """Archived records and merged-away ids come back in ``deleted``."""
    keep = sandbox.state.create("contacts", {"email": "keep@x.example"})
    gone = sandbox.state.create("contacts", {"email": "gone@x.example"})
    sandbox.state.archive(gone)
    keep.props["hs_merged_object_ids"] = "424242"
    sandbox.state.write(keep, {"firstname": "K"})
    pages = _all(adapter, "contacts", since=EPOCH)
    deleted = {d for p in pages for d in p.deleted}
    assert deleted == {gone.id, "424242"}
    assert [c.id for p in pages for c in p.contacts] == [keep.id]


def _bulk_contacts(sandbox, n):
    with sandbox.state.lock:
        for i in range(n):
            sandbox.state.create("contacts", {"email": f"c{i}@bulk.example"})


def _check_once_each(adapter, sandbox, n, since):
    seen = [c.id for p in _all(adapter, "contacts", since=since) for c in p.contacts]
    assert len(seen) == n
    assert len(set(seen)) == n


def test_pull_past_the_10000_search_cap_loses_and_duplicates_nothing(adapter, sandbox):
    """10,500 contacts in one window (beyond the 10,000 cap), page 200: each exactly once."""
    _bulk_contacts(sandbox, 10_500)
    _check_once_each(adapter, sandbox, 10_500, EPOCH)
    calls = adapter.api_calls()
    assert calls["POST /crm/v3/objects/contacts/search"] >= 10_500 // 200


def test_tie_group_larger_than_a_page_is_walked_by_id(sandbox, url, client_factory):
    """When 450 records share one timestamp, the walker switches to id keyset and loses none."""
    sandbox.state.clock = lambda: 1_700_000_000.0
    _bulk_contacts(sandbox, 450)
    client = client_factory(url)
    pages = walk_search(
        lambda body: client.search("contacts", body).data,
        modified_prop="lastmodifieddate",
        since_ms=0,
        properties=["email"],
        page_size=100,
    )
    ids = [r["id"] for rows in pages for r in rows]
    assert len(ids) == 450
    assert len(set(ids)) == 450


@pytest.mark.slow
def test_pull_of_25000_contacts_in_one_window(adapter, sandbox):
    """25,000 contacts modified in one window: none lost, none duplicated (release size)."""
    _bulk_contacts(sandbox, 25_000)
    _check_once_each(adapter, sandbox, 25_000, EPOCH)


def test_shared_budget_is_charged_for_every_request_of_an_activities_page(
    adapter, sandbox, counting_budget
):
    """An activities page costs several HTTP requests; the distributed gate pays for each."""
    sandbox.load_book(generate_book(5, 8))
    budget = counting_budget
    gated = RateGatedAdapter(adapter, budget, "hubspot:test")
    before = sum(adapter.api_calls().values())
    pages = list(gated.pull("activities", None, properties=[], page_size=500))
    made = sum(adapter.api_calls().values()) - before
    assert made > len(pages), "the test needs pages that span several requests"
    assert budget.taken == made
