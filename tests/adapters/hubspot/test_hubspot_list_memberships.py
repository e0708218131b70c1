"""Pull fields fed by HubSpot list membership (Lists v3), against the sandbox."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from crm_sync.adapters.base import Cursor
from crm_sync.adapters.hubspot.adapter import HubSpotAdapter
from crm_sync.errors import ConfigError
from crm_sync.mapping.load import parse_mapping
from crm_sync.store import schema as t
from crm_sync.store.sql import Store
from crm_sync.sync import FakeComputer, RunOptions, run_sync

EPOCH = Cursor(dt.datetime(2000, 1, 1, tzinfo=dt.UTC), "")
LIST = "Newsletter subscribers"
MAPPING = f"""\
version: 1
crm: hubspot
pull:
  contact:
    newsletter_member: {{list: "{LIST}"}}
    first_touch_source: {{source: hs_analytics_source}}
"""


@pytest.fixture
def hub(url, client_factory):
    """An adapter whose mapping reads one list into ``newsletter_member``."""
    return HubSpotAdapter(client_factory(url), parse_mapping(MAPPING, "m.yaml"), account="lists")


def _contacts(sandbox, n):
    return [sandbox.state.create("contacts", {"email": f"l{i}@lists.example"}) for i in range(n)]


def _manual_list(hub, members):
    body = {"name": LIST, "objectTypeId": "0-1", "processingType": "MANUAL"}
    list_id = str(hub.client.create_list(body).data["list"]["listId"])
    hub.client.list_add(list_id, [c.id for c in members])
    return list_id


def _flags(store, account):
    c = t.records.c
    with store.begin() as conn:
        rows = conn.execute(
            select(c.id, c.data).where(c.account == account, c.entity == "contact")
        ).all()
    return {rid: json.loads(raw)["attributes"].get("newsletter_member") for rid, raw in rows}


def test_pull_ends_with_a_membership_snapshot_full_and_incremental(hub, sandbox):
    """Full and incremental pulls end with one snapshot page; record pages carry no flag."""
    people = _contacts(sandbox, 5)
    list_id = _manual_list(hub, people[:2])
    sandbox.state.create("contacts", {"email": "late@lists.example"})
    for since in (None, EPOCH):
        pages = list(hub.pull("contacts", since, properties=[], page_size=100))
        snapshot = pages[-1]
        assert snapshot.cursor is None
        assert not snapshot.contacts
        assert dict(snapshot.memberships) == {"newsletter_member": {people[0].id, people[1].id}}
        records = [c for p in pages for c in p.contacts]
        assert records
        assert all("newsletter_member" not in c.attributes for c in records)
    assert hub.api_calls()["GET /crm/v3/lists/{id}/memberships"] == 2
    assert list_id


def test_membership_snapshot_reads_every_page(hub, sandbox):
    """Lists larger than one memberships page (250) are read in full through ``after``."""
    with sandbox.state.lock:
        people = _contacts(sandbox, 260)
    _manual_list(hub, people[:255])
    pages = list(hub.pull("contacts", EPOCH, properties=[], page_size=100))
    assert len(pages[-1].memberships["newsletter_member"]) == 255
    assert hub.api_calls()["GET /crm/v3/lists/{id}/memberships"] == 2


def test_missing_list_is_a_config_error_naming_it(hub, sandbox):
    """A pull field naming a list the portal lacks stops the pull with a ConfigError; none is created."""
    _contacts(sandbox, 1)
    with pytest.raises(ConfigError, match=LIST):
        list(hub.pull("contacts", None, properties=[], page_size=100))
    assert not [x for x in sandbox.state.lists.values() if x["name"] == LIST]


def test_list_changes_without_contact_edits_flip_exactly_those_flags(hub, sandbox, tmp_path: Path):
    """Full pull sets flags; a list add/remove alone flips exactly those two, which are recomputed."""
    people = _contacts(sandbox, 6)
    list_id = _manual_list(hub, people[:3])
    store = Store.open(path=tmp_path / "s.sqlite")
    options = RunOptions(page_size=100, sleep=lambda _s: None)
    computer = FakeComputer()
    try:
        first = run_sync(hub, hub.mapping, computer, store, options)
        assert first.status == "ok"
        account = "hubspot:lists"
        ids = [p.id for p in people]
        assert _flags(store, account) == {i: i in ids[:3] for i in ids}

        stamps = {p.id: p.updated_ms for p in people}
        hub.client.list_remove(list_id, [ids[0]])
        hub.client.list_add(list_id, [ids[5]])
        assert {p.id: p.updated_ms for p in people} == stamps  # contacts were not modified

        second = run_sync(hub, hub.mapping, computer, store, options)
        assert second.status == "ok"
        assert second.counts["membership_changed_contact"] == 2
        assert second.counts["recompute_contact"] == 2
        flags = _flags(store, account)
        assert flags == {i: i in {ids[1], ids[2], ids[5]} for i in ids}

        third = run_sync(hub, hub.mapping, computer, store, options)
        assert third.counts.get("membership_changed_contact", 0) == 0
        assert third.counts["recompute_contact"] == 0
    finally:
        store.close()
