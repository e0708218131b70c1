"""The provisioning seam both CRM adapters implement: plan first, then apply the same plan.

``crm-sync provision --target hubspot|salesforce`` prints :meth:`SupportsProvisioning.plan_provision`
and, with ``--apply``, hands that very plan to :meth:`SupportsProvisioning.apply_provision`, so
what an admin reviewed is what is executed (DESIGN §8). A plan is plain data: steps (create a
group/property/field, add options, remove options, set field-level security …) and a drift report
(what the CRM holds that the mapping does not say). Steps an admin must opt into — deleting an
option that still holds data — are marked ``needs_force`` and skipped unless ``force=True``.
Applying is idempotent: re-planning after an apply yields no steps.

.. versionadded:: 0.1
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from crm_sync.mapping.load import MappingFile

__all__ = ["DriftItem", "ProvisionPlan", "ProvisionResult", "ProvisionStep", "SupportsProvisioning"]


@dataclass(frozen=True, slots=True)
class ProvisionStep:
    """One change to the CRM: ``action`` on ``object``.``name``, with the payload to send."""

    action: str  # create_group | create_property | add_options | remove_options | … (CRM-specific)
    object: str
    name: str
    detail: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    needs_force: bool = False


@dataclass(frozen=True, slots=True)
class DriftItem:
    """Something the CRM holds differently from the mapping (reported, never silently changed)."""

    object: str
    name: str
    kind: str  # type | field_type | label | group | extra_option | not_unique | …
    expected: str = ""
    actual: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ProvisionPlan:
    """What ``--apply`` would do, and the drift found while planning."""

    target: str
    account: str
    steps: tuple[ProvisionStep, ...] = ()
    drift: tuple[DriftItem, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``crm-sync provision --json``)."""
        return {
            "target": self.target,
            "account": self.account,
            "steps": [asdict(s) for s in self.steps],
            "drift": [asdict(d) for d in self.drift],
        }


@dataclass(frozen=True, slots=True)
class ProvisionResult:
    """What an apply did: steps applied, and steps skipped (``needs_force`` without force)."""

    applied: tuple[ProvisionStep, ...] = ()
    skipped: tuple[ProvisionStep, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "applied": [asdict(s) for s in self.applied],
            "skipped": [asdict(s) for s in self.skipped],
        }


@runtime_checkable
class SupportsProvisioning(Protocol):
    """An adapter able to compare a mapping with its CRM and bring the CRM in line."""

    def plan_provision(self, mapping: MappingFile, *, force: bool = False) -> ProvisionPlan:
        """Read the CRM and list the steps that make it match ``mapping``; sends no writes."""
        ...

    def apply_provision(self, plan: ProvisionPlan, *, force: bool = False) -> ProvisionResult:
        """Execute ``plan`` (``needs_force`` steps only with ``force``); idempotent."""
        ...
