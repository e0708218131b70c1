"""Start both CRM emulators in-process, seeded and sharing one fault plan.

Why one launcher: the CLI (``crm-sync sandbox serve``), the demo, the end-to-end tests and users'
own offline checks all need the same thing — a HubSpot portal and a Salesforce org on
127.0.0.1, holding the same generated book of business, failing in the same reproducible ways.
Doing that in one place keeps them from drifting apart.

Both emulators share one :class:`~crm_sync.sandbox.faults.FaultInjector`: a plan's rules name
the API they target (``api: hubspot|salesforce|any``), and a single call sequence makes a
failing end-to-end run reproducible across both CRMs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from crm_sync.sandbox.faults import FaultInjector, FaultPlan
from crm_sync.sandbox.http import SandboxServer
from crm_sync.sandbox.hubspot.app import HubSpotSandbox
from crm_sync.sandbox.salesforce.app import SalesforceSandbox
from crm_sync.sandbox.seed import Book, generate_book

__all__ = ["RunningSandbox", "start_sandbox"]


@dataclass
class RunningSandbox:
    """Both emulators being served; ``stop()`` (or leaving the ``with`` block) releases the ports."""

    hubspot: HubSpotSandbox
    salesforce: SalesforceSandbox
    hubspot_server: SandboxServer
    salesforce_server: SandboxServer
    faults: FaultInjector
    token: str
    book: Book | None = None
    _stopped: bool = field(default=False, repr=False)

    @property
    def hubspot_url(self) -> str:
        """Base URL for ``CRM_SYNC_HUBSPOT_BASE_URL``, e.g. ``http://127.0.0.1:40123``."""
        return self.hubspot_server.url

    @property
    def salesforce_url(self) -> str:
        """Instance URL for ``CRM_SYNC_SALESFORCE_INSTANCE_URL``."""
        return self.salesforce_server.url

    def environment(self) -> dict[str, str]:
        """The variables that point crm_sync (or a user's shell) at this sandbox."""
        return {
            "CRM_SYNC_HUBSPOT_BASE_URL": self.hubspot_url,
            "CRM_SYNC_SALESFORCE_INSTANCE_URL": self.salesforce_url,
            "HUBSPOT_ACCESS_TOKEN": self.token,
            "SALESFORCE_ACCESS_TOKEN": self.token,
        }

    def book_counts(self) -> dict[str, int]:
        """How many records of each kind were seeded (empty when the CRMs started empty)."""
        if self.book is None:
            return {}
        return {
            "companies": len(self.book.companies),
            "contacts": len(self.book.contacts),
            "potentials": len(self.book.potentials),
            "activities": len(self.book.activities),
        }

    def stop(self) -> None:
        """Stop both servers; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        try:
            self.hubspot_server.stop()
        finally:
            self.salesforce_server.stop()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_sandbox(
    *,
    seed: int = 0,
    size: int = 0,
    faults_file: Path | None = None,
    token: str = "sandbox",  # noqa: S107 - the documented sandbox token, not a secret
    hubspot_port: int = 0,
    salesforce_port: int = 0,
    as_of: dt.date | None = None,
) -> RunningSandbox:
    """Start both emulators on 127.0.0.1 (port 0 = a free ephemeral port) and return them running.

    With ``size > 0`` both are seeded with the same :func:`~crm_sync.sandbox.seed.generate_book`
    ``(seed, size, as_of)`` book. ``faults_file`` (YAML or JSON) loads a fault plan shared by both;
    it is read before anything starts, so a bad file never leaves a port bound.
    """
    plan = FaultPlan.load(faults_file) if faults_file is not None else FaultPlan()
    injector = FaultInjector(plan)
    hubspot = HubSpotSandbox(token=token, faults=injector)
    salesforce = SalesforceSandbox(token=token, faults=injector)
    book = generate_book(seed, size, as_of=as_of) if size > 0 else None
    if book is not None:
        # HubSpot's BookLike protocol declares plain (settable) attributes, which a frozen Book
        # cannot match for mypy although it provides every one of them; read-only is all it needs.
        hubspot.load_book(cast("Any", book))
        salesforce.load_book(book)
    hubspot_server = SandboxServer(hubspot.app, port=hubspot_port).start()
    try:
        salesforce_server = SandboxServer(salesforce.app, port=salesforce_port).start()
    except BaseException:
        hubspot_server.stop()
        raise
    return RunningSandbox(
        hubspot=hubspot,
        salesforce=salesforce,
        hubspot_server=hubspot_server,
        salesforce_server=salesforce_server,
        faults=injector,
        token=token,
        book=book,
    )
