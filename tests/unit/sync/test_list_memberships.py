"""List-membership pull fields on the memory adapter: snapshots flip flags, rewrites keep them."""

from __future__ import annotations

import json

from sqlalchemy import select

from crm_sync.mapping.load import parse_mapping
from crm_sync.model import Contact
from crm_sync.store import data
from crm_sync.store import schema as t
from crm_sync.sync import run_sync

FIELD = "newsletter_member"
MAPPING = f"""\
version: 1
crm: hubspot
pull:
  contact:
    {FIELD}: {{list: "Newsletter subscribers"}}
properties:
  contact:
    stage:
      property: crm_stage
      label: Stage
      options:
        lead: {{value: lead, label: Lead}}
        prospect: {{value: prospect, label: Prospect}}
        customer: {{value: customer, label: Customer}}
"""


def _rows(store, entity="contact"):
    c = t.records.c
    with store.begin() as conn:
        q = select(c.id, c.data, c.content_hash).where(c.entity == entity)
        return {rid: (json.loads(raw), digest) for rid, raw, digest in conn.execute(q)}


def _flags(store):
    return {rid: d["attributes"].get(FIELD) for rid, (d, _h) in _rows(store).items()}


def _run(adapter, store, computer, options):
    return run_sync(adapter, parse_mapping(MAPPING, "m.yaml"), computer, store, options)


def test_snapshot_sets_flags_and_detects_removal(adapter, store, computer, options):
    """A full pull sets every flag; a later list change alone flips exactly the changed records."""
    adapter.set_list_members(FIELD, ["p0-0", "p1-1"])
    first = _run(adapter, store, computer, options)
    flags = _flags(store)
    assert flags == {rid: rid in {"p0-0", "p1-1"} for rid in flags}
    assert first.counts["membership_changed_contact"] == 9

    adapter.set_list_members(FIELD, ["p0-0", "p2-2"])  # p1-1 removed, p2-2 added
    second = _run(adapter, store, computer, options)
    assert second.counts["membership_changed_contact"] == 2
    assert second.counts["recompute_contact"] == 2
    flags = _flags(store)
    assert flags == {rid: rid in {"p0-0", "p2-2"} for rid in flags}

    idle = _run(adapter, store, computer, options)
    assert idle.counts.get("membership_changed_contact", 0) == 0
    assert idle.counts["recompute_contact"] == 0


def test_flag_survives_a_record_rewrite_and_hash_stays_consistent(
    adapter, store, computer, options
):
    """A modified member keeps its flag; its hash equals a fresh hash of its stored data."""
    adapter.set_list_members(FIELD, ["p0-0"])
    _run(adapter, store, computer, options)
    adapter.seed(contacts=[Contact(id="p0-0", company_id="co0", email="new@x.test")])
    record = _run(adapter, store, computer, options)
    assert record.counts["changed_contact"] == 1
    assert record.counts.get("membership_changed_contact", 0) == 0
    assert record.counts["recompute_contact"] == 1
    stored, digest = _rows(store)["p0-0"]
    assert stored["email"] == "new@x.test"
    assert stored["attributes"][FIELD] is True
    assert digest == data.content_hash(stored)
    # Every flipped record too: its hash is what store_records computes for the same data.
    assert all(h == data.content_hash(d) for d, h in _rows(store).values())


def test_record_pages_never_set_a_list_field(adapter, store, computer, options):
    """A record page carrying the attribute cannot override the snapshot (the list owns it)."""
    adapter.set_list_members(FIELD, [])
    adapter.seed(
        contacts=[Contact(id="p9", company_id="co0", email="p9@x.test", attributes={FIELD: True})]
    )
    _run(adapter, store, computer, options)
    assert _flags(store)["p9"] is False
    adapter.seed(
        contacts=[Contact(id="p9", company_id="co0", email="p9b@x.test", attributes={FIELD: True})]
    )
    record = _run(adapter, store, computer, options)
    assert _flags(store)["p9"] is False
    assert record.counts.get("membership_changed_contact", 0) == 0


def test_new_member_is_flagged_by_the_same_pull(adapter, store, computer, options):
    """A contact created and added to the list between runs is stored, then flagged, in one pull."""
    adapter.set_list_members(FIELD, [])
    _run(adapter, store, computer, options)
    adapter.seed(contacts=[Contact(id="p7", company_id="co1", email="p7@x.test")])
    adapter.set_list_members(FIELD, ["p7"])
    record = _run(adapter, store, computer, options)
    flags = _flags(store)
    assert flags["p7"] is True
    assert all(v is False for rid, v in flags.items() if rid != "p7")
    assert record.counts["membership_changed_contact"] == 1
    assert record.counts["recompute_contact"] == 1


def test_unmapped_snapshot_field_is_ignored(adapter, store, computer, options):
    """A snapshot for a field the mapping does not read as a list never touches records."""
    adapter.set_list_members("other_flag", ["p0-0"])
    record = _run(adapter, store, computer, options)
    assert all("other_flag" not in d["attributes"] for d, _h in _rows(store).values())
    assert record.counts.get("membership_changed_contact", 0) == 0
