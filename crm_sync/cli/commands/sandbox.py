"""``crm-sync sandbox serve``: run the HubSpot and Salesforce emulators until stopped.

Why a command: users check their mappings offline and the demo, CI jobs and other languages'
tests need both CRMs on known ports without writing Python. The command prints where they
listen (humans: stderr lines including ``export`` statements; ``--json``: one object on stdout,
printed once both are ready, so a wrapper can wait for it) and serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
import yaml
from pydantic import ValidationError

from crm_sync.cli.output import console, emit_json
from crm_sync.sandbox.launcher import RunningSandbox, start_sandbox

__all__ = ["register"]

DEFAULT_SIZE = 200
DEFAULT_TOKEN = "sandbox"  # noqa: S105 - the documented sandbox token, not a secret


def _describe(running: RunningSandbox) -> dict[str, object]:
    return {
        "hubspot_url": running.hubspot_url,
        "salesforce_url": running.salesforce_url,
        "seeded": running.book_counts(),
        "environment": running.environment(),
    }


@contextlib.contextmanager
def _stop_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM, for the duration of the block.

    Installed before anything is printed, so a wrapper that signals as soon as it reads the URLs
    still gets a clean shutdown (exit 0) rather than a KeyboardInterrupt. The handlers only set
    the event; stopping the servers happens in the main thread.
    """
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _report_start_failure(exc: Exception, *, as_json: bool) -> None:
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if as_json:
        emit_json({"ok": False, "error": {"type": type(exc).__name__, "message": message}})
    else:
        console.print(f"[bold red]error:[/] cannot start the sandbox: {message}")


def _announce(running: RunningSandbox, *, token: str, as_json: bool) -> None:
    """Say where both emulators listen: one JSON object on stdout, or lines on stderr."""
    if as_json:
        emit_json({"ok": True, **_describe(running)})
        return
    console.print(f"HubSpot sandbox:    {running.hubspot_url}")
    console.print(f"Salesforce sandbox: {running.salesforce_url}")
    counts = running.book_counts()
    console.print("seeded: " + (", ".join(f"{k}={v}" for k, v in counts.items()) or "empty"))
    shown = running.environment()
    if token != DEFAULT_TOKEN:  # the user chose it; do not echo it into logs
        shown = {k: ("<--token>" if v == token else v) for k, v in shown.items()}
    for key, value in shown.items():
        console.print(f"export {key}={value}")
    console.print("serving; press Ctrl-C to stop")


def register(app: typer.Typer) -> None:
    """Add the ``sandbox`` command group."""
    group = typer.Typer(
        name="sandbox",
        help="Local HubSpot and Salesforce emulators (offline checks, demo, tests).",
        no_args_is_help=True,
    )

    @group.command("serve")
    def serve(  # noqa: PLR0917 - typer maps each parameter to an option
        hubspot_port: Annotated[
            int, typer.Option("--hubspot-port", help="HubSpot port on 127.0.0.1 (0 = any free).")
        ] = 0,
        salesforce_port: Annotated[
            int,
            typer.Option("--salesforce-port", help="Salesforce port on 127.0.0.1 (0 = any free)."),
        ] = 0,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the generated book.")] = 0,
        size: Annotated[
            int, typer.Option("--size", help="Companies in the generated book (0 = empty CRMs).")
        ] = DEFAULT_SIZE,
        faults: Annotated[
            Path | None, typer.Option("--faults", help="Fault plan file (YAML or JSON).")
        ] = None,
        token: Annotated[
            str, typer.Option("--token", help="Bearer token both emulators accept.")
        ] = DEFAULT_TOKEN,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print one JSON object on stdout when ready.")
        ] = False,
    ) -> None:
        """Serve both emulators, seeded with a generated book, until Ctrl-C or SIGTERM."""
        if size < 0:
            console.print("[bold red]error:[/] --size must be >= 0")
            raise typer.Exit(2)
        with _stop_signals() as stop:
            try:
                running = start_sandbox(
                    seed=seed,
                    size=size,
                    faults_file=faults,
                    token=token,
                    hubspot_port=hubspot_port,
                    salesforce_port=salesforce_port,
                )
            except (OSError, ValidationError, yaml.YAMLError, ValueError) as exc:
                _report_start_failure(exc, as_json=as_json)
                raise typer.Exit(2) from exc
            with running:
                _announce(running, token=token, as_json=as_json)
                while not stop.wait(0.5):
                    pass
        if not as_json:
            console.print("sandbox stopped")

    app.add_typer(group, name="sandbox")
