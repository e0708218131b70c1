"""Distributed runs (issue #9): shared rate budget, per-account/object tasks, Celery app.

Import :mod:`crm_sync.distributed.celery_app` only where Celery is installed (the
``distributed`` extra); the rest needs nothing beyond the core dependencies.
"""

from crm_sync.distributed.budget import RateLimit, SharedRateBudget
from crm_sync.distributed.runner import Runtime, pull_stream, sync_account

__all__ = ["RateLimit", "Runtime", "SharedRateBudget", "pull_stream", "sync_account"]
