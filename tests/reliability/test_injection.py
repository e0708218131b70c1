"""Injection: every SOQL literal crm_sync builds is escaped; hostile ids round-trip exactly.

Each query builder is fed ids and names full of quotes, backslashes, LIKE wildcards, newlines and
SOQL keywords, and the SOQL it produces is parsed back by the sandbox's SOQL parser: the parsed
literal must be the original value, character for character, and the query must keep the shape
the builder meant (one comparison, one IN list) — a value can never become SOQL.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from crm_sync.adapters.base import Cursor
from crm_sync.adapters.salesforce.client import soql
from crm_sync.adapters.salesforce.soql import chunked_in, cursor_where
from crm_sync.sandbox.salesforce.soql import BoolOp, Compare, Literal, parse

PIECES = [
    *"abcXYZ019 '\"\\%_*?()=<>,;:-\n\t\ré日",
    "' OR Id != '",
    "\\'",
    "') OR (Name LIKE '%",
    " AND ",
]
HOSTILE = st.lists(st.sampled_from(PIECES), min_size=1, max_size=20).map("".join)

# Every template crm_sync formats with values (provision.py, workflows.py), plus the bare forms.
TEMPLATES = [
    "SELECT Id, CreatedById FROM PermissionSet WHERE Name = {}",
    "SELECT Id FROM PermissionSetAssignment WHERE PermissionSetId = {} AND AssigneeId = {}",
    "SELECT CreatedById FROM PermissionSet WHERE Id = {}",
    "SELECT Field FROM FieldPermissions WHERE ParentId = {}",
    "SELECT Label, IsDefault, SortOrder FROM CampaignMemberStatus WHERE CampaignId = {}",
]


def _compares(node: object) -> list[Compare]:
    if isinstance(node, Compare):
        return [node]
    if isinstance(node, BoolOp):
        return [c for item in node.items for c in _compares(item)]
    return []


@given(record_id=HOSTILE)
def test_cursor_where_escapes_the_record_id(record_id: str) -> None:
    """The incremental-pull cursor keeps a hostile Id as one literal, exactly."""
    stamp = dt.datetime(2025, 5, 1, 12, 30, tzinfo=dt.UTC)
    clause = cursor_where(Cursor(stamp, record_id))
    query = parse(f"SELECT Id FROM Contact WHERE {clause}")
    compares = _compares(query.where)
    assert [c.path.parts for c in compares] == [("SystemModstamp",), ("SystemModstamp",), ("Id",)]
    (last,) = [c for c in compares if c.path.parts == ("Id",)]
    assert isinstance(last.value, Literal)
    assert last.value.value == record_id


@given(values=st.lists(HOSTILE, min_size=1, max_size=30), budget=st.integers(200, 2000))
def test_chunked_in_escapes_every_value_and_loses_none(values: list[str], budget: int) -> None:
    """``IN (...)`` chunks parse back to exactly the values given, in order."""
    template = soql("SELECT Id FROM CampaignMember WHERE CampaignId = {} AND ", "701'x") + "{in}"
    seen: list[str] = []
    for text in chunked_in(template, "ContactId", values, budget=budget):
        compares = _compares(parse(text).where)
        assert [c.path.parts for c in compares] == [("CampaignId",), ("ContactId",)]
        assert compares[0].value.value == "701'x"  # type: ignore[union-attr]
        in_list = compares[1].value
        assert isinstance(in_list, tuple)
        seen.extend(lit.value for lit in in_list)
    assert seen == values


@given(a=HOSTILE, b=HOSTILE, index=st.integers(0, len(TEMPLATES) - 1))
def test_every_query_template_keeps_values_literal(a: str, b: str, index: int) -> None:
    """The provisioning and workflow queries compare each field to the exact value given."""
    template = TEMPLATES[index]
    args = [a, b][: template.count("{}")]
    query = parse(soql(template, *args))
    compares = _compares(query.where)
    assert len(compares) == len(args)
    assert [c.value.value for c in compares] == args  # type: ignore[union-attr]
    assert all(c.op == "=" for c in compares)
