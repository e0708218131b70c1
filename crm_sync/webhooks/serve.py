"""Assemble the receiver from settings: store, account routes, secrets and the worker wake-up.

Shared by ``crm-sync webhooks serve`` and the tests, so both build exactly the same app. The
wake-up enqueues a Celery ``sync_account`` when a broker is configured (``CRM_SYNC_BROKER_URL``);
without one the queued work simply waits for the next scheduled cycle, which still recomputes
exactly the records the webhooks marked.

.. versionadded:: 0.2
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr
from starlette.applications import Starlette

from crm_sync.config import Settings
from crm_sync.distributed.accounts import AccountSpec, load_accounts
from crm_sync.mapping.load import load_mapping_file
from crm_sync.store.sql import Store
from crm_sync.webhooks.app import WebhookConfig, create_app
from crm_sync.webhooks.intake import WebhookIntake, routes_for

__all__ = ["build_receiver", "celery_notifier", "config_from_env"]

log = logging.getLogger("crm_sync.webhooks")


def _own_properties(settings: Settings) -> Callable[[AccountSpec], frozenset[str]]:
    def own(spec: AccountSpec) -> frozenset[str]:
        target = "hubspot" if spec.target == "memory" else spec.target
        mapping = load_mapping_file(spec.mapping or settings.mapping_path(target))
        return frozenset(t.name for t in mapping.targets())

    return own


def config_from_env() -> WebhookConfig:
    """Secrets from ``HUBSPOT_CLIENT_SECRET`` / ``SALESFORCE_WEBHOOK_TOKEN``, never from files."""
    hs = os.environ.get("HUBSPOT_CLIENT_SECRET")
    sf = os.environ.get("SALESFORCE_WEBHOOK_TOKEN")
    return WebhookConfig(
        hubspot_secret=SecretStr(hs) if hs else None,
        salesforce_token=SecretStr(sf) if sf else None,
        public_url=os.environ.get("CRM_SYNC_WEBHOOK_PUBLIC_URL") or None,
    )


def celery_notifier() -> Callable[[str], None]:
    """Enqueue ``sync_account`` on the broker, or log that the next cycle will do it."""
    if not os.environ.get("CRM_SYNC_BROKER_URL"):
        return lambda name: log.info("no broker: %s is recomputed on its next cycle", name)
    from crm_sync.distributed.celery_app import enqueue_sync  # noqa: PLC0415 - needs celery

    return enqueue_sync


def build_receiver(
    settings: Settings,
    store: Store,
    accounts_file: Path,
    *,
    config: WebhookConfig | None = None,
    notify: Callable[[str], None] | None = None,
) -> Starlette:
    """The ASGI app for the accounts in ``accounts_file``."""
    accounts = load_accounts(accounts_file).values()
    intake = WebhookIntake(
        store, routes_for(accounts, _own_properties(settings)), notify or celery_notifier()
    )
    return create_app(intake, config or config_from_env())
