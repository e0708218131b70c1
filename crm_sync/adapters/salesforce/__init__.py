"""Salesforce adapter built on simple-salesforce.

Collections and Bulk 2.0 pushes, queryAll pulls, Metadata API provisioning with field-level security, CampaignMember and Flow triggers.

Only :mod:`.client` imports simple-salesforce. Quirks are cited from
``shared/reference/salesforce-facts.md`` (section numbers, Gotchas) where they are handled.

.. versionadded:: 0.1
"""

from crm_sync.adapters.salesforce.adapter import SalesforceAdapter, from_settings

__all__ = ["SalesforceAdapter", "from_settings"]
