"""Properties API: fresh-portal definitions, groups, type/fieldType pairing, options, conflicts."""

from __future__ import annotations

import json

import pytest
from hubspot.crm.contacts import ApiException as ContactsError  # noqa: TID251 - client under test
from hubspot.crm.properties import ApiException  # noqa: TID251 - official client under test

TAGS = {
    "name": "crm_tags",
    "label": "Tags",
    "type": "enumeration",
    "fieldType": "checkbox",
    "groupName": "crm_sync",
    "options": [{"label": "VIP", "value": "vip", "hidden": False}],
}


@pytest.fixture
def props(hs):
    """The properties core API plus a `crm_sync` group on contacts."""
    hs.crm.properties.groups_api.create(
        "contacts", property_group_create={"name": "crm_sync", "label": "crm_sync"}
    )
    return hs.crm.properties.core_api


def test_fresh_portal_has_standard_properties_and_groups(hs):
    """A fresh portal has standard properties (lifecyclestage with default stages) and groups."""
    stage = hs.crm.properties.core_api.get_by_name("contacts", "lifecyclestage")
    assert [o.value for o in stage.options][:3] == ["subscriber", "lead", "marketingqualifiedlead"]
    groups = {g.name for g in hs.crm.properties.groups_api.get_all("contacts").results}
    assert "contactinformation" in groups


def test_create_checkbox_property_and_write_options(hs, props):
    """A checkbox enumeration is created (201) and its options validate writes."""
    created = props.create("contacts", property_create=TAGS)
    assert created.field_type == "checkbox"
    assert created.options[0].hidden is False
    contact = hs.crm.contacts.basic_api.create(
        simple_public_object_input_for_create={"properties": {"crm_tags": "vip"}}
    )
    assert contact.properties["crm_tags"] == "vip"


def test_duplicate_property_and_group_are_409(props, hs):
    """Creating a property or group that already exists answers 409."""
    props.create("contacts", property_create=TAGS)
    with pytest.raises(ApiException) as err:
        props.create("contacts", property_create=TAGS)
    assert err.value.status == 409
    with pytest.raises(ApiException) as err:
        hs.crm.properties.groups_api.create(
            "contacts", property_group_create={"name": "crm_sync", "label": "x"}
        )
    assert err.value.status == 409


@pytest.mark.parametrize(
    "change",
    [
        {"fieldType": "text"},
        {"type": "bool", "fieldType": "checkbox"},
        {"groupName": "nope"},
        {"options": [{"label": "VIP", "value": "vip"}]},
        {
            "options": [
                {"label": "a", "value": "a", "hidden": False},
                {"label": "b", "value": "a", "hidden": False},
            ]
        },
        {"name": "Bad Name"},
        {"label": None},
    ],
    ids=[
        "enum-as-text",
        "bool-checkbox",
        "unknown-group",
        "option-without-hidden",
        "duplicate-option",
        "bad-name",
        "missing-label",
    ],
)
def test_invalid_property_definitions_are_400(props, change):
    """Type/fieldType mismatches, missing option fields, unknown groups and bad names are refused."""
    body = {**TAGS, **change}
    with pytest.raises(ApiException) as err:
        props.create("contacts", property_create=body)
    assert err.value.status == 400
    assert json.loads(err.value.body)["category"] == "VALIDATION_ERROR"


def test_patch_replaces_the_whole_options_list(props, hs):
    """PATCH options replaces the list: an option left out stops validating."""
    props.create("contacts", property_create=TAGS)
    props.update(
        "contacts",
        "crm_tags",
        property_update={"options": [{"label": "Beta", "value": "beta", "hidden": False}]},
    )
    assert [o.value for o in props.get_by_name("contacts", "crm_tags").options] == ["beta"]
    with pytest.raises(ContactsError) as err:
        hs.crm.contacts.basic_api.create(
            simple_public_object_input_for_create={"properties": {"crm_tags": "vip;beta"}}
        )
    assert "INVALID_OPTION" in json.loads(err.value.body)["message"]


def test_has_unique_value_is_fixed_at_creation(props):
    """hasUniqueValue cannot be changed after creation."""
    props.create(
        "contacts", property_create={**TAGS, "type": "string", "fieldType": "text", "options": []}
    )
    with pytest.raises(ApiException) as err:
        props.update("contacts", "crm_tags", property_update={"hasUniqueValue": True})
    assert err.value.status == 400


def test_hubspot_defined_property_cannot_be_archived(props):
    """Archiving a HubSpot-defined property is refused; a custom one is archived."""
    with pytest.raises(ApiException):
        props.archive("contacts", "email")
    props.create("contacts", property_create=TAGS)
    props.archive("contacts", "crm_tags")
    with pytest.raises(ApiException) as err:
        props.get_by_name("contacts", "crm_tags")
    assert err.value.status == 404
