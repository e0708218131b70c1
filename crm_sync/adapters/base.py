"""What the sync engine needs from a CRM: one small Protocol plus optional capabilities.

The core (:class:`CrmAdapter`) is what HubSpot and Salesforce share: describe and provision
properties, pull pages of records ordered by a ``(modified_at, id)`` cursor, and push per-record
property changes in batches. Anything asymmetric (HubSpot lists and v2 workflow enrolment,
Salesforce CampaignMembers and autolaunched Flows) is a separate runtime-checkable Protocol that the
engine tests with ``isinstance``, so an adapter never has to fake a feature its CRM lacks.

Adapters speak crm_sync value types only (frozen dataclasses below), never SDK objects. They
*classify* failures into :mod:`crm_sync.errors` and never retry: ``sync/retry.py`` is the one
retry policy. A push never raises for one bad record; it reports it in
:attr:`PushResult.rejected` so the engine can dead-letter it and continue.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from crm_sync.model import Activity, Company, Contact, PurchasePotential

__all__ = [
    "CrmAdapter",
    "Cursor",
    "EnsureResult",
    "EntityName",
    "PropertySpec",
    "PropertyUpdate",
    "PullPage",
    "PushResult",
    "RecordRejection",
    "RecordUpdate",
    "RemoteProperty",
    "RequestHook",
    "Stream",
    "SupportsCampaignMembers",
    "SupportsFlows",
    "SupportsListMembership",
    "SupportsRequestHook",
    "SupportsWorkflowEnrollment",
    "TagUpdate",
]

EntityName = Literal["company", "contact"]
Stream = Literal["companies", "contacts", "activities"]


@dataclass(frozen=True, order=True, slots=True)
class Cursor:
    """A position in a stream ordered by ``(modified_at, record_id)``.

    The id breaks ties between records modified in the same instant, so a page boundary that falls
    inside a run of equal timestamps loses nothing (Salesforce gotcha 11, HubSpot gotcha 8).
    ``modified_at`` is always timezone-aware UTC.
    """

    modified_at: dt.datetime
    record_id: str

    def to_text(self) -> str:
        """Stable text form for the store (ISO time, a space, the id)."""
        return f"{self.modified_at.isoformat()} {self.record_id}"

    @classmethod
    def from_text(cls, text: str) -> Cursor:
        """Inverse of :meth:`to_text`."""
        stamp, _, rid = text.partition(" ")
        return cls(dt.datetime.fromisoformat(stamp), rid)


@dataclass(frozen=True, slots=True)
class PullPage:
    """One page of a stream, in cursor order.

    ``current`` holds the CRM's present values of the mapped (written) properties per record id,
    so the engine diffs against what the CRM holds rather than what it last pushed. ``deleted``
    lists records archived or deleted in the CRM. ``cursor`` is the position of the last item.
    ``potentials`` (purchase potential rows) travel with company pages.

    ``memberships`` is a *snapshot* page (records empty, ``cursor`` None): mapped pull field name
    → the COMPLETE set of record ids of the stream's entity that are members now (a HubSpot list
    named by ``pull: {contact: {field: {list: ...}}}``). The engine sets the field ``True`` on
    those records and ``False`` on every other live record of the entity. Membership changes do
    not bump a record's modified time, so adapters send the snapshot at the end of *every* pull
    of the stream, full or incremental; record pages never carry such a field themselves.
    """

    stream: Stream
    cursor: Cursor | None
    companies: tuple[Company, ...] = ()
    contacts: tuple[Contact, ...] = ()
    activities: tuple[Activity, ...] = ()
    potentials: tuple[PurchasePotential, ...] = ()
    current: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)
    deleted: tuple[str, ...] = ()
    memberships: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PropertyUpdate:
    """Set one single-valued property. ``old`` is what the engine believes the CRM holds."""

    property: str
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class TagUpdate:
    """Value-level change of a multi-valued property (HubSpot checkbox, Salesforce multipicklist).

    ``add``/``remove`` are the per-value changes; ``result`` is the full set the engine expects
    afterwards (the CRM's current set with the changes applied, including values crm_sync does not
    own). CRMs that replace the whole set on write send ``result``; adapters able to re-read and
    merge apply ``add``/``remove`` to a fresh read instead.
    """

    property: str
    add: frozenset[str]
    remove: frozenset[str]
    result: frozenset[str]


@dataclass(frozen=True, slots=True)
class RecordUpdate:
    """All changes for one record in one request, addressed by its CRM id."""

    entity: EntityName
    record_id: str
    changes: tuple[PropertyUpdate | TagUpdate, ...]


@dataclass(frozen=True, slots=True)
class RecordRejection:
    """One record the CRM refused, with its reason (already redacted)."""

    record_id: str
    reason: str
    code: str = ""


@dataclass(frozen=True, slots=True)
class PushResult:
    """Per-record outcome of one batch: a 207 or per-row errors never fail the whole batch."""

    accepted: tuple[str, ...] = ()
    rejected: tuple[RecordRejection, ...] = ()


@dataclass(frozen=True, slots=True)
class RemoteProperty:
    """A property as the CRM describes it, for drift reports and provisioning."""

    name: str
    type: str
    options: tuple[str, ...] = ()
    label: str = ""


@dataclass(frozen=True, slots=True)
class PropertySpec:
    """A property crm_sync needs: built from the mapping by :mod:`crm_sync.mapping.plan`."""

    entity: EntityName
    object: str
    name: str
    type: str
    label: str
    multi: bool = False
    options: tuple[tuple[str, str], ...] = ()  # (CRM value, label)
    group: str = ""


@dataclass(frozen=True, slots=True)
class EnsureResult:
    """What provisioning changed: names created and options added."""

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()


class CrmAdapter(Protocol):
    """The engine's only seam to a CRM. Keep it this small; add capability Protocols instead."""

    crm: str
    """``hubspot``, ``salesforce`` or ``memory``."""
    account: str
    """Portal/org id: the lease-lock key, so one writer pushes per CRM account."""
    max_batch: int
    """Largest push batch the API accepts (HubSpot 100, Salesforce 200)."""

    def describe(self, entity: EntityName) -> Sequence[RemoteProperty]:
        """Current custom properties of the entity's object."""
        ...

    def ensure_properties(self, specs: Sequence[PropertySpec]) -> EnsureResult:
        """Create missing properties and options. Idempotent: safe before every sync."""
        ...

    def pull(
        self, stream: Stream, since: Cursor | None, *, properties: Sequence[str], page_size: int
    ) -> Iterator[PullPage]:
        """Lazy pages with ``(modified_at, id) >= since`` (closed start), in cursor order.

        The engine, not the adapter, persists the cursor, and only after a page is stored.
        ``properties`` are the mapped properties whose current values each page reports.
        """
        ...

    def push(self, updates: Sequence[RecordUpdate]) -> PushResult:
        """Apply one batch (``len <= max_batch``, one entity). Setting a value is idempotent."""
        ...

    def api_calls(self) -> Mapping[str, int]:
        """Calls made so far, by endpoint, for the run record."""
        ...


RequestHook = Callable[[str], None]
"""Called with the endpoint name before every HTTP request an adapter sends (retries included)."""


@runtime_checkable
class SupportsRequestHook(Protocol):
    """Adapters that report each HTTP request before sending it.

    A page or a push can cost several requests (a HubSpot activities page reads associations
    and engagements too), so a limit shared between workers must be charged per request, not per
    adapter call — :class:`~crm_sync.distributed.gate.RateGatedAdapter` installs its hook here.
    """

    def set_request_hook(self, hook: RequestHook | None) -> None:
        """Install (or with ``None`` remove) the hook."""
        ...


@runtime_checkable
class SupportsListMembership(Protocol):
    """HubSpot: keep MANUAL lists (Lists v3) in step with a tag or segment value."""

    def set_list_membership(
        self, list_name: str, add: Sequence[str], remove: Sequence[str]
    ) -> PushResult:
        """Add and remove record ids; both are idempotent in HubSpot."""
        ...


@runtime_checkable
class SupportsWorkflowEnrollment(Protocol):
    """HubSpot v2 enrolment (contacts only, by email, legacy workflow id)."""

    def enroll(self, workflow_id: int, emails: Sequence[str]) -> PushResult:
        """Enrol contacts; HubSpot ignores contacts already enrolled."""
        ...


@runtime_checkable
class SupportsCampaignMembers(Protocol):
    """Salesforce: one CampaignMember row per tagged contact or lead."""

    def set_campaign_members(
        self, campaign_id: str, add: Sequence[str], remove: Sequence[str]
    ) -> PushResult:
        """Create/delete rows; an existing row is not an error (no duplicate create)."""
        ...


@runtime_checkable
class SupportsFlows(Protocol):
    """Salesforce: invoke an autolaunched Flow for changed records."""

    def invoke_flow(self, flow: str, record_ids: Sequence[str]) -> PushResult:
        """Run the flow once per record id."""
        ...
