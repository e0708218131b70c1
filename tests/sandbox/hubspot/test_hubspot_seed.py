"""Seeding: a generated book becomes the records, associations and events a real portal holds."""

from __future__ import annotations

import pytest

from crm_sync.sandbox.hubspot import HubSpotSandbox
from crm_sync.sandbox.seed import generate_book


@pytest.fixture(scope="module")
def seeded() -> tuple[HubSpotSandbox, object]:
    """One sandbox seeded with a small book (module-scoped: seeding is the slow part)."""
    sandbox = HubSpotSandbox()
    book = generate_book(7, 12)
    sandbox.load_book(book)
    return sandbox, book


def test_companies_and_contacts_are_seeded_with_seed_ids(seeded):
    """Every company and contact exists, with its book id in the unique crm_sync_seed_id."""
    sandbox, book = seeded
    state = sandbox.state
    assert len(state.objects["companies"]) == len(book.companies)
    assert len(state.objects["contacts"]) == len(book.contacts)
    first = book.contacts[0]
    found = state.find_unique("contacts", "crm_sync_seed_id", first.id)
    assert found is not None
    assert found.props.get("email") == first.email


def test_contacts_are_associated_to_their_company_and_parents_linked(seeded):
    """Contacts carry the 279 association; chain members link to their parent company."""
    sandbox, book = seeded
    ids = sandbox.book_ids
    contact = next(c for c in book.contacts if c.company_id)
    linked = sandbox.state.associated(("contacts", ids[contact.id]), "companies")
    assert linked == {ids[contact.company_id]: {("HUBSPOT_DEFINED", 279)}}
    child = next((c for c in book.companies if c.parent_id), None)
    if child is not None:
        parents = sandbox.state.associated(("companies", ids[child.id]), "companies")
        assert parents == {ids[child.parent_id]: {("HUBSPOT_DEFINED", 14)}}


def test_money_activities_become_deals_with_line_items(seeded):
    """Invoices and orders become deals (crm_activity_type) with a line item carrying the list price."""
    sandbox, book = seeded
    invoices = [a for a in book.activities if a.type.value == "invoice"]
    deals = [
        d
        for d in sandbox.state.objects["deals"].values()
        if d.props.get("crm_activity_type") == "invoice"
    ]
    assert len(deals) == len(invoices)
    items = sandbox.state.associated(("deals", deals[0].id), "line_items")
    assert len(items) == 1


def test_engagements_and_events_are_seeded(seeded):
    """Calls, meetings, visit notes, email events and events v3 are all present."""
    sandbox, _book = seeded
    counts = {t: len(sandbox.state.objects[t]) for t in ("calls", "meetings", "notes")}
    assert all(counts.values()), counts
    assert {e["type"] for e in sandbox.state.email_events} <= {"SENT", "OPEN", "CLICK"}
    assert any(e["eventType"] == "e_visited_page" for e in sandbox.state.web_events)


def test_seeded_portal_is_served_to_the_official_client(hubspot_server, hubspot_sandbox):
    """A seeded portal answers searches through the official client."""
    from hubspot import HubSpot  # noqa: TID251 - official client under test

    hubspot_sandbox.load_book(generate_book(3, 5))
    client = HubSpot(access_token="sandbox", host=hubspot_server.url)
    assert (
        client.crm.companies.search_api.do_search(public_object_search_request={"limit": 1}).total
        >= 5
    )
