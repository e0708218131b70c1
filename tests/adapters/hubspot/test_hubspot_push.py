"""Push against the sandbox: 207, whole-batch 400 isolation, tag sets, lifecycle, batch limit."""

from __future__ import annotations

import pytest

from crm_sync.adapters.base import PropertyUpdate, RecordUpdate, TagUpdate


def _contacts(sandbox, n, **props):
    return [
        sandbox.state.create("contacts", {"email": f"p{i}@x.example", **props}).id for i in range(n)
    ]


def test_batch_207_rejects_missing_records_and_writes_the_rest(adapter, sandbox):
    """A 207 names the unknown id: it is rejected with HubSpot's message, the others land."""
    ids = _contacts(sandbox, 3)
    updates = [
        RecordUpdate("contact", rid, (PropertyUpdate("crm_persona", None, "influencer"),))
        for rid in [*ids, "999999"]
    ]
    result = adapter.push(updates)
    assert sorted(result.accepted) == sorted(ids)
    assert [r.record_id for r in result.rejected] == ["999999"]
    assert "OBJECT_NOT_FOUND" in result.rejected[0].reason
    assert sandbox.state.objects["contacts"][ids[0]].props["crm_persona"] == "influencer"
    assert adapter.pusher.write_calls == 1


def test_whole_batch_400_isolates_the_bad_record_by_value(adapter, sandbox):
    """An invalid option fails the whole batch; only the record holding it is dead-lettered."""
    ids = _contacts(sandbox, 5)
    updates = [
        RecordUpdate("contact", rid, (PropertyUpdate("lifecyclestage", None, "lead"),))
        for rid in ids
    ]
    updates[2] = RecordUpdate("contact", ids[2], (PropertyUpdate("lifecyclestage", None, "bogus"),))
    result = adapter.push(updates)
    assert [r.record_id for r in result.rejected] == [ids[2]]
    assert "INVALID_OPTION" in result.rejected[0].reason
    assert "bogus was not one of the allowed options" in result.rejected[0].reason
    assert sorted(result.accepted) == sorted(ids[:2] + ids[3:])
    assert adapter.pusher.write_calls == 2  # the 400, then one resend without the culprit


def test_whole_batch_400_without_a_named_value_isolates_by_property(adapter, sandbox):
    """An invalid e-mail (no value in the message) still rejects only the record writing it."""
    ids = _contacts(sandbox, 4)
    updates = [
        RecordUpdate("contact", rid, (PropertyUpdate("firstname", None, "Ann"),)) for rid in ids
    ]
    updates[1] = RecordUpdate("contact", ids[1], (PropertyUpdate("email", None, "not-an-email"),))
    result = adapter.push(updates)
    assert [r.record_id for r in result.rejected] == [ids[1]]
    assert "INVALID_EMAIL" in result.rejected[0].reason
    assert len(result.accepted) == 3


def test_tag_diff_preserves_values_crm_sync_does_not_own(adapter, sandbox):
    """A hand-set tag added after the last pull survives: the set is re-read and diffed per value."""
    prop = sandbox.state.properties["contacts"]["crm_event_tags"]
    prop.options.append(
        {"label": "Manual", "value": "manual_tag", "displayOrder": 9, "hidden": False}
    )
    (rid,) = _contacts(sandbox, 1, crm_event_tags="attended_fair2025")
    sandbox.state.write(
        sandbox.state.objects["contacts"][rid], {"crm_event_tags": "attended_fair2025;manual_tag"}
    )
    change = TagUpdate(
        "crm_event_tags",
        add=frozenset({"attended_webinar_q3"}),
        remove=frozenset({"attended_fair2025"}),
        result=frozenset({"attended_webinar_q3"}),  # what the engine saw before the hand edit
    )
    result = adapter.push([RecordUpdate("contact", rid, (change,))])
    assert result.accepted == (rid,)
    stored = sandbox.state.objects["contacts"][rid].props["crm_event_tags"]
    assert set(stored.split(";")) == {"attended_webinar_q3", "manual_tag"}


def test_tag_value_missing_from_options_is_provisioned_before_writing(adapter, sandbox):
    """A tag value that is not yet an option is added to the property, then written."""
    (rid,) = _contacts(sandbox, 1)
    change = TagUpdate(
        "crm_event_tags", frozenset({"brand_new"}), frozenset(), frozenset({"brand_new"})
    )
    assert adapter.push([RecordUpdate("contact", rid, (change,))]).accepted == (rid,)
    options = {o["value"] for o in sandbox.state.properties["contacts"]["crm_event_tags"].options}
    assert "brand_new" in options


def test_lifecycle_backwards_is_clear_then_set(adapter, sandbox):
    """Moving lifecyclestage back is two requests (clear, then set) and lands in the CRM."""
    (rid,) = _contacts(sandbox, 1, lifecyclestage="customer")
    change = PropertyUpdate("lifecyclestage", "customer", "lead")
    result = adapter.push([RecordUpdate("contact", rid, (change,))])
    assert result.accepted == (rid,)
    assert sandbox.state.objects["contacts"][rid].props["lifecyclestage"] == "lead"
    assert adapter.pusher.write_calls == 2


def test_lifecycle_forward_is_one_request(adapter, sandbox):
    """A forward move is a plain write."""
    (rid,) = _contacts(sandbox, 1, lifecyclestage="lead")
    adapter.push(
        [RecordUpdate("contact", rid, (PropertyUpdate("lifecyclestage", "lead", "customer"),))]
    )
    assert sandbox.state.objects["contacts"][rid].props["lifecyclestage"] == "customer"
    assert adapter.pusher.write_calls == 1


def test_batches_over_100_are_refused_client_side(adapter):
    """HubSpot's 100-per-batch limit is enforced before sending (the spec has no maxItems)."""
    updates = [
        RecordUpdate("contact", str(i), (PropertyUpdate("firstname", None, "x"),))
        for i in range(101)
    ]
    with pytest.raises(ValueError, match="at most 100"):
        adapter.push(updates)
