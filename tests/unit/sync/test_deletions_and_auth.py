"""Records the CRM archived leave the sync; refused credentials stop a push without bisecting."""

from __future__ import annotations

import pytest

from crm_sync.errors import AuthError
from crm_sync.store import data
from crm_sync.sync import run_sync


def _live_ids(store, entity: str) -> set[str]:
    with store.begin() as conn:
        dataset = data.load_dataset(conn, "memory-1", None, None)
    frame = dataset.companies if entity == "company" else dataset.contacts
    return set(frame["id"].to_list())


def test_archived_contact_is_no_longer_evaluated_or_pushed(
    adapter, store, computer, options, mapping_for
):
    """A contact archived in the CRM is marked deleted, dropped from evaluation, and never written."""
    mapping = mapping_for()
    run_sync(adapter, mapping, computer, store, options)
    adapter.archive("contact", "p2-1")
    writes_before = len(adapter.writes)
    record = run_sync(adapter, mapping, computer, store, options)
    assert record.counts["deleted_contact"] == 1
    assert "p2-1" not in _live_ids(store, "contact")
    assert all(w[1] != "p2-1" for w in adapter.writes[writes_before:])
    assert run_sync(adapter, mapping, computer, store, options).counts.get("write_calls", 0) == 0


def test_archived_company_recomputes_its_contacts(adapter, store, computer, options, mapping_for):
    """Archiving a company takes it out of evaluation and recomputes the contacts that read it."""
    mapping = mapping_for()
    run_sync(adapter, mapping, computer, store, options)
    adapter.archive("company", "co2")
    record = run_sync(adapter, mapping, computer, store, options)
    assert record.counts["deleted_company"] == 1
    assert record.counts["recompute_contact"] == 3
    assert "co2" not in _live_ids(store, "company")


def test_auth_error_during_push_is_not_bisected(adapter, store, computer, options, mapping_for):
    """A 401 after refresh is no record's fault: one push call, then the run stops with AuthError."""
    adapter.script_on = frozenset({"push:company"})
    adapter.script = [AuthError("token refused", crm="memory", status=401)]
    with pytest.raises(AuthError):
        run_sync(adapter, mapping_for(), computer, store, options)
    assert adapter.api_calls()["push:company"] == 1
