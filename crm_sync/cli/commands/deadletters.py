"""``crm-sync deadletters list|retry|waive``: records the CRM refused, and what to do with them."""

from __future__ import annotations

from typing import Annotated

import typer

from crm_sync.cli.output import console, emit_json, fail
from crm_sync.config import Settings
from crm_sync.errors import CrmSyncError
from crm_sync.sync import deadletters
from crm_sync.sync.api import open_store

__all__ = ["register"]

Account = Annotated[
    str | None, typer.Option("--account", help="e.g. hubspot:12345; all when omitted")
]
Ids = Annotated[list[str] | None, typer.Argument(help="record ids; all open ones when omitted")]
Json = Annotated[bool, typer.Option("--json")]


def register(app: typer.Typer) -> None:
    """Add the ``deadletters`` group."""
    group = typer.Typer(
        help="Records the CRM rejected: list, retry on the next run, or waive.",
        no_args_is_help=True,
    )
    app.add_typer(group, name="deadletters")

    @group.command("list")
    def list_cmd(
        account: Account = None,
        status: Annotated[str, typer.Option("--status")] = "open",
        as_json: Json = False,
    ) -> None:
        """List dead letters (open by default; --status waived|resolved|all)."""
        try:
            store = open_store(Settings())
            try:
                rows = deadletters.list_letters(store, account, None if status == "all" else status)
            finally:
                store.close()
        except CrmSyncError as exc:
            raise typer.Exit(fail(exc, as_json=as_json)) from exc
        if as_json:
            emit_json({"ok": True, "dead_letters": rows})
            return
        for r in rows:
            console.print(
                f"{r['account']} {r['entity']}:{r['record_id']} [{r['status']}] "
                f"attempts={r['attempts']} next={r['next_try_at']} — {r['reason']}",
                markup=False,  # the status sits in brackets; rich would read it as markup
            )
        if not rows:
            console.print("no dead letters")

    @group.command("retry")
    def retry_cmd(ids: Ids = None, account: Account = None, as_json: Json = False) -> None:
        """Make dead letters due now; the next run retries them."""
        _change(deadletters.retry_now, ids, account, as_json, "queued for the next run")

    @group.command("waive")
    def waive_cmd(ids: Ids = None, account: Account = None, as_json: Json = False) -> None:
        """Stop retrying these records (an admin accepts they will not sync)."""
        _change(deadletters.waive, ids, account, as_json, "waived")


def _change(
    fn: object, ids: list[str] | None, account: str | None, as_json: bool, verb: str
) -> None:
    assert callable(fn)
    try:
        store = open_store(Settings())
        try:
            n = int(fn(store, account, ids or None))
        finally:
            store.close()
    except CrmSyncError as exc:
        raise typer.Exit(fail(exc, as_json=as_json)) from exc
    if as_json:
        emit_json({"ok": True, "changed": n})
    else:
        console.print(f"{n} dead letter(s) {verb}")
