"""Pushes against the sandbox: collections, per-record results, locks, session expiry, routing."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest

from crm_sync.adapters.base import PropertyUpdate, RecordUpdate, TagUpdate
from crm_sync.adapters.salesforce.adapter import SalesforceAdapter
from crm_sync.sandbox.faults import FaultPlan
from crm_sync.sandbox.salesforce.app import SalesforceSandbox
from crm_sync.sandbox.salesforce.schema import FieldDef


def contacts(sandbox: SalesforceSandbox, n: int, obj: str = "Contact") -> list[str]:
    org = sandbox.state
    extra = {"Company": "Acme"} if obj == "Lead" else {}
    with org.lock:
        return [org.insert_system(obj, {"LastName": f"P{i}", **extra}) for i in range(n)]


def persona(ids: list[str], value: str = "Influencer") -> list[RecordUpdate]:
    return [RecordUpdate("contact", i, (PropertyUpdate("Persona__c", None, value),)) for i in ids]


def collection_calls(sandbox: SalesforceSandbox) -> int:
    endpoints = sandbox.stats.snapshot()["endpoints"]
    return sum(
        n
        for k, n in endpoints.items()
        if k.endswith("/composite/sobjects") and k.startswith("PATCH")
    )


def count_updates(sandbox: SalesforceSandbox, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    writes: Counter[str] = Counter()
    real = sandbox.state.update

    def spy(sobject: str, record_id: str, data: dict[str, Any], user: str) -> None:
        real(sobject, record_id, data, user)
        writes[record_id] += 1

    monkeypatch.setattr(sandbox.state, "update", spy)
    return writes


def test_collections_report_each_record(
    provisioned: SalesforceAdapter, sandbox: SalesforceSandbox
) -> None:
    """A 200 answer with mixed SaveResults becomes accepted ids plus rejections with statusCode."""
    ids = contacts(sandbox, 3)
    missing = "003" + "0" * 12 + "AAA"
    result = provisioned.push(persona([*ids, missing]))
    assert set(result.accepted) == set(ids)
    assert [r.record_id for r in result.rejected] == [missing]
    assert result.rejected[0].code in {"INVALID_CROSS_REFERENCE_KEY", "MALFORMED_ID"}


def test_ten_thousand_contacts_take_at_most_51_collection_calls(
    make_adapter: Any, sandbox: SalesforceSandbox, mapping: Any
) -> None:
    """Acceptance: 10,000 changed contacts → ≤ 1.02 × ceil(10,000/200) write calls via collections."""
    adapter = make_adapter(bulk_threshold=None)  # collections only: max_batch is 200
    adapter.apply_provision(adapter.plan_provision(mapping))
    ids = contacts(sandbox, 10_000)
    before = collection_calls(sandbox)
    accepted = 0
    updates = persona(ids, "Key_Account_Buyer")
    for start in range(0, len(updates), adapter.max_batch):
        result = adapter.push(updates[start : start + adapter.max_batch])
        accepted += len(result.accepted)
        assert not result.rejected
    calls = collection_calls(sandbox) - before
    assert accepted == 10_000
    assert calls <= 1.02 * math.ceil(10_000 / 200)
    assert calls == 50
    assert adapter.api_calls()["composite/sobjects"] == 50


def test_lock_errors_are_retried_for_just_those_records(
    provisioned: SalesforceAdapter,
    sandbox: SalesforceSandbox,
    monkeypatch: pytest.MonkeyPatch,
    slept: list[float],
) -> None:
    """UNABLE_TO_LOCK_ROW on one record re-sends that record alone; the other 199 are written once."""
    ids = contacts(sandbox, 200)
    writes = count_updates(sandbox, monkeypatch)
    sandbox.faults.set_plan(
        FaultPlan.model_validate(
            {
                "rules": [
                    {
                        "api": "salesforce",
                        "path": "composite/sobjects$",
                        "method": "PATCH",
                        "kind": "lock_error",
                        "count": 2,
                    }
                ]
            }
        )
    )
    result = provisioned.push(persona(ids))
    assert sorted(result.accepted) == sorted(ids)
    assert not result.rejected
    assert all(n == 1 for n in writes.values())
    assert len(writes) == 200
    assert (
        collection_calls(sandbox) == 3
    )  # the batch, then the locked record twice (2nd lock), alone
    assert slept  # backed off between attempts


def test_lock_errors_that_persist_are_rejected_per_record(
    provisioned: SalesforceAdapter, sandbox: SalesforceSandbox
) -> None:
    """When the lock never clears, only that record is rejected with UNABLE_TO_LOCK_ROW."""
    ids = contacts(sandbox, 5)
    sandbox.faults.set_plan(
        FaultPlan.model_validate(
            {
                "rules": [
                    {
                        "api": "salesforce",
                        "path": "composite/sobjects$",
                        "method": "PATCH",
                        "kind": "lock_error",
                    }
                ]
            }
        )
    )
    result = provisioned.push(persona(ids))
    assert len(result.accepted) == 4
    assert [r.code for r in result.rejected] == ["UNABLE_TO_LOCK_ROW"]


@pytest.mark.parametrize("sandbox_options", [{"session_ttl_calls": 1_000_000}])
def test_expired_session_mid_push_refreshes_without_loss_or_duplicates(
    make_adapter: Any,
    sandbox: SalesforceSandbox,
    oauth_tokens: Any,
    mapping: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The session expires between collection calls: one refresh, every record written exactly once."""
    tokens = oauth_tokens()
    adapter = make_adapter(tokens, bulk_threshold=None)
    adapter.apply_provision(adapter.plan_provision(mapping))
    ids = contacts(sandbox, 1000)
    writes = count_updates(sandbox, monkeypatch)
    sandbox.faults.set_plan(
        FaultPlan.model_validate(
            {
                "rules": [
                    {
                        "api": "salesforce",
                        "path": "composite/sobjects$",
                        "method": "PATCH",
                        "kind": "session_expiry",
                        "after_calls": 2,
                        "count": 1,
                    }
                ]
            }
        )
    )
    accepted: list[str] = []
    updates = persona(ids, "Unassigned")
    for start in range(0, 1000, 200):
        accepted += adapter.push(updates[start : start + 200]).accepted
    assert sorted(accepted) == sorted(ids)
    assert len(writes) == 1000
    assert set(writes.values()) == {1}
    assert tokens.refreshes == 2  # the first token, then exactly one refresh
    assert adapter.client.refreshes == 1


def test_unknown_restricted_values_are_provisioned_before_writing(
    provisioned: SalesforceAdapter, sandbox: SalesforceSandbox
) -> None:
    """A value missing from a restricted picklist is added through the Metadata API, then written."""
    ids = contacts(sandbox, 2)
    result = provisioned.push(persona(ids, "Brand_New_Persona"))
    assert sorted(result.accepted) == sorted(ids)
    field = sandbox.state.schema["Contact"].fields["Persona__c"]
    assert "Brand_New_Persona" in field.picklist
    assert field.restricted
    assert "Influencer" in field.picklist  # existing values kept


def test_multiselect_keeps_values_crm_sync_does_not_own(
    provisioned: SalesforceAdapter, sandbox: SalesforceSandbox
) -> None:
    """Per-value diff: adding one tag and removing another keeps a hand-set value."""
    (cid,) = contacts(sandbox, 1)
    sandbox.state.records["Contact"][cid]["CRM_Sync_Event_Tags__c"] = (
        "Attended_FAIR2025;Attended_WEBINAR_Q3"
    )
    change = TagUpdate(
        "CRM_Sync_Event_Tags__c",
        add=frozenset({"Invited_Not_Attended_WEBINAR_Q3"}),
        remove=frozenset({"Attended_FAIR2025"}),
        result=frozenset({"Attended_WEBINAR_Q3", "Invited_Not_Attended_WEBINAR_Q3"}),
    )
    assert provisioned.push([RecordUpdate("contact", cid, (change,))]).accepted == (cid,)
    stored = sandbox.state.records["Contact"][cid]["CRM_Sync_Event_Tags__c"]
    assert set(stored.split(";")) == {"Attended_WEBINAR_Q3", "Invited_Not_Attended_WEBINAR_Q3"}


def test_leads_are_routed_to_the_lead_object(
    provisioned: SalesforceAdapter, sandbox: SalesforceSandbox
) -> None:
    """A 00Q id in the contact entity is written to Lead with the same field names."""
    (lead,) = contacts(sandbox, 1, "Lead")
    (contact,) = contacts(sandbox, 1)
    result = provisioned.push(persona([lead, contact], "Influencer"))
    assert sorted(result.accepted) == sorted([lead, contact])
    assert sandbox.state.records["Lead"][lead]["Persona__c"] == "Influencer"
    assert sandbox.state.records["Contact"][contact]["Persona__c"] == "Influencer"


def test_person_accounts_write_contact_fields_as_pc(
    make_adapter: Any, sandbox: SalesforceSandbox, grant_fields: Any
) -> None:
    """With IsPersonAccount on Account, a person's fields go to Account.Field__pc (Gotcha 16)."""
    grant_fields(
        "Account",
        FieldDef("IsPersonAccount", "boolean", createable=False, updateable=False),
        FieldDef(
            "Persona__pc",
            "picklist",
            label="Persona",
            custom=True,
            picklist=("Influencer",),
            restricted=True,
        ),
    )
    org = sandbox.state
    person = org.insert_system("Account", {"Name": "Jo Person", "IsPersonAccount": True})
    adapter = make_adapter()
    result = adapter.push(persona([person]))
    assert result.accepted == (person,)
    assert org.records["Account"][person]["Persona__pc"] == "Influencer"
    page = next(adapter.pull("contacts", None, properties=["Persona__c"], page_size=10))
    assert page.current[person] == {"Persona__c": "Influencer"}
    assert [c.id for c in page.contacts] == [person]
