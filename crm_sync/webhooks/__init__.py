"""Webhook receivers (issue #9): HubSpot v3-signed events and Salesforce outbound messages.

Verified events become targeted recompute work in the store; see :mod:`crm_sync.webhooks.app`.
"""

from crm_sync.webhooks.events import ChangeEvent, WebhookRefused
from crm_sync.webhooks.hubspot import sign_v3, verify_v3
from crm_sync.webhooks.intake import IntakeResult, Route, WebhookIntake

__all__ = [
    "ChangeEvent",
    "IntakeResult",
    "Route",
    "WebhookIntake",
    "WebhookRefused",
    "sign_v3",
    "verify_v3",
]
