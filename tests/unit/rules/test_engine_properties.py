"""Property tests: the vectorised engine equals the per-record reference on random inputs.

Amounts are whole numbers or halves so float sums are exact whatever the order; with that, the
two paths must agree bit for bit on results, rule statistics, set statistics and cut-offs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from activity_strategies import FAMILIES, draw_activities
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_sync.model.activities import ActivityType
from crm_sync.model.frames import Dataset
from crm_sync.model.records import Activity, Company, Contact, PurchasePotential
from crm_sync.rules.compiled import SegmentationModel
from crm_sync.rules.engine import evaluate
from crm_sync.rules.load import load_model, load_model_text
from crm_sync.rules.reference import evaluate_reference

MODEL = load_model(Path(__file__).resolve().parents[3] / "mappings" / "model.yaml")
AS_OF = dt.date(2025, 6, 30)
STAGES = ["lead", "prospect", "customer", "former_customer", "subscriber", None]
SOURCES = ["organic_search", "trade_fair", "referral", "direct", "social_media", "other", None]
money = st.one_of(st.none(), st.integers(0, 40).map(lambda n: n * 50.0))
days = st.integers(-60, 1200).map(lambda n: AS_OF - dt.timedelta(days=n))


@st.composite
def datasets(draw: st.DrawFn) -> Dataset:
    n_comp = draw(st.integers(1, 8))
    cids = [f"K{i}" for i in range(n_comp)]
    companies = []
    for cid in cids:
        parent = draw(st.one_of(st.none(), st.sampled_from(cids)))
        visits = draw(st.one_of(st.none(), st.integers(0, 4)))
        companies.append(
            Company(
                id=cid,
                parent_id=None if parent == cid else parent,
                attributes={"planned_visits_90d": visits},
            )
        )
    n_cont = draw(st.integers(0, 8))
    pids = [f"P{i}" for i in range(n_cont)]
    contacts = [
        Contact(
            id=pid,
            company_id=draw(st.one_of(st.none(), st.sampled_from(cids))),
            role=draw(
                st.sampled_from(["decision_maker", "influencer", "non_decision_maker", None])
            ),
            department=draw(st.sampled_from(["purchasing", "production", "finance", None])),
            first_touch_source=draw(st.sampled_from(SOURCES)),
            lifecycle_stage=draw(st.sampled_from(STAGES)),
        )
        for pid in pids
    ]
    potentials = [
        PurchasePotential(
            company_id=draw(st.sampled_from(cids)),
            annual_amount=draw(st.integers(0, 20).map(lambda n: n * 100.0)),
            valid_from=draw(days),
            product_family=draw(st.sampled_from(FAMILIES)),
        )
        for _ in range(draw(st.integers(0, 6)))
    ]
    kinds = [
        ActivityType.INVOICE, ActivityType.VISIT, ActivityType.QUOTE_SENT, ActivityType.MATERIAL_SENT,
        ActivityType.EVENT_REGISTERED, ActivityType.EVENT_ATTENDED, ActivityType.EMAIL_OPENED,
    ]  # fmt: skip
    activities = draw_activities(
        draw, cids=cids, pids=pids, kinds=kinds, money=money, days=days, max_count=30
    )
    return Dataset.from_records(companies, contacts, potentials, activities)


def _assert_same(model: SegmentationModel, data: Dataset) -> None:
    fast = evaluate(model, data, as_of=AS_OF)
    slow = evaluate_reference(model, data, as_of=AS_OF)
    for entity in ("company", "contact"):
        assert fast.results[entity].to_dicts() == slow.results[entity].to_dicts(), entity
    assert fast.rule_stats == slow.rule_stats
    assert fast.set_stats == slow.set_stats
    assert fast.cutoffs == slow.cutoffs


@given(datasets())
@settings(max_examples=60)
def test_default_model_vectorised_equals_reference(data: Dataset) -> None:
    """Random books with missing values: both evaluators agree on every output and statistic."""
    _assert_same(MODEL, data)


# -- random rules ---------------------------------------------------------------------------------

_HEADER = """
version: 1
ruleset: random
fields:
  company:
    x: {type: number}
    y: {type: number}
    s: {type: enum, values: [a, b, c]}
    b: {type: bool}
    when_seen: {type: date}
metrics:
  company:
    n_visits: {agg: count, types: [visit], window: 90d}
    spend: {agg: sum, types: [invoice], of: amount, window: 12m}
    last_seen: {agg: max_date, types: [visit]}
"""

numbers = st.recursive(
    st.sampled_from(["x", "y", "n_visits", "spend", "1", "0", "2.5", "v"]),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(st.sampled_from(["least", "greatest", "coalesce"]), inner, inner).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
    ),
    max_leaves=4,
)
atoms = st.one_of(
    st.tuples(numbers, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), numbers).map(" ".join),
    st.sampled_from(['s == "a"', 's in ["b", "c"]', 's not in ["a"]', "b", "not b", "x is null",
                     "s is not null", "when_seen < last_seen", "days_since(last_seen) > 30",
                     "seg == \"r0\"", "seg != \"other\""]),
)  # fmt: skip
conditions = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        inner.map(lambda c: f"not ({c})"),
    ),
    max_leaves=4,
)


def _model_text(derived: str, seg_rules: list[str], tag_rules: list[str], policy: str) -> str:
    seg = "\n".join(f"      - {{id: r{i}, when: '{c}'}}" for i, c in enumerate(seg_rules))
    tags = "\n".join(f"      - {{id: t{i}, when: '{c}'}}" for i, c in enumerate(tag_rules))
    return (
        _HEADER
        + f"derived:\n  company:\n    v: {{expr: '{derived}'}}\n"
        + f"segments:\n  seg:\n    entity: company\n    hit_policy: {policy}\n    rules:\n{seg}\n"
        + "    otherwise: {id: other}\n"
        + f"tags:\n  tg:\n    entity: company\n    rules:\n{tags}\n"
    )


@st.composite
def companies_with_fields(draw: st.DrawFn) -> Dataset:
    n = draw(st.integers(1, 10))
    rows = []
    for i in range(n):
        attrs: dict[str, Any] = {
            "x": draw(st.one_of(st.none(), st.integers(-3, 3).map(float))),
            "y": draw(st.one_of(st.none(), st.sampled_from([0.0, 0.5, 1.0, 2.0]))),
            "s": draw(st.sampled_from(["a", "b", "c", None])),
            "b": draw(st.one_of(st.none(), st.booleans())),
            "when_seen": draw(st.one_of(st.none(), days)),
        }
        rows.append(Company(id=f"C{i}", attributes=attrs))
    acts = []
    for j in range(draw(st.integers(0, 12))):
        day = draw(days)
        kind = draw(st.sampled_from([ActivityType.VISIT, ActivityType.INVOICE]))
        amount = draw(money) if kind is ActivityType.INVOICE else None
        acts.append(
            Activity(id=f"A{j}", type=kind, occurred_at=dt.datetime(day.year, day.month, day.day),
                     company_id=f"C{draw(st.integers(0, n - 1))}", amount=amount)
        )  # fmt: skip
    return Dataset.from_records(rows, (), (), acts)


@given(
    derived=numbers.filter(lambda t: "v" not in t.replace("n_visits", "").replace("least", "")),
    seg_rules=st.lists(conditions, min_size=1, max_size=3),
    tag_rules=st.lists(conditions, min_size=1, max_size=3),
    policy=st.sampled_from(["first", "unique"]),
    data=companies_with_fields(),
)
@settings(max_examples=80)
def test_random_rules_vectorised_equals_reference(
    derived: str, seg_rules: list[str], tag_rules: list[str], policy: str, data: Dataset
) -> None:
    """Random expressions (nulls, x/0, least, Kleene logic) evaluate identically on both paths."""
    seg_rules = [
        r.replace('seg == "r0"', "b").replace('seg != "other"', "not b") for r in seg_rules
    ]
    model = load_model_text(_model_text(derived, seg_rules, tag_rules, policy), "random.yaml")
    _assert_same(model, data)
