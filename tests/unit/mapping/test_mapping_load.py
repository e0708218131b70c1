"""Mapping files: schema errors with file:line:col, every problem at once, model cross-checks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from crm_sync.adapters.base import RemoteProperty
from crm_sync.errors import ModelFileError
from crm_sync.mapping.load import load_mapping_file, parse_mapping
from crm_sync.mapping.plan import diff_remote, property_specs

ROOT = Path(__file__).resolve().parents[3]

GOOD = """\
version: 1
crm: hubspot
properties:
  company:
    tier:
      property: crm_tier
      label: Tier
      options:
        A: {value: a, label: A}
        B: {value: b, label: B}
    tags:
      property: crm_tags
      label: Tags
      field_type: checkbox
      options:
        vip: {value: vip, label: VIP}
"""


@dataclass(frozen=True)
class Out:
    name: str
    entity: str
    kind: str
    values: tuple[str, ...]
    description: str = ""


class FakeModel:
    def outputs(self) -> list[Out]:
        return [
            Out("tier", "company", "single", ("A", "B")),
            Out("tags", "company", "multi", ("vip", "new")),
        ]


def test_shipped_mappings_validate():
    """Both shipped mapping files pass schema validation."""
    for name in ("hubspot", "salesforce"):
        mapping = load_mapping_file(ROOT / "mappings" / f"{name}.yaml")
        assert mapping.crm == name
        assert mapping.targets()


def test_targets_normalise_options_and_ownership():
    """Targets translate model values and own exactly the option values of multi properties."""
    mapping = parse_mapping(GOOD, "m.yaml")
    tags = next(t for t in mapping.targets() if t.output == "tags")
    assert tags.multi
    assert tags.owned == frozenset({"vip"})
    tier = next(t for t in mapping.targets() if t.output == "tier")
    assert tier.to_crm("A") == "a"
    assert not tier.multi


def test_every_problem_reported_with_line_and_column():
    """A bad name, an unknown key and a bad policy are reported together, each with file:line:col."""
    text = (
        GOOD.replace("property: crm_tier", "property: Crm Tier")
        .replace("label: Tags", "label: Tags\n      colour: red")
        .replace("field_type: checkbox", "field_type: checkbox\n      write_policy: sometimes")
    )
    with pytest.raises(ModelFileError) as info:
        parse_mapping(text, "m.yaml")
    lines = [str(p) for p in info.value.problems]
    assert len(lines) == 3
    assert any(line.startswith("m.yaml:6:17") and "pattern" in line for line in lines)
    assert any(line.startswith("m.yaml:14:7") and "unknown key 'colour'" in line for line in lines)
    assert any(line.startswith("m.yaml:16:21") and "write_policy" in line for line in lines)


def test_wrong_crm_discriminator():
    """An unknown `crm:` value names the allowed values."""
    with pytest.raises(ModelFileError, match="'hubspot' or 'salesforce'"):
        parse_mapping("version: 1\ncrm: pipedrive\n", "m.yaml")


def test_salesforce_custom_field_suffix():
    """Salesforce written fields must end in __c."""
    text = (
        "version: 1\ncrm: salesforce\nproperties:\n  company:\n    tier: {field: Tier, label: T}\n"
    )
    with pytest.raises(ModelFileError) as info:
        parse_mapping(text, "sf.yaml")
    assert str(info.value.problems[0]).startswith("sf.yaml:5:")


def test_cross_check_against_model():
    """Unknown outputs, missing options and wrong kinds are found by comparing with the model."""
    text = GOOD + "    nope:\n      property: crm_nope\n      label: Nope\n"
    with pytest.raises(ModelFileError) as info:
        parse_mapping(text, "m.yaml", FakeModel())
    messages = "\n".join(str(p) for p in info.value.problems)
    assert "can emit new but has no option" in messages
    assert "model has no output 'nope'" in messages
    assert "m.yaml:17:5: model has no output" in messages


def test_duplicate_crm_values_rejected():
    """Two model values mapping to one CRM value would make diffs ambiguous."""
    text = GOOD.replace("B: {value: b", "B: {value: a")
    with pytest.raises(ModelFileError, match="both map to CRM value 'a'"):
        parse_mapping(text, "m.yaml")


def test_provisioning_plan_diffs_remote():
    """The plan creates missing properties and adds missing options only."""
    specs = property_specs(parse_mapping(GOOD, "m.yaml"))
    remote = [RemoteProperty("crm_tier", "enumeration", ("a",))]
    plan = diff_remote(specs, remote)
    assert [(p.action, p.spec.name, p.missing_options) for p in plan] == [
        ("create", "crm_tags", ()),
        ("add_options", "crm_tier", ("b",)),
    ]


def test_shipped_mappings_cover_every_default_model_output():
    """Both shipped mappings map every output of mappings/model.yaml with an option per value."""
    from crm_sync.rules.load import load_model

    model = load_model(ROOT / "mappings" / "model.yaml")
    names = {o.name for o in model.outputs()}
    for crm in ("hubspot", "salesforce"):
        mapping = load_mapping_file(ROOT / "mappings" / f"{crm}.yaml", model)
        assert {t.output for t in mapping.targets()} == names


LIST_PULL = """\
version: 1
crm: {crm}
pull:
  contact:
    newsletter_member: {field}
"""


def _list_mapping(field: str, crm: str = "hubspot", model=None):
    return parse_mapping(LIST_PULL.format(crm=crm, field=field), "m.yaml", model)


class FieldsModel(FakeModel):
    """A model that declares fields, like a loaded model file (``.spec.fields``)."""

    def __init__(self, kind: str | None) -> None:
        from types import SimpleNamespace

        from crm_sync.rules.schema import FieldSpec

        declared = {"newsletter_member": FieldSpec(type=kind)} if kind else {}
        self.spec = SimpleNamespace(fields={"contact": declared})


def test_list_pull_field_is_read_as_a_list_field():
    """`list:` instead of `source:` makes a list field; record sources stay separate."""
    mapping = _list_mapping('{list: "Newsletter subscribers"}', model=FieldsModel("bool"))
    assert mapping.list_fields("contact") == {"newsletter_member": "Newsletter subscribers"}
    assert mapping.list_fields("company") == {}
    assert mapping.doc.pull["contact"]["newsletter_member"].source is None


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ('{source: hs_x, list: "News"}', "give `source` or `list`, not both"),
        ("{values: {a: b}}", "give exactly one of `source`"),
    ],
)
def test_pull_field_needs_exactly_one_of_source_and_list(field, message):
    """Both `source` and `list`, or neither, is an error at the field's file:line:col."""
    with pytest.raises(ModelFileError) as info:
        _list_mapping(field)
    (problem,) = info.value.problems
    assert str(problem).startswith("m.yaml:5:")
    assert message in str(problem)


def test_list_field_must_feed_a_bool_model_field():
    """With the model known, a list field feeding a non-bool or undeclared field is an error."""
    with pytest.raises(ModelFileError) as info:
        _list_mapping('{list: "News"}', model=FieldsModel("string"))
    (problem,) = info.value.problems
    assert str(problem).startswith("m.yaml:5:")
    assert "declares 'newsletter_member' as type: string; declare it type: bool" in str(problem)
    with pytest.raises(ModelFileError, match="declares no contact field 'newsletter_member'"):
        _list_mapping('{list: "News"}', model=FieldsModel(None))
    _list_mapping('{list: "News"}')  # no model: nothing to check against


def test_list_field_is_hubspot_only():
    """A Salesforce mapping cannot read list memberships."""
    with pytest.raises(ModelFileError, match="HubSpot feature"):
        _list_mapping('{list: "News"}', crm="salesforce")
