"""Acceptance: the shipped default model over a hand-made book, every expected value written out.

The expected values below were worked out by hand from the data in this file (comments show the
arithmetic); none is computed by the code under test. The book covers nulls (missing potential,
missing list prices, empty role), ABC ties broken by id, a chain, a backward lifecycle move,
activities after as_of (ignored), window boundaries and invited-but-not-attended events.
"""

from __future__ import annotations

import datetime as dt
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from crm_sync.model.frames import Dataset
from crm_sync.model.records import Activity, Company, Contact, PurchasePotential
from crm_sync.rules.engine import evaluate
from crm_sync.rules.load import load_model
from crm_sync.rules.reference import evaluate_reference

MODEL = Path(__file__).resolve().parents[3] / "mappings" / "model.yaml"
AS_OF = dt.date(2025, 6, 30)
_ids = count(1)


def _act(kind: str, day: str, **kw: Any) -> Activity:
    return Activity(
        id=f"A{next(_ids):04d}",
        type=kind,
        occurred_at=dt.datetime.fromisoformat(day + "T10:00"),
        **kw,
    )


def _inv(
    company: str,
    n: int,
    amount: float,
    list_amount: float | None,
    family: str,
    day: str = "2025-03-01",
) -> list[Activity]:
    return [
        _act(
            "invoice",
            day,
            company_id=company,
            amount=amount,
            list_amount=list_amount,
            product_family=family,
        )
        for _ in range(n)
    ]


def book() -> Dataset:
    """10 companies (K01 heads a chain of K02-K04), 12 contacts, their activities and potentials."""
    companies = [
        Company(id="K01", name="Chain head", attributes={"planned_visits_90d": 2}),
        Company(id="K02", name="Member 1", parent_id="K01"),  # planned visits unknown
        Company(id="K03", name="Member 2", parent_id="K01"),
        Company(id="K04", name="Member 3", parent_id="K01"),
        Company(id="K05", name="Big", attributes={"planned_visits_90d": 3}),
        Company(id="K06", name="No data", attributes={"planned_visits_90d": 2}),
        Company(id="K07", name="Premium", attributes={"planned_visits_90d": 1}),
        Company(id="K08", name="Few invoices", attributes={"planned_visits_90d": 2}),
        Company(id="K09", name="Lapsed"),
        Company(id="K10", name="Small"),
    ]
    contacts = [
        Contact(
            id="P01",
            company_id="K01",
            role="decision_maker",
            department="purchasing",
            first_touch_source="organic_search",
        ),
        Contact(
            id="P02",
            company_id="K02",
            role="influencer",
            department="production",
            first_touch_source="trade_fair",
            lifecycle_stage="subscriber",
        ),
        Contact(
            id="P03",
            company_id="K03",
            role="decision_maker",
            department="finance",
            first_touch_source="referral",
            lifecycle_stage="lead",
        ),
        Contact(id="P04", company_id="K04"),
        Contact(
            id="P05",
            company_id="K05",
            role="decision_maker",
            department="management",
            first_touch_source="paid_search",
            lifecycle_stage="customer",
        ),
        Contact(
            id="P06",
            company_id="K06",
            role="non_decision_maker",
            department="production",
            first_touch_source="email_campaign",
        ),
        Contact(
            id="P07",
            company_id="K02",
            role="decision_maker",
            department="purchasing",
            first_touch_source="social_media",
            lifecycle_stage="former_customer",
        ),
        Contact(
            id="P08",
            company_id="K09",
            role="decision_maker",
            department="purchasing",
            first_touch_source="direct",
        ),
        Contact(
            id="P09",
            company_id="K02",
            role="decision_maker",
            department="management",
            first_touch_source="webinar",
            lifecycle_stage="customer",
        ),
        Contact(
            id="P10",
            company_id="K07",
            role="influencer",
            department="finance",
            first_touch_source="direct",
            lifecycle_stage="prospect",
        ),
        Contact(
            id="P11",
            role="influencer",
            department="production",
            first_touch_source="organic_search",
        ),
        Contact(
            id="P12",
            company_id="K08",
            role="non_decision_maker",
            department="other",
            first_touch_source="partner_portal",
            lifecycle_stage="lead",
        ),
    ]
    acts: list[Activity] = [
        # Revenue (12m): K05 1000, K08 500, K01 400, K02 300, K06 300, K07 300, K10 100.
        *_inv("K01", 4, 100, 100, "hydraulics"),  # ratio 1.0
        *_inv("K02", 3, 100, 125, "pneumatics"),  # ratio 0.8
        *_inv("K05", 4, 200, 250, "hydraulics"),  # ratio 1000/1250 = 0.8
        *_inv("K05", 1, 200, 250, "pneumatics"),
        *_inv("K06", 3, 100, None, "filtration"),  # no list prices: ratio unknown
        *_inv("K07", 3, 100, 100, "hydraulics"),  # ratio 1.0
        *_inv("K08", 2, 250, 250, "hydraulics"),  # only 2 invoices
        *_inv("K08", 1, 999, 999, "hydraulics", day="2025-07-02"),  # after as_of: ignored
        *_inv("K09", 1, 500, 500, "hydraulics", day="2022-06-01"),  # 1125 days before as_of
        *_inv("K10", 1, 100, 100, "filtration"),
        # Visits in the 90-day window (2025-04-01, 2025-06-30].
        _act("visit", "2025-05-01", company_id="K01"),  # 1 < planned 2
        _act("visit", "2025-04-01", company_id="K05"),  # on the window start: excluded
        _act("visit", "2025-05-10", company_id="K05"),
        _act("visit", "2025-06-01", company_id="K05"),
        _act("visit", "2025-06-30", company_id="K05"),  # on as_of: included -> 3, not < 3
        _act("visit", "2025-06-10", contact_id="P06"),  # contact-only: rolls up to K06 -> 1 < 2
        _act("visit", "2025-06-15", company_id="K08"),
        _act("visit", "2025-06-20", company_id="K08"),
        _act("visit", "2025-07-05", company_id="K08"),  # after as_of
        # Selling steps.
        _act(
            "quote_sent", "2025-02-01", contact_id="P02", amount=5000, product_family="pneumatics"
        ),
        _act("material_sent", "2025-02-01", contact_id="P03", product_family="hydraulics"),
        _act("quote_sent", "2023-01-15", contact_id="P12", amount=800),  # all history counts
        # Events.
        _act("event_registered", "2025-04-01", contact_id="P01", event_code="FAIR2025"),
        _act("event_attended", "2025-05-02", contact_id="P01", event_code="FAIR2025"),
        _act("event_registered", "2025-04-01", contact_id="P02", event_code="FAIR2025"),
        _act("event_registered", "2025-06-01", contact_id="P05", event_code="WEBINAR_Q3"),
        _act("event_attended", "2025-06-20", contact_id="P05", event_code="WEBINAR_Q3"),
        _act("event_attended", "2025-06-20", contact_id="P06", event_code="WEBINAR_Q3"),  # walk-in
        _act("event_registered", "2025-04-01", contact_id="P07", event_code="FAIR2025"),
        _act("event_registered", "2025-06-01", contact_id="P07", event_code="WEBINAR_Q3"),
        _act("event_registered", "2025-05-01", contact_id="P10", event_code="FAIR2025"),
        _act("event_attended", "2025-05-02", contact_id="P10", event_code="FAIR2025"),
        _act("event_registered", "2025-07-10", contact_id="P10", event_code="WEBINAR_Q3"),  # future
        _act("email_opened", "2025-06-01", contact_id="P11", campaign="SPRING25"),
    ]
    jan = dt.date(2025, 1, 1)
    potentials = [
        PurchasePotential(company_id="K01", annual_amount=800, valid_from=jan),
        PurchasePotential(
            company_id="K01", annual_amount=400, valid_from=jan, product_family="hydraulics"
        ),
        PurchasePotential(company_id="K02", annual_amount=600, valid_from=dt.date(2024, 1, 1)),
        PurchasePotential(company_id="K02", annual_amount=1000, valid_from=jan),  # latest wins
        PurchasePotential(company_id="K03", annual_amount=300, valid_from=jan),
        PurchasePotential(
            company_id="K03", annual_amount=300, valid_from=jan, product_family="pneumatics"
        ),
        PurchasePotential(company_id="K04", annual_amount=100, valid_from=jan),
        PurchasePotential(company_id="K05", annual_amount=1500, valid_from=jan),
        PurchasePotential(
            company_id="K05", annual_amount=500, valid_from=jan, product_family="filtration"
        ),
        PurchasePotential(company_id="K07", annual_amount=1000, valid_from=jan),
        PurchasePotential(company_id="K08", annual_amount=500, valid_from=jan),
        PurchasePotential(
            company_id="K09", annual_amount=200, valid_from=dt.date(2025, 8, 1)
        ),  # future
        PurchasePotential(
            company_id="K10", annual_amount=400, valid_from=jan, product_family="hydraulics"
        ),
    ]
    return Dataset.from_records(companies, contacts, potentials, acts)


# ABC by revenue, S = 2900, ranked desc then by id; share before each:
# K05 0 A | K08 1000/2900=.345 A | K01 1500/2900=.517 A | K02 1900/2900=.655 A |
# K06 2200/2900=.759 A | K07 2500/2900=.862 B (ties with K02/K06 at 300, broken by id) |
# K10 2800/2900=.966 C | K03 K04 K09 no_revenue.
# ABC by potential, S = 5600: K05 1500 A | K02 1000 A | K07 1000 A | K01 800 A | K08 500 A (.768) |
# K10 400 B (.857) | K03 300 B (.929) | K04 100 C (.982) | K06, K09 (future potential) unknown.
# Price index, peer group = revenue ABC class. A ratios [0.8 K02, 0.8 K05, 1.0 K01, 1.0 K08]
# (K06 unknown) -> median 0.9: K01 1.11, K02 .89, K05 .89, K08 1.11. B: K07 alone -> 1.0.
# C: K10 -> 1.0. Share of wallet: K01 .5, K02 .3, K03 0, K04 0, K05 .667, K07 .3, K08 1.0,
# K10 100/400=.25, K06 and K09 unknown (no potential valid at as_of).
EXPECTED_COMPANIES: dict[str, dict[str, Any]] = {
    "K01": {"abc_revenue": "A", "abc_potential": "A", "relationship": "guru_disciple",
            "company_tags": ["a_customer_under_visited", "buys_hydraulics_not_pneumatics", "chain_under_penetrated"]},
    "K02": {"abc_revenue": "A", "abc_potential": "A", "relationship": "acquaintance",
            "company_tags": ["chain_under_penetrated"]},
    "K03": {"abc_revenue": "no_revenue", "abc_potential": "B", "relationship": "stranger",
            "company_tags": ["chain_under_penetrated", "cross_sell_pneumatics"]},
    "K04": {"abc_revenue": "no_revenue", "abc_potential": "C", "relationship": "stranger",
            "company_tags": ["chain_under_penetrated"]},
    "K05": {"abc_revenue": "A", "abc_potential": "A", "relationship": "best_friend",
            "company_tags": ["cross_sell_filtration"]},
    "K06": {"abc_revenue": "A", "abc_potential": "unknown", "relationship": "insufficient_data",
            "company_tags": ["a_customer_under_visited"]},
    "K07": {"abc_revenue": "B", "abc_potential": "A", "relationship": "one_night_stand",
            "company_tags": ["buys_hydraulics_not_pneumatics"]},
    "K08": {"abc_revenue": "A", "abc_potential": "A", "relationship": "insufficient_data",
            "company_tags": ["buys_hydraulics_not_pneumatics"]},
    "K09": {"abc_revenue": "no_revenue", "abc_potential": "unknown", "relationship": "stranger",
            "company_tags": []},
    "K10": {"abc_revenue": "C", "abc_potential": "B", "relationship": "insufficient_data",
            "company_tags": ["cross_sell_hydraulics"]},
}  # fmt: skip

EXPECTED_CONTACTS: dict[str, dict[str, Any]] = {
    "P01": {"first_touch_channel": "search", "persona": "key_account_buyer", "lifecycle": "customer",
            "event_tags": ["attended_FAIR2025"]},
    "P02": {"first_touch_channel": "events", "persona": "technical_influencer", "lifecycle": "customer",
            "event_tags": ["invited_not_attended_FAIR2025"]},
    "P03": {"first_touch_channel": "referral", "persona": "unassigned", "lifecycle": "prospect",
            "event_tags": []},
    "P04": {"first_touch_channel": "unknown_source", "persona": "unassigned", "lifecycle": "lead",
            "event_tags": []},
    "P05": {"first_touch_channel": "search", "persona": "loyal_decision_maker", "lifecycle": "customer",
            "event_tags": ["attended_WEBINAR_Q3"]},
    "P06": {"first_touch_channel": "campaigns", "persona": "unassigned", "lifecycle": "customer",
            "event_tags": ["attended_WEBINAR_Q3"]},
    "P07": {"first_touch_channel": "campaigns", "persona": "key_account_buyer", "lifecycle": "customer",
            "event_tags": ["invited_not_attended_FAIR2025", "invited_not_attended_WEBINAR_Q3"]},
    "P08": {"first_touch_channel": "sales", "persona": "unassigned", "lifecycle": "former_customer",
            "event_tags": []},
    "P09": {"first_touch_channel": "events", "persona": "price_driven_decision_maker", "lifecycle": "customer",
            "event_tags": []},
    "P10": {"first_touch_channel": "sales", "persona": "influencer", "lifecycle": "customer",
            "event_tags": ["attended_FAIR2025"]},
    "P11": {"first_touch_channel": "search", "persona": "technical_influencer", "lifecycle": "lead",
            "event_tags": []},
    "P12": {"first_touch_channel": "unknown_source", "persona": "unassigned", "lifecycle": "customer",
            "event_tags": []},
}  # fmt: skip


@pytest.fixture(scope="module")
def model() -> Any:
    return load_model(MODEL)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return book()


def _as_dicts(frame: Any) -> dict[str, dict[str, Any]]:
    return {row.pop("id"): row for row in frame.to_dicts()}


@pytest.mark.parametrize("path", ["vectorised", "reference"])
def test_every_company_value_matches_the_hand_computed_table(
    model: Any, dataset: Dataset, path: str
) -> None:
    """Every company output (ABC x2, relationship, tags) equals the hand-written expectation."""
    run = evaluate if path == "vectorised" else evaluate_reference
    ev = run(model, dataset, as_of=AS_OF)
    assert _as_dicts(ev.results["company"]) == EXPECTED_COMPANIES


@pytest.mark.parametrize("path", ["vectorised", "reference"])
def test_every_contact_value_matches_the_hand_computed_table(
    model: Any, dataset: Dataset, path: str
) -> None:
    """Every contact output (channel, persona, lifecycle, event tags) equals the expectation."""
    run = evaluate if path == "vectorised" else evaluate_reference
    ev = run(model, dataset, as_of=AS_OF)
    assert _as_dicts(ev.results["contact"]) == EXPECTED_CONTACTS


def test_rule_statistics_count_raw_kept_and_unknown(model: Any, dataset: Dataset) -> None:
    """Relationship stats: raw matches before priority, kept, and unknowns (nulls never match)."""
    ev = evaluate(model, dataset, as_of=AS_OF)
    stats = {s.rule: (s.raw, s.kept, s.unknown) for s in ev.stats_for("relationship")}
    # stranger: K03 K04 K09. insufficient_data raw: K03 K04 (price index unknown) K06 K08 K09 K10.
    # guru_disciple: true for K01 and K08 (K08 kept by insufficient_data); unknown for K06, K09.
    assert stats["stranger"] == (3, 3, 0)
    assert stats["insufficient_data"] == (6, 3, 0)
    assert stats["guru_disciple"] == (2, 1, 2)
    # Several rules true before priority: K01 (guru, best_friend, one_night_stand), K03, K04, K09
    # (stranger, insufficient), K08 (insufficient, guru, ...), K10 (insufficient, one_night_stand).
    relationship = ev.set_stats["relationship"]
    assert relationship.multi_match == 6
    assert relationship.multi_match_ids == ("K01", "K03", "K04", "K08", "K09")
    assert relationship.no_match == 1  # K02 -> acquaintance
    # Fired: quote/material P02 P03 P12; first invoice P01 P02 P06 P08 P10 P12; lapsed P08;
    # won back (backward) P07.
    lifecycle = {s.rule: s.kept for s in ev.stats_for("lifecycle")}
    assert lifecycle == {
        "quote_or_material_sent": 3,
        "first_invoice": 6,
        "lapsed": 1,
        "won_back": 1,
    }


def test_cutoffs_are_stored_with_the_run(model: Any, dataset: Dataset) -> None:
    """ABC totals and peer medians are part of the evaluation, for the run record."""
    ev = evaluate(model, dataset, as_of=AS_OF)
    assert ev.cutoffs["abc_revenue"]["total"] == 2900.0
    assert ev.cutoffs["abc_revenue"]["classes"]["A"]["records"] == 5
    assert ev.cutoffs["abc_revenue"]["classes"]["A"]["min_value"] == 300.0
    assert ev.cutoffs["abc_potential"]["total"] == 5600.0
    assert ev.cutoffs["price_index"]["medians"] == {"A": 0.9, "B": 1.0, "C": 1.0}


def test_chain_share_and_nulls_in_the_working_frame(model: Any, dataset: Dataset) -> None:
    """Chain members share 1/3; companies outside a chain and unknown ratios stay null."""
    frame = evaluate(model, dataset, as_of=AS_OF).frames["company"]
    rows = {r["id"]: r for r in frame.to_dicts()}
    assert rows["K01"]["chain_trading_share"] == pytest.approx(1 / 3)
    assert rows["K04"]["chain_trading_share"] == pytest.approx(1 / 3)
    assert rows["K05"]["chain_trading_share"] is None
    assert rows["K06"]["share_of_wallet"] is None
    assert rows["K06"]["price_index"] is None
    assert rows["K08"]["share_of_wallet"] == 1.0
    assert rows["K09"]["potential_annual"] is None
    assert rows["K05"]["visits_90d"] == 3.0
    assert rows["K06"]["visits_90d"] == 1.0


def test_evaluation_is_deterministic(model: Any, dataset: Dataset) -> None:
    """Same data, model and as_of give identical results and statistics."""
    a = evaluate(model, dataset, as_of=AS_OF)
    b = evaluate(model, dataset, as_of=AS_OF)
    for entity in ("company", "contact"):
        assert a.results[entity].equals(b.results[entity])
    assert a.rule_stats == b.rule_stats
    assert a.fingerprint == b.fingerprint == model.fingerprint
