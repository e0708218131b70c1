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
