"""Bad CRM data: records with invalid values are quarantined with a reason, never pushed, never fatal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest
from reliability_harness import World, world

from crm_sync.model import Company, Contact
from crm_sync.sync import deadletters
from crm_sync.sync.quarantine import check


def _corrupt(w: World) -> dict[str, str]:
    """Break one contact's e-mail and another's department in the CRM; return id -> field."""
    if w.crm == "hubspot":
        portal = w.sandbox.hubspot.state
        ids = sorted(portal.objects["contacts"], key=int)[:2]
        # Written below the API (an old import): HubSpot's own API would refuse the e-mail.
        portal.objects["contacts"][ids[0]].props["email"] = "not-an-email"
        portal.write(portal.objects["contacts"][ids[0]], {})
        portal.write(portal.objects["contacts"][ids[1]], {"crm_department": "astronaut"})
    else:
        org = w.sandbox.salesforce.state
        ids = sorted(org.records["Contact"])[:2]
        org.records["Contact"][ids[0]]["Email"] = "not-an-email"  # legacy data, below the API
        org.update("Contact", ids[0], {}, org.integration_user_id)
        org.update("Contact", ids[1], {"Department": "astronaut"}, org.integration_user_id)
    return {ids[0]: "e-mail", ids[1]: "department"}


def _repair(w: World, bad: dict[str, str]) -> None:
    """The admin fixes both records in the CRM."""
    first, second = sorted(bad, key=lambda i: bad[i])  # department, then e-mail
    if w.crm == "hubspot":
        portal = w.sandbox.hubspot.state
        portal.write(portal.objects["contacts"][second], {"email": "fixed@example.com"})
        portal.write(portal.objects["contacts"][first], {"crm_department": "finance"})
    else:
        org = w.sandbox.salesforce.state
        org.update("Contact", second, {"Email": "fixed@example.com"}, org.integration_user_id)
        org.update("Contact", first, {"Department": "finance"}, org.integration_user_id)


@pytest.mark.parametrize("crm", ["hubspot", "salesforce"])
def test_invalid_records_are_quarantined_not_pushed_and_released_when_fixed(
    crm: str, tmp_path: Path
) -> None:
    """Bad e-mail and unknown picklist value: run ok, reason kept, no write; fixed → pushed."""
    with world(crm, tmp_path, size=4) as w:
        bad = _corrupt(w)
        record = w.run()
        assert record.status == "ok"
        assert record.counts["quarantined"] == 2
        held = {x["record_id"]: x["reason"] for x in _quarantined(w)}
        assert set(held) == set(bad)
        for rid, what in bad.items():
            assert what in held[rid], held[rid]
        assert "astronaut" in " ".join(held.values())
        assert not [x for x in w.writes if x[1] in bad], "a quarantined record was pushed"
        assert record.counts["records_pushed"] > 0, "the healthy records were not pushed"
        again = w.run()
        assert again.status == "ok"
        assert not [x for x in w.writes if x[1] in bad], "pushed on the second run"
        _repair(w, bad)
        fixed = w.run()
        assert fixed.status == "ok"
        assert not _quarantined(w)
        assert {x[1] for x in w.writes} >= set(bad), "released records were not pushed"


def _quarantined(w: World) -> list[dict]:
    return deadletters.list_letters(w.store, None, status="quarantined")


FIELDS = {
    "planned_visits_90d": SimpleNamespace(type="number", values=None),
    "signed_on": SimpleNamespace(type="date", values=None),
    "tier": SimpleNamespace(type="enum", values=["gold", "silver"]),
    "name": SimpleNamespace(type="string", values=None),
}


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"planned_visits_90d": "abc"}, "not a number"),
        ({"planned_visits_90d": "nan"}, "not a number"),
        ({"planned_visits_90d": True}, "not a number"),
        ({"signed_on": "2025-13-45"}, "not a date"),
        ({"signed_on": "yesterday"}, "not a date"),
        ({"tier": "platinum"}, "unknown picklist value"),
    ],
)
def test_check_names_each_invalid_value(attributes: dict, expected: str) -> None:
    """Numbers, dates and picklist values outside the model's declaration are named."""
    reason = check(Company(id="c1", attributes=attributes), FIELDS)
    assert reason is not None
    assert expected in reason


@pytest.mark.parametrize(
    "attributes",
    [
        {"planned_visits_90d": 3},
        {"planned_visits_90d": "4.5"},
        {"signed_on": "2025-01-31"},
        {"signed_on": dt.date(2025, 1, 31)},
        {"tier": "gold"},
        {"name": "anything at all"},
        {},
    ],
)
def test_check_accepts_valid_and_missing_values(attributes: dict) -> None:
    """Valid values and missing ones (unknown, three-valued logic) are not quarantined."""
    assert check(Company(id="c1", attributes=attributes), FIELDS) is None


@pytest.mark.parametrize("email", ["nope", "a@b", "a b@c.de", "@x.io", "x@.io."])
def test_check_rejects_invalid_emails_without_echoing_them(email: str) -> None:
    """An invalid e-mail is a reason; the address itself (PII) is not copied into it."""
    reason = check(Contact(id="p1", email=email), {})
    assert reason is not None
    assert email not in reason


def test_check_accepts_a_normal_email() -> None:
    """A well-formed address passes."""
    assert check(Contact(id="p1", email="Jane.Doe+crm@example.co.uk"), {}) is None
