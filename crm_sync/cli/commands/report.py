"""``crm-sync report --html FILE [--json]``: segment evolution and quality, as a page or JSON.

Where the history comes from:

* ``--data FILE`` (or no store with record snapshots yet): the model is evaluated on the data
  file at ``--runs`` dates ``--step`` days apart ending at ``--as-of`` (default: the latest
  activity), one run per date. No CRM, no store needed; ``examples/data.json`` is the default;
* otherwise the state store (``--store-url`` or the configured one): the last ``--runs`` runs of
  ``--account`` with their per-record snapshots.

``--json`` prints exactly one JSON object (the same numbers the page shows) on stdout.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from crm_sync.cli.commands.rules import DEFAULT_DATA, default_as_of
from crm_sync.cli.output import console, emit_json, fail
from crm_sync.config import Settings
from crm_sync.errors import ConfigError, CrmSyncError
from crm_sync.model.frames import Dataset
from crm_sync.report.build import ReportOptions, build_report
from crm_sync.report.frames import Snapshots
from crm_sync.report.html import render_html
from crm_sync.report.source import as_of_dates, snapshots_from_data
from crm_sync.rules.load import load_model

__all__ = ["load_snapshots", "register", "summary_lines"]


def load_snapshots(
    *,
    model_path: Path,
    data: Path | None,
    runs: int,
    step: int,
    as_of: str | None,
    store_url: str | None,
    account: str | None,
) -> Snapshots:
    """The history to report on (see the module docstring for the order of sources)."""
    model = load_model(model_path)
    if data is None:
        from crm_sync.report import store_source  # noqa: PLC0415 - only when a store is used

        settings = Settings()
        url = store_url or settings.store_url
        if url or settings.store_path.exists():
            snap = store_source.snapshots_from_store_url(
                url, settings.store_path, model, account=account, runs=runs
            )
            if snap is not None:
                return snap
        data = DEFAULT_DATA
    if not data.exists():
        msg = f"data file {data} not found; pass --data FILE or run a sync first"
        raise ConfigError(msg)
    if runs < 1 or step < 1:
        msg = "--runs and --step must be at least 1"
        raise ConfigError(msg)
    dataset = Dataset.load_json(data)
    try:
        last = dt.date.fromisoformat(as_of) if as_of else default_as_of(dataset)
    except ValueError as exc:
        msg = f"--as-of must be a date like 2025-10-01, got {as_of!r}"
        raise ConfigError(msg) from exc
    return snapshots_from_data(
        model, dataset, as_of_dates(last, runs, step), origin=f"{data} evaluated at {runs} dates"
    )


def summary_lines(report: dict[str, Any]) -> list[str]:
    """A few lines for humans on stderr."""
    if not report.get("ok"):
        return [str(report.get("error", "no report"))]
    runs = report["runs"]
    lines = [f"{len(runs)} runs {runs[0]['as_of']} .. {runs[-1]['as_of']} ({report['origin']})"]
    cur = report["current_run"]
    for c in report["coverage"]:
        if c["run"] == cur:
            lines.append(f"  {c['set']}: coverage {c['coverage']:.1%}")
    for t in report["transitions"]:
        if t.get("stability") is not None:
            lines.append(f"  {t['set']}: stability {t['stability']:.1%}")
    for d in report["drift"]:
        lines.append(f"  {d['set']}: PSI {d['psi']:.3f} ({d['level']})")
    return lines


def register(app: typer.Typer) -> None:
    """Add ``report``."""

    @app.command("report")
    def report_cmd(  # noqa: PLR0917 - typer maps each parameter to an option
        html: Annotated[
            Path | None, typer.Option("--html", help="Write the HTML page here.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
        model: Annotated[Path, typer.Option("--model")] = Path("mappings/model.yaml"),
        data: Annotated[
            Path | None, typer.Option("--data", help="Evaluate this data file.")
        ] = None,
        runs: Annotated[int, typer.Option("--runs", help="Number of runs.")] = 6,
        step: Annotated[
            int, typer.Option("--step", help="Days between as_of dates (--data).")
        ] = 30,
        as_of: Annotated[str | None, typer.Option("--as-of", help="Last as_of (--data).")] = None,
        store_url: Annotated[str | None, typer.Option("--store-url")] = None,
        account: Annotated[str | None, typer.Option("--account")] = None,
        reference_run: Annotated[int | None, typer.Option("--reference-run")] = None,
        flapping_window: Annotated[int, typer.Option("--flapping-window")] = 5,
    ) -> None:
        """Segment sizes, transitions, relationship map, completeness, lift, drift, freshness."""
        try:
            snap = load_snapshots(
                model_path=model,
                data=data,
                runs=runs,
                step=step,
                as_of=as_of,
                store_url=store_url,
                account=account,
            )
            opts = ReportOptions(reference_run=reference_run, flapping_window=flapping_window)
            report = build_report(snap, opts)
            if html is not None and report.get("ok"):
                html.parent.mkdir(parents=True, exist_ok=True)
                html.write_text(render_html(report), encoding="utf-8")
        except CrmSyncError as exc:
            raise typer.Exit(fail(exc, as_json=as_json)) from exc
        if as_json:
            emit_json({**report, "html": str(html) if html else None})
        else:
            for line in summary_lines(report):
                console.print(line, markup=False, highlight=False)
            if html is not None:
                console.print(f"wrote {html}", markup=False)
        raise typer.Exit(0 if report.get("ok") else 1)
