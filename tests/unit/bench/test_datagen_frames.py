"""The vectorised benchmark generator: exact frame schemas, determinism and the book's shape."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest

from crm_sync.model.activities import ACTIVITY_DOCS, ActivityType
from crm_sync.model.frames import (
    ACTIVITY_SCHEMA,
    COMPANY_SCHEMA,
    CONTACT_SCHEMA,
    POTENTIAL_SCHEMA,
    Dataset,
)

_ROOT = Path(__file__).resolve().parents[3]
if str(_ROOT) not in sys.path:  # `bench` is a top-level folder, not an installed package
    sys.path.insert(0, str(_ROOT))

from bench.datagen import generate_dataset  # noqa: E402


@pytest.fixture(scope="module")
def data() -> Dataset:
    return generate_dataset(0.002, seed=5)


def test_frames_match_schemas_exactly(data: Dataset) -> None:
    """Every frame has exactly the frames-module schema: same columns, order and dtypes."""
    assert data.companies.schema == pl.Schema(COMPANY_SCHEMA)
    assert data.contacts.schema == pl.Schema(CONTACT_SCHEMA)
    assert data.potentials.schema == pl.Schema(POTENTIAL_SCHEMA)
    assert data.activities.schema == pl.Schema(ACTIVITY_SCHEMA)


def test_scale_sets_row_counts(data: Dataset) -> None:
    """Scale 0.002 gives 200 companies, 2,000 contacts and 20,000 activities."""
    assert data.companies.height == 200
    assert data.contacts.height == 2_000
    assert data.activities.height == 20_000


def test_same_seed_same_frames_other_seed_differs(data: Dataset) -> None:
    """The same (seed, scale) reproduces every frame; another seed changes them."""
    again = generate_dataset(0.002, seed=5)
    other = generate_dataset(0.002, seed=6)
    for name in ("companies", "contacts", "potentials", "activities"):
        assert getattr(data, name).equals(getattr(again, name))
    assert not data.activities.equals(other.activities)


def test_ids_unique_and_references_resolve(data: Dataset) -> None:
    """Ids are unique; activities, contacts, potentials and parents point at existing records."""
    company_ids = data.companies["id"]
    assert company_ids.n_unique() == data.companies.height
    assert data.contacts["id"].n_unique() == data.contacts.height
    assert data.activities["id"].n_unique() == data.activities.height
    for column in (
        data.companies["parent_id"],
        data.contacts["company_id"],
        data.potentials["company_id"],
        data.activities["company_id"],
    ):
        assert column.drop_nulls().is_in(company_ids.implode()).all()
    assert data.activities["contact_id"].drop_nulls().is_in(data.contacts["id"].implode()).all()


def test_every_type_present_and_attributes_allowed(data: Dataset) -> None:
    """All ActivityTypes occur, and no activity carries an attribute its type may not carry."""
    assert set(data.activities["type"].unique()) == {t.value for t in ActivityType}
    for kind, (_, allowed) in ACTIVITY_DOCS.items():
        rows = data.activities.filter(pl.col("type") == kind.value)
        for attr in ("amount", "list_amount", "product_family", "event_code", "campaign", "score"):
            if attr not in allowed:
                assert rows[attr].null_count() == rows.height, (kind, attr)
        assert rows.filter(
            pl.col("company_id").is_null() & pl.col("contact_id").is_null()
        ).is_empty()


def test_shape_matches_the_book(data: Dataset) -> None:
    """Chains, missing potentials, roles with gaps and skewed revenue all appear, as in the book."""
    members = data.companies.group_by("parent_id").len().drop_nulls("parent_id")
    assert members.height > 0
    with_potential = data.potentials["company_id"].n_unique()
    assert with_potential < data.companies.height
    assert data.potentials["product_family"].drop_nulls().len() > 0
    assert data.contacts["role"].null_count() > 0
    revenue = (
        data.activities.filter(pl.col("type") == "invoice")
        .group_by("company_id")
        .agg(pl.col("amount").sum())
        .sort("amount", descending=True)["amount"]
    )
    top = revenue.head(max(1, revenue.len() // 5)).sum()
    assert top / revenue.sum() > 0.5
    ratio = data.activities.filter(pl.col("type") == "invoice").select(
        (pl.col("amount") / pl.col("list_amount")).alias("r")
    )["r"]
    assert ratio.min() < 0.9 < 1.0 < ratio.max()


def test_explicit_tiny_counts_still_give_schema_frames() -> None:
    """Explicit counts override the scale, down to a handful of companies (maybe no buyers)."""
    tiny = generate_dataset(companies=3, contacts=10, activities=300, seed=1)
    assert (tiny.companies.height, tiny.contacts.height, tiny.activities.height) == (3, 10, 300)
    assert tiny.activities.schema == pl.Schema(ACTIVITY_SCHEMA)


def test_attributes_add_declared_fields_after_the_core_columns() -> None:
    """attributes=True appends planned_visits_90d to companies; the core schema stays first."""
    data = generate_dataset(0.001, attributes=True)
    assert list(data.companies.schema.items())[: len(COMPANY_SCHEMA)] == list(
        COMPANY_SCHEMA.items()
    )
    assert data.companies.columns[-1] == "planned_visits_90d"
    assert data.companies["planned_visits_90d"].drop_nulls().min() >= 1
