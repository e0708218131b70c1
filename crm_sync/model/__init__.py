"""CRM-independent records: the engine's inputs and the activity vocabulary."""

from crm_sync.model.activities import ACTIVITY_ATTRIBUTES, ACTIVITY_DOCS, ActivityType
from crm_sync.model.records import (
    Activity,
    AttributeValue,
    Company,
    Contact,
    PurchasePotential,
    Role,
)

__all__ = [
    "ACTIVITY_ATTRIBUTES",
    "ACTIVITY_DOCS",
    "Activity",
    "ActivityType",
    "AttributeValue",
    "Company",
    "Contact",
    "PurchasePotential",
    "Role",
]
