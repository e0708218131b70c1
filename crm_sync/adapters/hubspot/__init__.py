"""The HubSpot adapter: ``from_settings(settings, mapping)`` is what ``crm_sync.run`` resolves.

Configuration comes only from the environment (DESIGN §10): ``CRM_SYNC_HUBSPOT_BASE_URL`` (any
HubSpot-compatible endpoint, e.g. the sandbox; default ``https://api.hubapi.com``) and either
``HUBSPOT_ACCESS_TOKEN`` (private app) or ``HUBSPOT_CLIENT_ID`` + ``HUBSPOT_CLIENT_SECRET`` +
``HUBSPOT_REFRESH_TOKEN`` (OAuth, refreshed before expiry and once on a 401).
"""

from __future__ import annotations

from crm_sync.adapters.hubspot.adapter import HubSpotAdapter
from crm_sync.adapters.hubspot.auth import token_source_from_env
from crm_sync.adapters.hubspot.client import HubSpotClient, exchange_refresh_token
from crm_sync.config import Settings
from crm_sync.mapping.load import MappingFile, load_mapping_file

__all__ = ["HubSpotAdapter", "from_settings"]


def from_settings(
    settings: Settings, mapping: MappingFile | None, *, account: str | None = None
) -> HubSpotAdapter:
    """Build the adapter from settings and the HubSpot mapping (loaded from disk when None).

    ``account`` is the portalId when the caller knows it; otherwise the adapter asks HubSpot.
    """
    mapping = mapping or load_mapping_file(settings.mapping_path("hubspot"))
    base_url = settings.hubspot_base_url
    token = settings.hubspot_access_token
    auth = token_source_from_env(
        token.get_secret_value() if token is not None else None, exchange_refresh_token(base_url)
    )
    return HubSpotAdapter(HubSpotClient(base_url, auth), mapping, account=account)
