"""Typed records crm_sync reads from a CRM: companies, contacts, purchase potential, activities.

These are the engine's inputs, independent of any CRM. Adapters produce them; the rules engine
consumes them (as polars frames, see :mod:`crm_sync.model.frames`). Values the model file
declares beyond the core attributes live in ``attributes``, keyed by the declared field name.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crm_sync.model.activities import ACTIVITY_DOCS, ActivityType

__all__ = ["Activity", "AttributeValue", "Company", "Contact", "PurchasePotential", "Role"]

AttributeValue = str | int | float | bool | dt.date | None
RecordId = Annotated[str, Field(min_length=1, max_length=255)]


class Role(StrEnum):
    """The contact's role in buying decisions: a picklist separate from the department."""

    DECISION_MAKER = "decision_maker"
    INFLUENCER = "influencer"
    NON_DECISION_MAKER = "non_decision_maker"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Company(_Record):
    """A customer or prospect organisation. ``parent_id`` links chain and purchasing-group members."""

    id: RecordId
    name: str = ""
    parent_id: RecordId | None = None
    owner: str | None = None
    industry: str | None = None
    country: str | None = None
    first_touch_source: str | None = None
    lifecycle_stage: str | None = None
    modified_at: dt.datetime | None = None
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _not_own_parent(self) -> Company:
        if self.parent_id == self.id:
            msg = (
                f"company {self.id} names itself as parent; leave parent_id empty for a chain head"
            )
            raise ValueError(msg)
        return self


class Contact(_Record):
    """A person at a company. Role and department are separate picklists, as the articles ask."""

    id: RecordId
    company_id: RecordId | None = None
    email: str | None = None
    first_name: str = ""
    last_name: str = ""
    role: Role | None = None
    department: str | None = None
    first_touch_source: str | None = None
    lifecycle_stage: str | None = None
    owner: str | None = None
    modified_at: dt.datetime | None = None
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)


class PurchasePotential(_Record):
    """What a company could buy per year, dated because it changes over time.

    ``product_family`` or ``business_line`` narrow it; both empty means the whole wallet. The value
    valid at ``as_of`` is the one with the latest ``valid_from`` on or before ``as_of``.
    """

    company_id: RecordId
    annual_amount: float = Field(ge=0)
    valid_from: dt.date
    product_family: str | None = None
    business_line: str | None = None


class Activity(_Record):
    """Something that happened with a company or contact, of a closed :class:`ActivityType`."""

    id: RecordId
    type: ActivityType
    occurred_at: dt.datetime
    company_id: RecordId | None = None
    contact_id: RecordId | None = None
    amount: float | None = None
    list_amount: float | None = None
    product_family: str | None = None
    event_code: str | None = None
    campaign: str | None = None
    score: float | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _attributes_fit_type(self) -> Activity:
        if self.company_id is None and self.contact_id is None:
            msg = f"activity {self.id} belongs to no company and no contact; set company_id or contact_id"
            raise ValueError(msg)
        allowed = ACTIVITY_DOCS[self.type][1]
        for attr in ("amount", "list_amount", "product_family", "event_code", "campaign", "score"):
            if getattr(self, attr) is not None and attr not in allowed:
                msg = (
                    f"activity {self.id} of type {self.type.value} cannot carry '{attr}'; "
                    f"allowed: {', '.join(sorted(allowed)) or 'none'}"
                )
                raise ValueError(msg)
        return self
