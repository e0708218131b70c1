"""Provisioning against the sandbox: plan, apply, idempotency, drift, option safety."""

from __future__ import annotations

from crm_sync.adapters.hubspot.adapter import HubSpotAdapter
from crm_sync.adapters.provisioning import SupportsProvisioning


def test_plan_then_apply_creates_group_unique_ids_and_typed_properties(
    url, sandbox, mapping, client_factory
):
    """The plan lists the group, unique external ids and mapped properties; apply creates them."""
    hub = HubSpotAdapter(client_factory(url), mapping, account="t")
    assert isinstance(hub, SupportsProvisioning)
    plan = hub.plan_provision(mapping)
    actions = {(s.action, s.object, s.name) for s in plan.steps}
    assert ("create_group", "companies", "crm_sync") in actions
    assert ("create_property", "companies", "crm_sync_id") in actions
    assert not sandbox.state.properties["contacts"].get("crm_persona")
    hub.apply_provision(plan)
    tags = sandbox.state.properties["contacts"]["crm_event_tags"]
    assert (tags.type, tags.field_type) == ("enumeration", "checkbox")
    assert all(o["hidden"] is False for o in tags.options)
    assert sandbox.state.properties["companies"]["crm_sync_id"].has_unique_value


def test_apply_is_idempotent(adapter, mapping):
    """Re-planning after an apply finds nothing to do and no drift."""
    plan = adapter.plan_provision(mapping)
    assert plan.steps == ()
    assert plan.drift == ()
    assert adapter.apply_provision(plan).applied == ()


def test_drift_is_reported_not_fixed(adapter, sandbox, mapping):
    """A label changed in the portal shows up as drift and is left alone."""
    sandbox.state.properties["contacts"]["crm_persona"].label = "Edited by admin"
    plan = adapter.plan_provision(mapping)
    kinds = {(d.name, d.kind) for d in plan.drift}
    assert ("crm_persona", "label") in kinds
    adapter.apply_provision(plan)
    assert sandbox.state.properties["contacts"]["crm_persona"].label == "Edited by admin"


def test_missing_option_is_added_keeping_existing_ones(adapter, sandbox, mapping):
    """An option deleted in the portal is re-added with a full-list PATCH; others stay."""
    prop = sandbox.state.properties["contacts"]["crm_persona"]
    prop.options = [o for o in prop.options if o["value"] != "influencer"]
    before = {o["value"] for o in prop.options}
    plan = adapter.plan_provision(mapping)
    assert [(s.action, s.name) for s in plan.steps] == [("add_options", "crm_persona")]
    adapter.apply_provision(plan)
    after = {o["value"] for o in sandbox.state.properties["contacts"]["crm_persona"].options}
    assert after == before | {"influencer"}


def test_option_holding_data_is_removed_only_with_force(adapter, sandbox, mapping):
    """An unmapped option in use needs --force; an unused one is removed by a plain apply."""
    prop = sandbox.state.properties["contacts"]["crm_event_tags"]
    for value in ("manual_used", "manual_unused"):
        prop.options.append({"label": value, "value": value, "displayOrder": 99, "hidden": False})
    sandbox.state.create("contacts", {"email": "a@b.example", "crm_event_tags": "manual_used"})
    plan = adapter.plan_provision(mapping)
    removals = {s.payload["remove"][0]: s.needs_force for s in plan.steps}
    assert removals == {"manual_used": True, "manual_unused": False}
    result = adapter.apply_provision(plan)
    assert [s.payload["remove"] for s in result.skipped] == [["manual_used"]]
    values = {o["value"] for o in prop.options}
    assert "manual_used" in values
    assert "manual_unused" not in values
    adapter.apply_provision(adapter.plan_provision(mapping), force=True)
    assert "manual_used" not in {o["value"] for o in prop.options}
