"""The run's lease on its CRM account: one writer per portal/org (DESIGN §6).

A holder id names the host, process and a random suffix so ``crm-sync status`` and the
:class:`~crm_sync.errors.LockHeld` message tell an operator exactly which worker is running. The
lease expires (default 15 minutes) and is renewed between batches; a worker killed mid-run is
taken over once its lease expires.
"""

from __future__ import annotations

import os
import secrets
import socket
from types import TracebackType

from crm_sync.store import leases
from crm_sync.store.sql import Store

__all__ = ["Lease", "new_holder_id"]


def new_holder_id() -> str:
    """``host:pid:random`` — unique per worker process and readable in status output."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Lease:
    """Context manager: acquire on enter (or raise LockHeld), release on exit."""

    def __init__(self, store: Store, account: str, holder: str, ttl_s: float = 900.0) -> None:
        self.store = store
        self.account = account
        self.holder = holder
        self.ttl_s = ttl_s

    def __enter__(self) -> Lease:
        leases.acquire(self.store, self.account, self.holder, self.ttl_s)
        return self

    def renew(self) -> bool:
        """Extend the lease; False means another worker took it over (stop pushing)."""
        return leases.renew(self.store, self.account, self.holder, self.ttl_s)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        leases.release(self.store, self.account, self.holder)
