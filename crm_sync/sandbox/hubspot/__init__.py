"""The HubSpot half of the sandbox: a stateful portal emulator (see :class:`HubSpotSandbox`)."""

from crm_sync.sandbox.hubspot.app import HubSpotSandbox

__all__ = ["HubSpotSandbox"]
