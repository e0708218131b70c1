"""crm_sync: keep customer segmentation alive inside HubSpot and Salesforce.

Admins declare segments, personas, relationship categories, lifecycle stages and tags in YAML;
crm_sync computes them for every record from CRM activity, explains each value, and pushes the
results into CRM properties where workflows trigger on them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "run"]

if TYPE_CHECKING:
    from crm_sync.sync.engine import RunRecord


def run(target: str = "hubspot", **kwargs: Any) -> RunRecord:
    """Run one sync and return its run record (for Airflow, Dagster, Prefect and scripts).

    Imported lazily so ``import crm_sync`` stays cheap; see :func:`crm_sync.sync.api.run` for the
    keyword arguments (``dry_run``, ``as_of``, ``settings``, ``crm_file``, ``adapter``, ...).

    .. versionadded:: 0.1
    """
    from crm_sync.sync.api import run as _run  # noqa: PLC0415 - lazy on purpose

    return _run(target, **kwargs)
