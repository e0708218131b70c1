"""Shared fixtures: a small fake CRM, a mapping for the fake computer's outputs, a temp store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crm_sync.adapters.memory import InMemoryAdapter
from crm_sync.mapping.load import MappingFile, parse_mapping
from crm_sync.model import Activity, Company, Contact
from crm_sync.store.sql import Store
from crm_sync.sync import FakeComputer, RunOptions

MAPPING = """\
version: 1
crm: hubspot
properties:
  company:
    tier:
      property: crm_tier
      label: Tier
      write_policy: {tier_policy}
      options:
        A: {{value: a, label: A}}
        B: {{value: b, label: B}}
        C: {{value: c, label: C}}
  contact:
    stage:
      property: crm_stage
      label: Stage
      write_policy: {stage_policy}
      options:
        lead: {{value: lead, label: Lead}}
        prospect: {{value: prospect, label: Prospect}}
        customer: {{value: customer, label: Customer}}
    tags:
      property: crm_tags
      label: Tags
      field_type: checkbox
      write_policy: {tags_policy}
      options:
        active: {{value: active, label: Active}}
        vip: {{value: vip, label: VIP}}
"""

AS_OF = dt.date(2025, 6, 1)


def make_mapping(
    tier: str = "overwrite", stage: str = "overwrite", tags: str = "overwrite"
) -> MappingFile:
    return parse_mapping(
        MAPPING.format(tier_policy=tier, stage_policy=stage, tags_policy=tags), "test.yaml"
    )


def seed(adapter: InMemoryAdapter, companies: int = 3, contacts_per: int = 3) -> None:
    comps = [Company(id=f"co{i}", name=f"Co {i}") for i in range(companies)]
    people = [
        Contact(id=f"p{i}-{j}", company_id=f"co{i}", email=f"p{i}{j}@x.test")
        for i in range(companies)
        for j in range(contacts_per)
    ]
    acts = []
    for i in range(companies):
        for k in range(i + 1):
            acts.append(
                Activity(
                    id=f"a{i}-{k}",
                    type="visit",
                    occurred_at=dt.datetime(2025, 5, 1, tzinfo=dt.UTC),
                    company_id=f"co{i}",
                )
            )
    acts.append(
        Activity(
            id="o1",
            type="order",
            occurred_at=dt.datetime(2025, 5, 2, tzinfo=dt.UTC),
            contact_id="p0-0",
            company_id=None,
        )
    )
    adapter.seed(companies=comps, contacts=people, activities=acts)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(path=tmp_path / "state.sqlite")
    yield s
    s.close()


@pytest.fixture
def adapter() -> InMemoryAdapter:
    a = InMemoryAdapter()
    seed(a)
    return a


@pytest.fixture
def options() -> RunOptions:
    slept: list[float] = []
    return RunOptions(as_of=AS_OF, sleep=slept.append, page_size=4)


@pytest.fixture
def computer() -> FakeComputer:
    return FakeComputer()


@pytest.fixture
def mapping_for():
    return make_mapping
