"""``crm-sync status``: last runs, open dead letters, cursors and the lease holder per account."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from crm_sync.cli.output import console, emit_json, fail
from crm_sync.config import Settings
from crm_sync.errors import CrmSyncError
from crm_sync.store import leases
from crm_sync.sync import deadletters
from crm_sync.sync.api import open_store

__all__ = ["register", "status"]


def status(limit: int = 5) -> dict[str, Any]:
    """Everything an operator checks first, as one JSON-ready object (no secrets)."""
    store = open_store(Settings())
    try:
        runs = store.runs(limit=limit)
        accounts = sorted({r["account"] for r in store.runs(limit=200)})
        out: dict[str, Any] = {"runs": runs, "accounts": {}}
        for account in accounts:
            holder = leases.holder_of(store, account)
            out["accounts"][account] = {
                "cursors": store.cursors(account),
                "lease": {"holder": holder[0], "expires_at": holder[1].isoformat()}
                if holder
                else None,
                "dead_letters_open": len(deadletters.list_letters(store, account)),
            }
        return out
    finally:
        store.close()


def register(app: typer.Typer) -> None:
    """Add ``status``."""

    @app.command("status")
    def status_cmd(
        as_json: Annotated[bool, typer.Option("--json")] = False,
        limit: Annotated[int, typer.Option("--limit")] = 5,
    ) -> None:
        """Show the last runs, dead letters, cursors and who holds each lease."""
        try:
            data = status(limit)
        except CrmSyncError as exc:
            raise typer.Exit(fail(exc, as_json=as_json)) from exc
        if as_json:
            emit_json({"ok": True, **data})
            return
        for r in data["runs"]:
            counts = r["detail"].get("counts", {})
            console.print(
                f"run {r['id']} {r['account']} {r['status']} as_of={r['as_of']} "
                f"pushed={counts.get('records_pushed', 0)} started={r['started_at']}"
            )
        for account, info in data["accounts"].items():
            lease = info["lease"]
            console.print(
                f"{account}: lease={'free' if not lease else lease['holder'] + ' until ' + lease['expires_at']}"
                f" dead_letters={info['dead_letters_open']}"
            )
            for stream, pos in info["cursors"].items():
                console.print(f"  cursor {stream}: {pos}")
