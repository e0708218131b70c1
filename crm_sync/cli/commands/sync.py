"""``crm-sync run`` and ``crm-sync worker``: the sync loop from the command line.

Both call :func:`crm_sync.sync.api.run`, the same code path as the Python API. Progress goes to
stderr (bars on a TTY, plain lines otherwise); ``--json`` prints exactly one JSON object on stdout.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from crm_sync.cli.output import console, emit_json, fail
from crm_sync.config import Settings
from crm_sync.errors import ConfigError, CrmSyncError
from crm_sync.sync.api import run
from crm_sync.sync.engine import RunRecord
from crm_sync.sync.worker import GracefulStop, parse_duration, serve

__all__ = ["register"]

Target = Annotated[str, typer.Option("--target", help="hubspot, salesforce or memory")]
CrmFile = Annotated[
    Path | None, typer.Option("--crm-file", help="memory target: JSON file holding the fake CRM")
]
Json = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]


class CliProgress:
    """Rich bars on a TTY, one plain line per phase otherwise (logs, CI)."""

    def __init__(self, enabled: bool) -> None:
        self.tty = enabled and sys.stderr.isatty()
        self.enabled = enabled
        self.bars: Progress | None = None
        self.tasks: dict[str, TaskID] = {}
        self.totals: dict[str, int] = {}

    def phase(self, name: str, total: int | None) -> None:
        """Start a bar (or remember the phase for its summary line)."""
        self.totals[name] = 0
        if self.tty:
            if self.bars is None:
                self.bars = Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    TextColumn("{task.completed}"),
                    TimeElapsedColumn(),
                    console=console,
                    transient=False,
                )
                self.bars.start()
            self.tasks[name] = self.bars.add_task(name, total=total)

    def advance(self, name: str, n: int) -> None:
        """Move the bar."""
        self.totals[name] = self.totals.get(name, 0) + n
        if self.bars is not None and name in self.tasks:
            self.bars.advance(self.tasks[name], n)

    def done(self, name: str, summary: str) -> None:
        """Finish the bar, or print one plain line."""
        if not self.enabled:
            return
        if self.bars is not None and name in self.tasks:
            task = self.tasks[name]
            self.bars.update(task, total=self.bars.tasks[task].completed)
        else:
            console.print(f"{name}: {self.totals.get(name, 0)} {summary}".rstrip())

    def close(self) -> None:
        """Stop the live display."""
        if self.bars is not None:
            self.bars.stop()


def _human(record: RunRecord) -> None:
    console.print(
        f"run {record.id} on {record.account}: [bold]{record.status}[/]"
        f"{' (dry run)' if record.dry_run else ''}"
    )
    for key, value in record.counts.items():
        console.print(f"  {key}: {value}")
    if record.dry_run:
        console.print("plan (nothing was sent):")
        for prop, entry in record.plan.items():
            console.print(f"  {prop}: {entry['creates']} creates, {entry['updates']} updates")
            for sample in entry["samples"]:
                console.print(f"    e.g. {sample}")
    for err in record.errors:
        console.print(f"  [yellow]{err}[/]")


def _run_once(
    target: str,
    *,
    dry_run: bool,
    crm_file: Path | None,
    as_json: bool,
    stop: Any = None,
    as_of: str | None = None,
) -> RunRecord:
    progress = CliProgress(enabled=not as_json)
    try:
        from crm_sync.sync.options import RunOptions  # noqa: PLC0415

        settings = Settings()
        opts = RunOptions(
            budget=settings.run_budget,
            page_size=settings.page_size,
            overlap_s=settings.overlap_s,
            lease_ttl_s=settings.lease_ttl_s,
            rate=settings.rate_per_s if target != "memory" else 0.0,
        )
        if stop is not None:
            opts.should_stop = stop
        day: dt.date | None = None
        if as_of is not None:
            try:
                day = dt.date.fromisoformat(as_of)
            except ValueError as exc:
                msg = f"--as-of must be a date like 2026-11-01, got {as_of!r}"
                raise ConfigError(msg) from exc
        return run(
            target,
            as_of=day,
            dry_run=dry_run,
            crm_file=crm_file,
            progress=progress,
            settings=settings,
            options=opts,
        )
    finally:
        progress.close()


def register(app: typer.Typer) -> None:
    """Add ``run`` and ``worker``."""

    @app.command("run")
    def run_cmd(
        target: Target = "hubspot",
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="print the plan; send no write")
        ] = False,
        crm_file: CrmFile = None,
        as_json: Json = False,
        as_of: Annotated[
            str | None,
            typer.Option(
                "--as-of", help="evaluate windows as of this date (default: today, UTC); backfills"
            ),
        ] = None,
    ) -> None:
        """Pull, recompute, diff and push once (incremental; safe to re-run after a crash)."""
        try:
            record = _run_once(
                target, dry_run=dry_run, crm_file=crm_file, as_json=as_json, as_of=as_of
            )
        except CrmSyncError as exc:
            raise typer.Exit(fail(exc, as_json=as_json)) from exc
        if as_json:
            emit_json(
                {"ok": record.status in ("ok", "quota_stopped", "stopped"), "run": record.to_dict()}
            )
        else:
            _human(record)
        if record.status == "quota_stopped":
            raise typer.Exit(3)

    @app.command("worker")
    def worker_cmd(  # noqa: PLR0917 - typer maps each option to a parameter
        every: Annotated[str, typer.Option("--every", help="interval, e.g. 15m")] = "15m",
        target: Target = "hubspot",
        crm_file: CrmFile = None,
        as_json: Json = False,
        max_runs: Annotated[
            int | None, typer.Option("--max-runs", help="stop after N runs")
        ] = None,
        celery: Annotated[
            bool, typer.Option("--celery", help="be a Celery worker for distributed runs")
        ] = False,
        concurrency: Annotated[int, typer.Option("--concurrency", help="with --celery")] = 1,
    ) -> None:
        """Run every interval; SIGTERM stops gracefully between batches."""
        if celery:
            from crm_sync.cli.commands.distributed import run_celery_worker  # noqa: PLC0415

            run_celery_worker(concurrency, None)
            return
        stop = GracefulStop().install()
        records: list[dict[str, Any]] = []
        try:
            interval = parse_duration(every)
            serve(
                lambda s: _run_once(
                    target, dry_run=False, crm_file=crm_file, as_json=as_json, stop=s
                ),
                interval,
                stop,
                lambda r: records.append(r.to_dict()) if as_json else _human(r),
                max_runs=max_runs,
            )
        except CrmSyncError as exc:
            raise typer.Exit(fail(exc, as_json=as_json)) from exc
        if as_json:
            emit_json({"ok": True, "runs": records})
