"""``crm-sync webhooks serve``: the HubSpot / Salesforce webhook receiver under uvicorn.

Behind a TLS-terminating proxy set ``CRM_SYNC_WEBHOOK_PUBLIC_URL`` to the public base URL:
HubSpot signs the URL it called, not the one the proxy forwards to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crm_sync.cli.output import fail
from crm_sync.config import Settings
from crm_sync.errors import CrmSyncError

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``webhooks`` group."""
    group = typer.Typer(help="Receive CRM webhooks and queue targeted recomputes.")
    app.add_typer(group, name="webhooks")

    @group.command("serve")
    def serve_cmd(
        port: Annotated[int, typer.Option("--port", help="TCP port")] = 8080,
        host: Annotated[str, typer.Option("--host", help="bind address")] = "127.0.0.1",
        accounts: Annotated[
            Path, typer.Option("--accounts", envvar="CRM_SYNC_ACCOUNTS_FILE", help="accounts file")
        ] = Path("accounts.yaml"),
    ) -> None:
        """Serve POST /webhooks/hubspot and /webhooks/salesforce until stopped."""
        import uvicorn  # noqa: PLC0415 - the distributed extra; keeps the CLI fast to start

        from crm_sync.sync.api import open_store  # noqa: PLC0415
        from crm_sync.webhooks.serve import build_receiver  # noqa: PLC0415

        settings = Settings()
        try:
            store = open_store(settings)
            asgi = build_receiver(settings, store, accounts)
        except CrmSyncError as exc:
            raise typer.Exit(fail(exc, as_json=False)) from exc
        try:
            uvicorn.run(asgi, host=host, port=port, log_level="info", proxy_headers=True)
        finally:
            store.close()
