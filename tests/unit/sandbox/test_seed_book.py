"""The sandbox book generator: deterministic, valid, and shaped like a real B2B customer base."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import polars as pl
import pytest

from crm_sync.model.activities import ActivityType
from crm_sync.model.frames import ACTIVITY_SCHEMA, COMPANY_SCHEMA, CONTACT_SCHEMA, POTENTIAL_SCHEMA
from crm_sync.model.records import Activity, Company, Contact, PurchasePotential, Role
from crm_sync.sandbox.seed import DEFAULT_AS_OF, PRODUCT_FAMILIES, Book, generate_book


@pytest.fixture(scope="module")
def book() -> Book:
    return generate_book(7, 200)


def test_same_seed_gives_identical_book() -> None:
    """Generating twice with the same (seed, size, as_of) yields equal books."""
    assert generate_book(3, 60) == generate_book(3, 60)


def test_different_seed_gives_different_book() -> None:
    """A different seed changes the generated records."""
    first, second = generate_book(3, 60), generate_book(4, 60)
    assert first.companies != second.companies
    assert first.activities != second.activities


def test_default_as_of_is_fixed_and_activities_precede_it(book: Book) -> None:
    """as_of defaults to a fixed date, never today, and all activities fall in the two years before it."""
    assert book.as_of == DEFAULT_AS_OF
    start = dt.datetime.combine(DEFAULT_AS_OF, dt.time()) - dt.timedelta(days=730)
    end = dt.datetime.combine(DEFAULT_AS_OF, dt.time())
    assert all(start <= a.occurred_at < end for a in book.activities)


def test_explicit_as_of_moves_the_window() -> None:
    """An explicit as_of shifts every activity window relative to it."""
    as_of = dt.date(2024, 3, 1)
    shifted = generate_book(1, 40, as_of=as_of)
    assert shifted.as_of == as_of
    assert max(a.occurred_at for a in shifted.activities) < dt.datetime(2024, 3, 1)


def test_every_activity_type_present_at_modest_size(book: Book) -> None:
    """A 200-company book contains at least one activity of every ActivityType."""
    assert {a.type for a in book.activities} == set(ActivityType)


def test_records_validate(book: Book) -> None:
    """Every record round-trips through its pydantic model's validation."""
    for model, records in (
        (Company, book.companies),
        (Contact, book.contacts),
        (PurchasePotential, book.potentials),
        (Activity, book.activities),
    ):
        for record in records:
            assert model.model_validate(record.model_dump()) == record


def test_ids_are_unique_and_references_resolve(book: Book) -> None:
    """Ids are unique per kind and every company/contact reference points at an existing record."""
    company_ids = {c.id for c in book.companies}
    contact_ids = {c.id for c in book.contacts}
    assert len(company_ids) == len(book.companies) == 200
    assert len(contact_ids) == len(book.contacts)
    assert len({a.id for a in book.activities}) == len(book.activities)
    assert all(c.company_id is None or c.company_id in company_ids for c in book.contacts)
    assert all(p.company_id in company_ids for p in book.potentials)
    for activity in book.activities:
        assert activity.company_id is None or activity.company_id in company_ids
        assert activity.contact_id is None or activity.contact_id in contact_ids


def test_contact_emails_are_unique(book: Book) -> None:
    """No two contacts share an email (HubSpot de-duplicates contacts by email)."""
    emails = [c.email for c in book.contacts]
    assert len(set(emails)) == len(emails)


def test_chains_have_three_to_ten_members(book: Book) -> None:
    """Chain heads exist, each with 3-10 member companies, and heads are not members themselves."""
    members = Counter(c.parent_id for c in book.companies if c.parent_id is not None)
    assert members
    assert all(3 <= count <= 10 for count in members.values())
    by_id = {c.id: c for c in book.companies}
    assert all(by_id[head].parent_id is None for head in members)


def test_potentials_are_dated_partial_and_sometimes_missing(book: Book) -> None:
    """Some companies lack a potential, some change over time, some are per product family."""
    with_potential = {p.company_id for p in book.potentials}
    assert len(with_potential) < len(book.companies)
    per_company = Counter(p.company_id for p in book.potentials if p.product_family is None)
    assert any(count > 1 for count in per_company.values())
    families = {p.product_family for p in book.potentials if p.product_family is not None}
    assert families <= set(PRODUCT_FAMILIES)
    assert families


def test_contacts_have_roles_and_departments_with_gaps(book: Book) -> None:
    """About three contacts per company, every role present, and some role/department missing."""
    assert 2.0 <= len(book.contacts) / len(book.companies) <= 4.0
    roles = {c.role for c in book.contacts}
    assert set(Role) <= roles
    assert None in roles
    assert None in {c.department for c in book.contacts if c.company_id is not None}
    assert all(c.first_touch_source for c in book.contacts)


def test_invoices_carry_discounts_and_premiums(book: Book) -> None:
    """Invoices have amount, list_amount and a product family; both discounts and premiums occur."""
    invoices = [a for a in book.activities if a.type is ActivityType.INVOICE]
    assert all(a.amount is not None and a.product_family in PRODUCT_FAMILIES for a in invoices)
    ratios = [a.amount / a.list_amount for a in invoices if a.amount and a.list_amount]
    assert min(ratios) < 0.9
    assert max(ratios) > 1.0


def test_revenue_is_skewed_so_abc_classes_emerge(book: Book) -> None:
    """The top fifth of buyers carries most of the invoiced revenue (Zipf-like skew)."""
    revenue: Counter[str] = Counter()
    for a in book.activities:
        if a.type is ActivityType.INVOICE and a.company_id and a.amount:
            revenue[a.company_id] += a.amount
    values = sorted(revenue.values(), reverse=True)
    top = values[: max(1, len(values) // 5)]
    assert sum(top) / sum(values) > 0.6


def test_named_events_and_campaigns_exist(book: Book) -> None:
    """FAIR2025 and WEBINAR_Q3 are defined and referenced by event activities."""
    codes = {e.code for e in book.events}
    assert {"FAIR2025", "WEBINAR_Q3"} <= codes
    used = {a.event_code for a in book.activities if a.event_code}
    assert used <= codes
    assert "FAIR2025" in used
    campaign_codes = {c.code for c in book.campaigns} | codes
    assert {a.campaign for a in book.activities if a.campaign} <= campaign_codes


def test_to_dataset_matches_frame_schemas(book: Book) -> None:
    """to_dataset() produces the frames schemas (core columns first, with their exact types)."""
    data = book.to_dataset()
    for frame, schema in (
        (data.companies, COMPANY_SCHEMA),
        (data.contacts, CONTACT_SCHEMA),
        (data.potentials, POTENTIAL_SCHEMA),
        (data.activities, ACTIVITY_SCHEMA),
    ):
        assert list(frame.schema.items())[: len(schema)] == list(schema.items())
    assert data.activities.height == len(book.activities)
    assert data.activities.filter(pl.col("type") == "invoice").height > 0


def test_empty_and_negative_sizes() -> None:
    """Size 0 gives an empty book; a negative size is refused with a clear message."""
    empty = generate_book(0, 0)
    assert empty.companies == ()
    assert empty.activities == ()
    with pytest.raises(ValueError, match="size must be >= 0"):
        generate_book(0, -1)
