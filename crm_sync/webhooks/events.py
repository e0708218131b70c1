"""What both receivers produce: change events naming one record, and the refusal error.

Keeping HubSpot's and Salesforce's payloads out of the intake means de-duplication, routing and
the recompute queue are written (and tested) once.

.. versionadded:: 0.2
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ChangeEvent", "WebhookRefused"]


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One CRM record that changed: enough to route it and mark it for recompute."""

    source: str  # hubspot | salesforce
    event_id: str  # HubSpot eventId, Salesforce Notification Id: the de-duplication key
    crm_id: str  # HubSpot portalId / Salesforce organization id
    entity: str  # company | contact
    record_id: str
    property: str | None = None  # HubSpot propertyChange only


class WebhookRefused(Exception):
    """The request is refused with ``status``; the message is safe to return (no secrets)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
