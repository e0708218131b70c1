"""``crm-sync dispatch``: enqueue one distributed cycle (for cron, instead of celery beat)."""

from __future__ import annotations

from typing import Annotated

import typer

from crm_sync.cli.output import emit_json

__all__ = ["register", "run_celery_worker"]


def run_celery_worker(concurrency: int, queue: str | None) -> None:
    """``crm-sync worker --celery``: a Celery worker consuming the crm_sync queue."""
    from crm_sync.distributed.celery_app import QUEUE, app  # noqa: PLC0415 - needs celery

    argv = ["worker", "--loglevel=INFO", f"--concurrency={concurrency}", f"-Q{queue or QUEUE}"]
    app.worker_main(argv)


def register(app: typer.Typer) -> None:
    """Add ``dispatch``."""

    @app.command("dispatch")
    def dispatch_cmd(
        account: Annotated[
            list[str] | None, typer.Option("--account", help="only these accounts (repeatable)")
        ] = None,
    ) -> None:
        """Enqueue pull tasks per account and object type, then a sync per account."""
        from crm_sync.distributed.celery_app import dispatch_task  # noqa: PLC0415

        dispatch_task.delay(account or None)
        emit_json({"ok": True, "dispatched": account or "all"})
