"""Vectorised metrics equal the per-record reference to the bit, on awkward amounts.

Every aggregate, where-filter, window, parameter and contact roll-up of the metric language, over
amounts such as 0.1, 1e16 and -0.0 where summation order and division rounding show: a one-ulp
difference can flip a threshold, so "equal" here means the same IEEE-754 bits.
"""

from __future__ import annotations

import datetime as dt
import math
import struct

from activity_strategies import draw_activities
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_sync.model.activities import ActivityType
from crm_sync.model.frames import Dataset
from crm_sync.model.records import Company, Contact
from crm_sync.rules.engine import evaluate
from crm_sync.rules.load import load_model_text
from crm_sync.rules.reference import evaluate_reference

AS_OF = dt.date(2025, 6, 30)
TEXT = """
version: 1
ruleset: fuzz
metrics:
  company:
    m_sum: {agg: sum, types: [invoice, order], of: amount, window: 12m}
    m_sum_fc: {agg: sum, types: [invoice], of: list_amount, from_contacts: true}
    m_avg: {agg: avg, types: [invoice], of: amount}
    m_avg_fc: {agg: avg, types: [invoice], of: amount, window: 90d, from_contacts: true}
    m_cnt: {agg: count, types: [invoice, visit], where: {product_family: [hydraulics, pneumatics]}}
    m_cnt_fc: {agg: count, types: [visit], from_contacts: true, window: 2y}
    m_ex: {agg: exists, types: [visit], window: 30d}
    m_min: {agg: min_date, types: [invoice, visit]}
    m_max: {agg: max_date, types: [visit], window: 1y}
    m_ds: {agg: days_since, types: [invoice], from_contacts: true}
    m_ratio: {agg: ratio, types: [invoice], of: amount, over: list_amount, window: 12m}
    m_ratio_fc: {agg: ratio, types: [invoice, order], of: list_amount, over: amount, from_contacts: true}
    m_fam: {agg: sum, types: [invoice], of: amount, params: [product_family]}
  contact:
    c_sum: {agg: sum, types: [invoice], of: amount}
    c_avg: {agg: avg, types: [invoice], of: list_amount, window: 6m}
    c_ev: {agg: exists, types: [event_attended], params: [event_code]}
    c_cnt: {agg: count, types: [event_registered, event_attended], where: {event_code: [FAIR2025]}}
    c_min: {agg: min_date, types: [event_registered]}
    c_ratio: {agg: ratio, types: [invoice], of: amount, over: list_amount}
derived:
  company:
    d: {expr: 'coalesce(m_sum, 0) + coalesce(m_fam("hydraulics"), 0) + coalesce(m_fam("pneumatics"), 0)'}
tags:
  tg:
    entity: company
    rules:
      - {id: z1, when: 'm_sum > 0.3'}
      - {id: a1, when: 'm_sum_fc > 0.3'}
      - {id: m1, when: 'm_avg > 0.1'}
      - {id: b2, when: 'm_ratio > 1'}
      - {id: b1, when: 'm_ex'}
      - {id: a0, when: 'm_ds > 100'}
      - {id: q0, when: 'm_cnt > 1'}
      - {id: q1, when: 'm_cnt_fc > 1'}
      - {id: q2, when: 'm_ratio_fc > 1'}
      - {id: q3, when: 'm_avg_fc > 0.2'}
      - {id: q4, when: 'm_max > m_min'}
      - {id: c0, when: 'd > 0.6'}
  ctg:
    entity: contact
    rules:
      - {id: x, when: 'c_sum > 0.2'}
      - {id: y, when: 'c_ev("FAIR2025")'}
      - {id: w, when: 'c_avg > 0.1'}
      - {id: v, when: 'c_cnt >= 1 and c_ratio > 0.5'}
"""
MODEL = load_model_text(TEXT, "fuzz.yaml")
money = st.one_of(
    st.none(),
    st.sampled_from([0.1, 0.2, 0.3, -0.0, 0.0, 1e16, -1e16, 1 / 3, 2.5, -0.1, 7e-3, 123456.789]),
)
days = st.integers(-60, 900).map(lambda n: AS_OF - dt.timedelta(days=n))


@st.composite
def datasets(draw):
    cids = [f"K{i}" for i in range(draw(st.integers(1, 5)))]
    companies = [Company(id=c) for c in cids]
    pids = [f"P{i}" for i in range(draw(st.integers(0, 6)))]
    contacts = [
        Contact(id=p, company_id=draw(st.one_of(st.none(), st.sampled_from(cids)))) for p in pids
    ]
    kinds = [
        ActivityType.INVOICE,
        ActivityType.ORDER,
        ActivityType.VISIT,
        ActivityType.EVENT_REGISTERED,
        ActivityType.EVENT_ATTENDED,
    ]
    acts = draw_activities(
        draw, cids=cids, pids=pids, kinds=kinds, money=money, days=days, max_count=40
    )
    return Dataset.from_records(companies, contacts, (), acts)


def bits(v):
    if isinstance(v, float):
        return ("f", struct.pack("<d", v)) if not math.isnan(v) else ("nan",)
    return v


@given(datasets())
@settings(max_examples=100)
def test_every_metric_is_bit_identical_on_both_evaluators(data):
    """Sums, averages, ratios, dates and counts agree bit for bit, and so do tags and rule stats."""
    fast = evaluate(MODEL, data, as_of=AS_OF)
    slow = evaluate_reference(MODEL, data, as_of=AS_OF)
    for entity in ("company", "contact"):
        assert fast.results[entity].to_dicts() == slow.results[entity].to_dicts()
        f = fast.frames[entity].sort("id")
        s = slow.frames[entity]
        cols = list(MODEL.plans[entity].metrics) + [c for c in f.columns if "(" in c]
        if s.height == 0:
            continue
        s = s.sort("id")
        for c in cols:
            if c not in s.columns:
                continue
            a = [bits(v) for v in f[c].to_list()]
            b = [bits(v) for v in s[c].to_list()]
            assert a == b, (entity, c, f.select("id", c).to_dicts(), s.select("id", c).to_dicts())
    assert fast.rule_stats == slow.rule_stats
