"""The model file's schema: what an admin may write in ``mappings/model.yaml``.

Every key is a pydantic field with a description, because a later step generates the JSON Schema
and the reference documentation from these classes. Models are frozen and forbid unknown keys, so
a typo (``hit_polcy``) is an error at a file position rather than a silently ignored setting.

Shape of a model file (all sections but ``version`` and ``ruleset`` optional)::

    version: 1
    ruleset: acme-default
    fields:    {company: {NAME: FieldSpec}, contact: {...}}     # CRM attributes, typed
    metrics:   {company: {NAME: MetricSpec}, contact: {...}}    # aggregates over activities
    derived:   {company: {NAME: DerivedSpec}, contact: {...}}   # expr / abc / peer_median / chain
    segments:  {NAME: SegmentSetSpec}    # exclusive: hit_policy first | unique (incl. personas,
                                         # relationship categories)
    tags:      {NAME: TagSetSpec}        # multi-valued: hit_policy collect
    lifecycles: {NAME: LifecycleSpec}    # ordered stages, guarded transitions, fixpoint

Rule conditions and derived values are expressions in the rule language (DESIGN §5), written as
YAML strings; the loader parses and type-checks them against the declared names.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from crm_sync.model.activities import ActivityType

__all__ = [
    "AbcSpec",
    "ChainSpec",
    "DerivedSpec",
    "Entity",
    "FieldSpec",
    "LifecycleSpec",
    "MetricFilter",
    "MetricSpec",
    "ModelFile",
    "OtherwiseSpec",
    "PeerMedianSpec",
    "RuleSpec",
    "SegmentSetSpec",
    "TagRuleSpec",
    "TagSetSpec",
    "TransitionSpec",
    "window_days_hint",
]

Entity = Literal["company", "contact"]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=80)]
# Rule ids may hold ``{placeholder}`` parts that ``for_each`` fills in.
RuleId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_{][A-Za-z0-9_{}]*$", max_length=80)]
Window = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,3}[dwmy]$")]
Attribute = Literal["amount", "list_amount", "score"]
FilterAttribute = Literal["product_family", "event_code", "campaign"]

_WINDOW_RE = re.compile(r"^(\d+)([dwmy])$")


def window_days_hint(window: str) -> int:
    """Approximate length of a window in days (for messages only; evaluation uses calendar months)."""
    match = _WINDOW_RE.match(window)
    assert match is not None
    n, unit = int(match.group(1)), match.group(2)
    return n * {"d": 1, "w": 7, "m": 30, "y": 365}[unit]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FieldSpec(_Spec):
    """A CRM attribute the rules read, e.g. ``planned_visits_90d`` or ``role``.

    Core record columns (``name``, ``parent_id``, ``industry``, ``first_touch_source``,
    ``lifecycle_stage``, ``role``, ``department`` ...) and custom attributes are declared the same
    way. A declared field missing from the data is null for every record (and lint says so).
    """

    type: Literal["number", "string", "bool", "date", "enum"] = Field(
        description="Value type. `enum` is a string restricted to `values` (a picklist)."
    )
    values: list[str] | None = Field(
        default=None,
        description="Allowed values of an `enum` field; comparisons with other literals are errors.",
    )
    required: bool = Field(
        default=False,
        description="The field should be filled on every record; lint reports its completeness.",
    )
    description: str = Field(default="", description="What the field means, for admins.")

    @model_validator(mode="after")
    def _enum_has_values(self) -> FieldSpec:
        if self.type == "enum" and not self.values:
            msg = "an enum field needs `values:` (the picklist options)"
            raise ValueError(msg)
        if self.type != "enum" and self.values is not None:
            msg = "`values:` is only allowed on type: enum"
            raise ValueError(msg)
        return self


class MetricFilter(_Spec):
    """Fixed attribute filters of a metric: an activity counts only if its attribute is listed."""

    product_family: list[str] | None = Field(default=None, description="Product families to keep.")
    event_code: list[str] | None = Field(default=None, description="Event codes to keep.")
    campaign: list[str] | None = Field(default=None, description="Campaigns to keep.")


class MetricSpec(_Spec):
    """An aggregate over activities (or purchase potential), per company or contact.

    Windows are relative to the run's ``as_of``: an activity counts when
    ``as_of - window < occurred_at.date() <= as_of``; activities after ``as_of`` never count.
    Without ``window`` all history up to ``as_of`` counts. ``count``/``sum`` of nothing is 0,
    ``exists`` of nothing is false, every other aggregate of nothing is null (unknown).
    """

    agg: Literal[
        "count", "sum", "avg", "exists", "min_date", "max_date", "days_since", "ratio", "potential"
    ] = Field(
        description=(
            "count: number of activities; sum/avg: of the `of` attribute; exists: any activity; "
            "min_date/max_date: first/last activity date; days_since: days from the last activity "
            "to as_of; ratio: sum(`of`) / sum(`over`) over activities carrying both; potential: "
            "the annual purchase potential valid at as_of (whole wallet, or per product family "
            "with `params: [product_family]`)."
        )
    )
    types: list[ActivityType] = Field(
        default_factory=list,
        description="Activity types to aggregate (required except for agg: potential).",
    )
    of: Attribute | None = Field(
        default=None, description="Numeric attribute summed/averaged (sum, avg, ratio numerator)."
    )
    over: Attribute | None = Field(default=None, description="Denominator attribute of a ratio.")
    where: MetricFilter | None = Field(
        default=None, description="Keep only activities with these attribute values."
    )
    params: list[FilterAttribute] = Field(
        default_factory=list,
        max_length=1,
        description=(
            "Makes the metric callable with a literal argument, e.g. `params: [event_code]` lets "
            'rules write `attended("FAIR2025")`. Each distinct call is computed once.'
        ),
    )
    window: Window | None = Field(
        default=None,
        description="Look-back window ending at as_of: `90d`, `8w`, `12m` (calendar months), `2y`.",
    )
    from_contacts: bool = Field(
        default=True,
        description=(
            "Company metrics only: also count activities logged only on the company's contacts."
        ),
    )
    description: str = Field(default="", description="What the metric measures, for admins.")

    @model_validator(mode="after")
    def _consistent(self) -> MetricSpec:
        if self.agg == "potential":
            if self.types or self.of or self.over or self.where or self.window:
                msg = "agg: potential takes only `params: [product_family]` and `description`"
                raise ValueError(msg)
            if self.params and self.params != ["product_family"]:
                msg = "agg: potential can only be split by product_family"
                raise ValueError(msg)
            return self
        if not self.types:
            msg = "list the activity `types:` this metric aggregates"
            raise ValueError(msg)
        if self.agg in ("sum", "avg", "ratio") and self.of is None:
            msg = f"agg: {self.agg} needs `of:` (amount, list_amount or score)"
            raise ValueError(msg)
        if self.agg == "ratio" and self.over is None:
            msg = "agg: ratio needs `over:` (the denominator attribute)"
            raise ValueError(msg)
        if self.agg not in ("sum", "avg", "ratio") and self.of is not None:
            msg = f"`of:` is not used by agg: {self.agg}"
            raise ValueError(msg)
        if self.agg != "ratio" and self.over is not None:
            msg = "`over:` is only used by agg: ratio"
            raise ValueError(msg)
        return self


class AbcSpec(_Spec):
    """ABC (Pareto) classes by cumulative share, ties broken by record id.

    Records are sorted by ``by`` descending, then id ascending. A record's *share before* is the
    sum of the values ranked above it divided by the total. It gets the first class whose share
    limit is above its share before (so the record crossing 80 % is still A). Records whose value
    is null or not positive get ``otherwise``.
    """

    by: Identifier = Field(
        description="The numeric metric or derived value ranked (e.g. revenue_12m)."
    )
    classes: dict[Identifier, float] = Field(
        description="Class → share limit, in order, e.g. `{A: 0.80, B: 0.95, C: 1.0}`.",
        min_length=1,
    )
    otherwise: Identifier = Field(description="Class of records with no positive value.")

    @model_validator(mode="after")
    def _increasing(self) -> AbcSpec:
        limits = list(self.classes.values())
        if any(not 0 < x <= 1 for x in limits) or limits != sorted(limits):
            msg = (
                "class share limits must increase and lie in (0, 1], e.g. {A: 0.8, B: 0.95, C: 1.0}"
            )
            raise ValueError(msg)
        if self.otherwise in self.classes:
            msg = "`otherwise` must differ from the class names"
            raise ValueError(msg)
        return self


class PeerMedianSpec(_Spec):
    """A value divided by the median of its peer group (e.g. price index ÷ same-ABC-class median).

    Null when the value is null, the record's group is null, or the median is null or zero.
    """

    of: Identifier = Field(description="The numeric metric or derived value to compare.")
    group_by: Identifier | None = Field(
        default=None, description="Field/derived value/segment defining peers; none = everyone."
    )


class ChainSpec(_Spec):
    """A roll-up over chain members: companies whose ``parent_id`` is the chain head.

    Every member and the head get the chain's value; companies outside any chain get null.
    ``share``: fraction of members where ``where`` is true (unknown counts as not true);
    ``count``: members (where ``where`` is true, if given); ``sum``: sum of ``of`` over members.
    """

    agg: Literal["share", "count", "sum"] = Field(description="share, count or sum over members.")
    where: str | None = Field(default=None, description="Condition on a member (share, count).")
    of: Identifier | None = Field(default=None, description="Numeric value summed (sum).")

    @model_validator(mode="after")
    def _consistent(self) -> ChainSpec:
        if self.agg == "share" and self.where is None:
            msg = "chain agg: share needs `where:` (the condition counted)"
            raise ValueError(msg)
        if self.agg == "sum" and self.of is None:
            msg = "chain agg: sum needs `of:`"
            raise ValueError(msg)
        return self


class DerivedSpec(_Spec):
    """A value computed from fields and metrics. Give exactly one of expr, abc, peer_median, chain."""

    expr: str | None = Field(
        default=None,
        description=(
            "An expression; arithmetic propagates null and x/0 is null, so "
            "`least(1, revenue_12m / potential_annual)` stays unknown without a potential."
        ),
    )
    abc: AbcSpec | None = Field(default=None, description="ABC class by cumulative share.")
    peer_median: PeerMedianSpec | None = Field(
        default=None, description="Value relative to the median of a peer group."
    )
    chain: ChainSpec | None = Field(default=None, description="Roll-up over chain members.")
    label: str = Field(default="", description="Short name shown to CRM users.")
    description: str = Field(default="", description="What the value means, for admins.")

    @model_validator(mode="after")
    def _exactly_one(self) -> DerivedSpec:
        given = [k for k in ("expr", "abc", "peer_median", "chain") if getattr(self, k) is not None]
        if len(given) != 1:
            msg = f"give exactly one of expr, abc, peer_median, chain (found {', '.join(given) or 'none'})"
            raise ValueError(msg)
        return self

    @property
    def kind(self) -> str:
        """Which of the four forms this is."""
        for k in ("expr", "abc", "peer_median", "chain"):
            if getattr(self, k) is not None:
                return k
        raise AssertionError  # pragma: no cover


class RuleSpec(_Spec):
    """One rule of a set: a value id and the condition that yields it."""

    id: RuleId = Field(description="The value written to the CRM, e.g. `guru_disciple`.")
    label: str = Field(default="", description="Human label (CRM option label).")
    description: str = Field(default="", description="Why the rule exists, for admins.")
    when: str = Field(description="Condition; the rule matches only when it is true (not unknown).")


class OtherwiseSpec(_Spec):
    """The catch-all value of an exclusive set."""

    id: Identifier = Field(description="The value given when no rule matches.")
    label: str = Field(default="", description="Human label.")


class SegmentSetSpec(_Spec):
    """An exclusive set: each record gets exactly one value (segments, personas, relationship).

    ``first``: rules in priority order, first true rule wins, ``otherwise`` required.
    ``unique``: at most one rule may be true for any record (overlap is a validation error);
    ``otherwise`` is optional (without it, a record matching nothing gets no value).
    """

    entity: Entity = Field(description="company or contact.")
    hit_policy: Literal["first", "unique"] = Field(description="first or unique.")
    label: str = Field(default="", description="Human label of the set (CRM property label).")
    description: str = Field(default="", description="What the set is for.")
    rules: list[RuleSpec] = Field(min_length=1, description="Rules, in priority order.")
    otherwise: OtherwiseSpec | None = Field(default=None, description="Catch-all value.")


class TagRuleSpec(RuleSpec):
    """A tag rule; ``for_each`` expands it once per listed value (``{name}`` in id/label/when)."""

    for_each: dict[Identifier, list[str]] | None = Field(
        default=None,
        description="One placeholder and its values, e.g. `{event: [FAIR2025, WEBINAR_Q3]}`.",
    )

    @model_validator(mode="after")
    def _one_placeholder(self) -> TagRuleSpec:
        if self.for_each is not None and len(self.for_each) != 1:
            msg = "for_each takes exactly one placeholder, e.g. {event: [FAIR2025, WEBINAR_Q3]}"
            raise ValueError(msg)
        return self


class TagSetSpec(_Spec):
    """A multi-valued set (hit policy ``collect``): a record carries every tag whose rule is true."""

    entity: Entity = Field(description="company or contact.")
    hit_policy: Literal["collect"] = Field(default="collect", description="Always collect.")
    label: str = Field(default="", description="Human label of the set.")
    description: str = Field(default="", description="What the tags are for.")
    rules: list[TagRuleSpec] = Field(min_length=1, description="One rule per tag.")


class TransitionSpec(_Spec):
    """A guarded move between lifecycle stages."""

    id: Identifier = Field(description="Name shown in explanations, e.g. `lead_to_prospect`.")
    from_: list[Identifier] = Field(alias="from", min_length=1, description="Stages it leaves.")
    to: Identifier = Field(description="Stage it enters.")
    when: str = Field(description="Condition for the move.")
    backward: bool = Field(
        default=False,
        description="Must be true when `to` comes before a `from` stage (a deliberate step back).",
    )
    label: str = Field(default="", description="Human label.")


class LifecycleSpec(_Spec):
    """Ordered stages and guarded transitions, evaluated to a fixpoint.

    Each record starts at its current stage (``start_from`` field, when it holds a known stage)
    or at ``initial``. In each step the first listed transition leaving the current stage whose
    condition is true fires; steps repeat until nothing fires or ``max_steps`` is reached.
    """

    entity: Entity = Field(description="company or contact.")
    stages: list[Identifier] = Field(min_length=2, description="Stages in forward order.")
    initial: Identifier = Field(description="Stage of a record without a known current stage.")
    start_from: Identifier | None = Field(
        default=None,
        description="Field holding the record's current stage (e.g. lifecycle_stage).",
    )
    transitions: list[TransitionSpec] = Field(min_length=1, description="Checked in list order.")
    max_steps: int = Field(default=10, ge=1, le=100, description="Safety limit of the fixpoint.")
    label: str = Field(default="", description="Human label.")
    description: str = Field(default="", description="What the lifecycle tracks.")


class ModelFile(_Spec):
    """The whole segmentation model file."""

    version: Literal[1] = Field(description="Format version; 1.")
    ruleset: Identifier | Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@-]+$")] = Field(
        description="Name of this rule set, stored with every run."
    )
    description: str = Field(default="", description="What this model is for.")
    owner: str = Field(default="", description="Team responsible for the model.")
    effective_from: dt.date | None = Field(default=None, description="Informational.")
    fields: dict[Entity, dict[Identifier, FieldSpec]] = Field(
        default_factory=dict, description="Declared CRM attributes per entity."
    )
    metrics: dict[Entity, dict[Identifier, MetricSpec]] = Field(
        default_factory=dict, description="Aggregates over activities per entity."
    )
    derived: dict[Entity, dict[Identifier, DerivedSpec]] = Field(
        default_factory=dict, description="Computed values per entity."
    )
    segments: dict[Identifier, SegmentSetSpec] = Field(
        default_factory=dict, description="Exclusive sets (segments, personas, relationship)."
    )
    tags: dict[Identifier, TagSetSpec] = Field(default_factory=dict, description="Tag sets.")
    lifecycles: dict[Identifier, LifecycleSpec] = Field(
        default_factory=dict, description="Lifecycles."
    )
