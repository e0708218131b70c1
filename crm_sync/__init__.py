"""crm_sync: keep customer segmentation alive inside HubSpot and Salesforce.

Admins declare segments, personas, relationship categories, lifecycle stages and tags in YAML;
crm_sync computes them for every record from CRM activity, explains each value, and pushes the
results into CRM properties where workflows trigger on them.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
