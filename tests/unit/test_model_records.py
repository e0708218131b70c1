import datetime as dt

import pytest
from pydantic import ValidationError

from crm_sync.errors import ModelFileError
from crm_sync.model import Activity, Company, Contact
from crm_sync.model.frames import Dataset


def test_activity_rejects_attribute_its_type_cannot_carry():
    """A visit with an amount is refused, so money never hides in the wrong activity type."""
    with pytest.raises(ValidationError, match="cannot carry 'amount'"):
        Activity(
            id="a1", type="visit", occurred_at=dt.datetime(2025, 1, 1), company_id="c1", amount=5.0
        )


def test_company_cannot_be_its_own_parent():
    """A chain head has no parent; naming itself would loop every roll-up."""
    with pytest.raises(ValidationError, match="names itself as parent"):
        Company(id="c1", parent_id="c1")


def test_dataset_puts_declared_attributes_in_their_own_columns():
    """Attributes become typed columns next to the core schema, ready for rules."""
    data = Dataset.from_records(
        [Company(id="c1", attributes={"planned_visits_90d": 3})],
        [Contact(id="p1", company_id="c1", role="influencer")],
    )
    assert data.companies["planned_visits_90d"].to_list() == [3]
    assert data.contacts["role"].to_list() == ["influencer"]


def test_data_file_reports_every_bad_record_at_once(tmp_path):
    """A data file with two bad records names both, with their index and id."""
    path = tmp_path / "data.json"
    path.write_text(
        '{"companies": [{"id": "c1", "parent_id": "c1"}],'
        ' "activities": [{"id": "a1", "type": "teleport", "occurred_at": "2025-01-01T00:00:00", "company_id": "c1"}]}'
    )
    with pytest.raises(ModelFileError) as info:
        Dataset.load_json(path)
    text = str(info.value)
    assert "companies[0] (id c1)" in text
    assert "activities[0] (id a1)" in text


def test_dataset_puts_aware_and_naive_timestamps_on_one_utc_timeline():
    """Mixed aware/naive activity stamps do not crash; aware ones are converted to UTC."""
    plus2 = dt.timezone(dt.timedelta(hours=2))
    data = Dataset.from_records(
        activities=[
            Activity(
                id="a1", type="visit", occurred_at=dt.datetime(2025, 1, 1, 12), company_id="c1"
            ),
            Activity(
                id="a2",
                type="visit",
                occurred_at=dt.datetime(2025, 1, 1, 1, tzinfo=plus2),
                company_id="c1",
            ),
        ]
    )
    assert data.activities["occurred_at"].to_list() == [
        dt.datetime(2025, 1, 1, 12),
        dt.datetime(2024, 12, 31, 23),
    ]
