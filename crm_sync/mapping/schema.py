"""The mapping-file format: where each computed model output lives in a CRM, and how it is written.

One file per CRM, discriminated on ``crm: hubspot | salesforce``. Models are ``extra="forbid"`` and
frozen, so a typo in an admin's file is an error with a line and column rather than a setting that
is silently ignored. Names follow each CRM's rules: HubSpot internal names are lower snake case,
Salesforce custom fields end in ``__c``. Secrets never live here (DESIGN §6): there is no field
for them, and ``extra="forbid"`` rejects an attempt to add one.

Tag ownership: crm_sync owns exactly the option *values* a mapping defines for a multi-valued
output. It adds and removes those values and never removes any other value found in the CRM.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "Entity",
    "HubSpotMapping",
    "HubSpotObjects",
    "HubSpotProperty",
    "HubSpotTriggers",
    "LeadRouting",
    "MappingDoc",
    "ObjectTarget",
    "OptionSpec",
    "PullField",
    "SalesforceField",
    "SalesforceMapping",
    "SalesforceObjects",
    "SalesforceTriggers",
    "WritePolicy",
]

HubSpotName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=100)]
SalesforceCustomName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*__c$", max_length=43)
]
# Standard Salesforce fields (LeadSource, Title) may be *read*; only custom fields are written.
SalesforceAnyName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]
OutputName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Entity = Literal["company", "contact"]
WritePolicy = Literal["overwrite", "if_empty", "respect_manual_edits"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OptionSpec(_Strict):
    """How one model value appears in the CRM: the stored value and the label admins see."""

    value: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    label: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    description: str = ""


class PullField(_Strict):
    """A CRM property that feeds a model field, with an optional CRM-value → model-value map.

    The map is many-to-one on purpose: HubSpot's ``DECISION_MAKER`` and ``BUDGET_HOLDER`` both mean
    the model's ``decision_maker``. Unmapped CRM values become empty (unknown), never a guess.

    HubSpot only: instead of a property, ``list`` names a contact/company list (Lists v3); the
    field is then ``true`` for the list's members and ``false`` for every other record, re-read
    on every pull (a membership change does not change a record's modified date).
    """

    source: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.]*$")] | None = None
    values: dict[str, str] | None = None
    list: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> PullField:
        if (self.source is None) == (self.list is None):
            msg = (
                "give exactly one of `source` (a CRM property) or `list` (a HubSpot list name)"
                if self.source is None
                else "give `source` or `list`, not both"
            )
            raise ValueError(msg)
        if self.list is not None and self.values is not None:
            msg = "`values` translates property values; a `list` field is always true or false"
            raise ValueError(msg)
        return self


class ObjectTarget(_Strict):
    """The CRM object an entity lives in, and the unique property used as the upsert key."""

    object: str
    external_id: str


class LeadRouting(_Strict):
    """Salesforce: unconverted people live in ``Lead``; the same field names are written there."""

    enabled: bool = True
    object: Literal["Lead"] = "Lead"
    external_id: SalesforceCustomName


class HubSpotTriggers(_Strict):
    """Optional workflow plumbing beyond property-change triggers (DESIGN §7).

    ``lists`` keeps a MANUAL list per value in sync (Lists v3). ``workflow_enrollment`` enrols
    contacts in a legacy v2 workflow per value (contacts only, by email: a HubSpot limit).
    """

    lists: dict[str, str] = Field(default_factory=dict)
    workflow_enrollment: dict[str, Annotated[int, Field(gt=0)]] = Field(default_factory=dict)


class SalesforceTriggers(_Strict):
    """Optional: CampaignMember rows per value, or an autolaunched Flow invoked per changed record."""

    campaigns: dict[str, Annotated[str, StringConstraints(pattern=r"^701[A-Za-z0-9]{12,15}$")]] = (
        Field(default_factory=dict)
    )
    flow: SalesforceAnyName | None = None


class _PropertyBase(_Strict):
    label: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    description: str = ""
    write_policy: WritePolicy = "overwrite"
    options: dict[str, OptionSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _option_values_unique(self) -> _PropertyBase:
        seen: dict[str, str] = {}
        for model_value, option in self.options.items():
            if option.value in seen:
                msg = (
                    f"options '{seen[option.value]}' and '{model_value}' both map to CRM value "
                    f"'{option.value}'; each model value needs its own CRM value"
                )
                raise ValueError(msg)
            seen[option.value] = model_value
        return self

    def crm_name(self) -> str:
        """The CRM property / field API name."""
        raise NotImplementedError

    def crm_type(self) -> str:
        """The CRM type (HubSpot ``type``, Salesforce field type)."""
        raise NotImplementedError

    def is_multi(self) -> bool:
        """Whether the property holds a ``;``-joined set of values (tags)."""
        raise NotImplementedError


class HubSpotProperty(_PropertyBase):
    """One HubSpot property written by crm_sync (type/fieldType as in the Properties API)."""

    property: HubSpotName
    type: Literal["enumeration", "string", "number", "bool", "date", "datetime"] = "enumeration"
    field_type: Literal["select", "checkbox", "radio", "text", "number", "booleancheckbox"] = (
        "select"
    )
    triggers: HubSpotTriggers = Field(default_factory=HubSpotTriggers)

    def crm_name(self) -> str:
        """The HubSpot internal property name."""
        return self.property

    def crm_type(self) -> str:
        """The Properties API ``type``."""
        return self.type

    def is_multi(self) -> bool:
        """Multi-checkbox (``checkbox``) properties hold a ``;``-joined set of values."""
        return self.field_type == "checkbox"


class SalesforceField(_PropertyBase):
    """One Salesforce custom field written by crm_sync."""

    field: SalesforceCustomName
    type: Literal["Text", "Number", "Checkbox", "Date", "Picklist", "MultiselectPicklist"] = (
        "Picklist"
    )
    triggers: SalesforceTriggers = Field(default_factory=SalesforceTriggers)

    def crm_name(self) -> str:
        """The custom field API name."""
        return self.field

    def crm_type(self) -> str:
        """The Salesforce field type."""
        return self.type

    def is_multi(self) -> bool:
        """Multi-select picklists hold a ``;``-joined set of API names."""
        return self.type == "MultiselectPicklist"


class HubSpotObjects(_Strict):
    """HubSpot objects per entity; ``external_id`` must be a unique-value property."""

    company: ObjectTarget = ObjectTarget(object="companies", external_id="crm_sync_id")
    contact: ObjectTarget = ObjectTarget(object="contacts", external_id="crm_sync_id")


class SalesforceObjects(_Strict):
    """Salesforce objects per entity, with Lead-vs-Contact routing for people."""

    company: ObjectTarget = ObjectTarget(object="Account", external_id="CRM_Sync_Id__c")
    contact: ObjectTarget = ObjectTarget(object="Contact", external_id="CRM_Sync_Id__c")
    leads: LeadRouting | None = None


class _MappingBase(_Strict):
    version: Literal[1]
    group: str = "crm_sync"
    group_label: str = "crm_sync segmentation"
    pull: dict[Entity, dict[str, PullField]] = Field(default_factory=dict)


class HubSpotMapping(_MappingBase):
    """A HubSpot portal: properties per model output (companies and contacts)."""

    crm: Literal["hubspot"]
    objects: HubSpotObjects = Field(default_factory=HubSpotObjects)
    properties: dict[Entity, dict[OutputName, HubSpotProperty]] = Field(default_factory=dict)


class SalesforceMapping(_MappingBase):
    """A Salesforce org: custom fields per model output (Account, Contact and optionally Lead)."""

    crm: Literal["salesforce"]
    objects: SalesforceObjects = Field(default_factory=SalesforceObjects)
    properties: dict[Entity, dict[OutputName, SalesforceField]] = Field(default_factory=dict)


MappingDoc = Annotated[HubSpotMapping | SalesforceMapping, Field(discriminator="crm")]
