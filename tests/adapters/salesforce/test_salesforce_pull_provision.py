"""Pulls, provisioning and workflows against the sandbox seeded with a generated book."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest

from crm_sync.adapters.base import (
    Cursor,
    PropertyUpdate,
    RecordUpdate,
    SupportsCampaignMembers,
    SupportsFlows,
)
from crm_sync.adapters.salesforce.adapter import SalesforceAdapter
from crm_sync.adapters.salesforce.soql import URI_BUDGET, chunked_in, cursor_where
from crm_sync.sandbox.salesforce.app import SalesforceSandbox
from crm_sync.sandbox.salesforce.errors import SfError
from crm_sync.sandbox.seed import generate_book

PROPS = ["Persona__c", "CRM_Sync_Event_Tags__c"]


@pytest.fixture
def seeded(sandbox: SalesforceSandbox, provisioned: SalesforceAdapter) -> Any:
    """A small generated book loaded into the org."""
    book = generate_book(7, 40)
    sandbox.load_book(book)
    return book


def test_companies_stream_reads_accounts_with_parents(
    provisioned: SalesforceAdapter, seeded: Any
) -> None:
    """Accounts come back in cursor order with ParentId chains and purchase potentials."""
    pages = list(provisioned.pull("companies", None, properties=["Relationship__c"], page_size=7))
    companies = [c for p in pages for c in p.companies]
    assert len(companies) == len(seeded.companies)
    keys = [(c.modified_at, c.id) for c in companies]
    assert keys == sorted(keys)
    assert sum(1 for c in companies if c.parent_id) == sum(
        1 for c in seeded.companies if c.parent_id
    )
    assert any(p.potentials for p in pages)
    assert all(set(v) == {"Relationship__c"} for p in pages for v in p.current.values())


def test_contacts_stream_merges_contacts_and_leads(
    provisioned: SalesforceAdapter, sandbox: SalesforceSandbox, seeded: Any
) -> None:
    """Unconverted Leads join Contacts in one (SystemModstamp, Id)-ordered stream with roles."""
    lead = sandbox.state.insert_system("Lead", {"LastName": "Lead", "Company": "X"})
    pages = list(provisioned.pull("contacts", None, properties=PROPS, page_size=9))
    people = [c for p in pages for c in p.contacts]
    assert len(people) == len(seeded.contacts) + 1
    assert lead in {c.id for c in people}
    keys = [(c.modified_at, c.id) for c in people]
    assert keys == sorted(keys)
    assert any(c.role is not None for c in people)


def test_activities_stream_covers_every_source(provisioned: SalesforceAdapter, seeded: Any) -> None:
    """Tasks, Events, CampaignMembers and won line items with Product2.Family become activities."""
    acts = [
        a
        for p in provisioned.pull("activities", None, properties=[], page_size=500)
        for a in p.activities
    ]
    kinds = Counter(a.type.value for a in acts)
    assert kinds["invoice"] + kinds["order"] > 0
    assert kinds["call"] + kinds["email_sent"] > 0
    assert kinds["event_attended"] + kinds["event_registered"] > 0
    assert any(a.product_family for a in acts if a.type.value in ("invoice", "order"))
    codes = {a.event_code for a in acts if a.event_code}
    assert codes <= {e.code for e in seeded.events}
    assert codes


def test_cursor_resume_rereads_ties_and_sees_deletions(
    provisioned: SalesforceAdapter, sandbox: SalesforceSandbox, clock: Any
) -> None:
    """A closed-start cursor re-reads its own row only; queryAll reports deletions."""
    org = sandbox.state
    ids = [org.insert_system("Contact", {"LastName": f"C{i}"}) for i in range(5)]
    first = list(provisioned.pull("contacts", None, properties=PROPS, page_size=2))
    cursor = first[-1].cursor
    assert cursor is not None
    assert cursor.record_id == max(ids)
    clock.advance(seconds=5)
    org.delete("Contact", ids[0], org.integration_user_id)
    again = list(provisioned.pull("contacts", cursor, properties=PROPS, page_size=10))
    assert [c.id for p in again for c in p.contacts] == [max(ids)]
    assert [d for p in again for d in p.deleted] == [ids[0]]


def test_soql_literals_and_in_chunks_stay_under_the_uri_limit() -> None:
    """format_soql escapes quotes; 5,000 ids split into IN chunks under the URI budget."""
    where = cursor_where(Cursor(dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "003'x"))
    assert "'003\\'x'" in where
    assert "+00:00" in where
    ids = [f"003{i:015d}" for i in range(5_000)]
    queries = list(chunked_in("SELECT Id FROM Contact WHERE {in}", "Id", ids))
    from urllib.parse import quote_plus

    assert len(queries) > 1
    assert all(len(quote_plus(q)) <= URI_BUDGET for q in queries)
    assert sum(q.count("'003") for q in queries) == 5_000


def test_provision_plan_then_apply_makes_fields_visible(
    adapter: SalesforceAdapter, mapping: Any, sandbox: SalesforceSandbox
) -> None:
    """Plan lists every field; apply creates them (Metadata API) and grants FLS; re-plan is empty."""
    plan = adapter.plan_provision(mapping)
    assert {s.action for s in plan.steps} == {"create_or_grant"}
    assert {s.object for s in plan.steps} == {"Account", "Contact", "Lead"}
    assert "Persona__c" not in {f["name"] for f in adapter.client.describe("Contact")["fields"]}
    result = adapter.apply_provision(plan)
    assert len(result.applied) == len(plan.steps)
    assert not result.skipped
    described = {f["name"]: f for f in adapter.client.describe("Contact")["fields"]}
    assert described["CRM_Sync_Event_Tags__c"]["type"] == "multipicklist"
    assert described["Persona__c"]["restrictedPicklist"] is True
    assert not adapter.plan_provision(mapping).steps
    assert adapter.apply_provision(adapter.plan_provision(mapping)).applied == ()  # idempotent


def test_provision_grants_existing_fields_and_reports_drift(
    adapter: SalesforceAdapter, mapping: Any, sandbox: SalesforceSandbox
) -> None:
    """A field that exists without FLS is granted, not recreated; a changed label is drift."""
    adapter.apply_provision(adapter.plan_provision(mapping))
    fls = sandbox.state.records["FieldPermissions"]
    victim = next(r for r in fls.values() if r["Field"] == "Contact.Persona__c")
    victim["IsDeleted"] = True
    sandbox.state.schema["Contact"].fields["Lifecycle_Stage__c"].label = "Renamed by admin"
    sandbox.state.schema["Contact"].fields["Lifecycle_Stage__c"].picklist += ("Admin_Value",)
    plan = adapter.plan_provision(mapping)
    work = [(s.object, s.name) for s in plan.steps if not s.needs_force]
    assert work == [("Contact", "Persona__c")]
    drift = {(d.object, d.name, d.kind) for d in plan.drift}
    assert ("Contact", "Lifecycle_Stage__c", "label") in drift
    assert any("Admin_Value" in d.detail for d in plan.drift)
    assert [s.action for s in plan.steps if s.needs_force] == ["redeclare"]
    result = adapter.apply_provision(plan)
    assert [s.name for s in result.skipped] == ["Lifecycle_Stage__c"]
    assert [(s.object, s.name) for s in result.applied] == [("Contact", "Persona__c")]
    assert sandbox.state.records["FieldPermissions"]  # granted again, not recreated


def test_campaign_members_per_tag_use_the_campaign_status(
    adapter: SalesforceAdapter, sandbox: SalesforceSandbox
) -> None:
    """Members are created with the campaign's default CampaignMemberStatus; re-adding is a no-op."""
    org = sandbox.state
    camp = org.insert_system("Campaign", {"Name": "VIP", "IsActive": True})
    ids = [org.insert_system("Contact", {"LastName": f"M{i}"}) for i in range(3)]
    lead = org.insert_system("Lead", {"LastName": "L", "Company": "Y"})
    assert isinstance(adapter, SupportsCampaignMembers)
    result = adapter.set_campaign_members(camp, [*ids, lead], [])
    assert sorted(result.accepted) == sorted([*ids, lead])
    members = org.rows("CampaignMember")
    assert {m["Status"] for m in members} == {"Sent"}
    assert len(members) == 4
    again = adapter.set_campaign_members(camp, ids[:1], [ids[1]])
    assert set(again.accepted) == {ids[0], ids[1]}
    assert len(org.rows("CampaignMember")) == 3


def test_flow_is_invoked_once_per_record(
    adapter: SalesforceAdapter, sandbox: SalesforceSandbox
) -> None:
    """An autolaunched flow runs per record id; a failed interview is a per-record rejection."""

    def handler(inputs: dict[str, Any]) -> dict[str, Any]:
        if inputs["recordId"] == "bad":
            raise SfError("FLOW_ELEMENT_ERROR", "the flow failed")
        return {}

    sandbox.flows.activate("Tag_Followup", handler)
    assert isinstance(adapter, SupportsFlows)
    result = adapter.invoke_flow("Tag_Followup", ["003A", "bad", "003B"])
    assert result.accepted == ("003A", "003B")
    assert [(r.record_id, r.code) for r in result.rejected] == [("bad", "FLOW_ELEMENT_ERROR")]
    assert [i["recordId"] for _, i in sandbox.flows.invocations] == ["003A", "003B"]


def test_unknown_flow_is_a_permanent_error(adapter: SalesforceAdapter) -> None:
    """Calling an inactive or missing flow fails the call, not a record."""
    from crm_sync.errors import PermanentError

    with pytest.raises(PermanentError, match="NOT_FOUND"):
        adapter.invoke_flow("Nope", ["003A"])


@pytest.mark.parametrize("sandbox_options", [{"daily_limit": 40}])
def test_daily_limit_stops_cleanly_and_concurrency_is_transient(
    provisioned: SalesforceAdapter, sandbox: SalesforceSandbox
) -> None:
    """403 TotalRequests → QuotaExhausted (never retried); 403 ConcurrentRequests → RateLimited."""
    from crm_sync.errors import QuotaExhausted, RateLimited
    from crm_sync.sandbox.faults import FaultPlan

    (cid,) = [sandbox.state.insert_system("Contact", {"LastName": "Q"})]
    sandbox.faults.set_plan(
        FaultPlan.model_validate(
            {"rules": [{"api": "salesforce", "kind": "rate_limit_burst", "count": 1}]}
        )
    )
    with pytest.raises(RateLimited):
        provisioned.push(
            [RecordUpdate("contact", cid, (PropertyUpdate("Persona__c", None, "Influencer"),))]
        )
    sandbox.limits.spend(40)
    with pytest.raises(QuotaExhausted):
        provisioned.push(
            [RecordUpdate("contact", cid, (PropertyUpdate("Persona__c", None, "Influencer"),))]
        )


def test_client_credentials_flow_gets_a_token(
    make_adapter: Any, oauth_tokens: Any, mapping: Any
) -> None:
    """With only client id and secret, the client-credentials grant mints the first token."""
    tokens = oauth_tokens(refresh_token=None)
    adapter = make_adapter(tokens)
    assert tokens.grant == "client_credentials"
    assert adapter.plan_provision(mapping).steps
    assert tokens.refreshes == 1


def test_bad_refresh_token_is_an_auth_error(
    make_adapter: Any, oauth_tokens: Any, mapping: Any
) -> None:
    """The token endpoint's {error, error_description} becomes AuthError with what to check."""
    from crm_sync.errors import AuthError

    adapter = make_adapter(oauth_tokens(refresh_token="revoked"))
    with pytest.raises(AuthError, match="invalid_grant"):
        adapter.plan_provision(mapping)
