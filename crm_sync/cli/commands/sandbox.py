"""``crm-sync sandbox serve``: run the HubSpot and Salesforce emulators until stopped.

Why a command: users check their mappings offline and the demo, CI jobs and other languages'
tests need both CRMs on known ports without writing Python. The command prints where they
listen (humans: stderr lines including ``export`` statements; ``--json``: one object on stdout,
printed once both are ready, so a wrapper can wait for it) and serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import signal
import threading
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


def _wait_for_stop() -> None:
    """Block until SIGINT or SIGTERM; the handlers only set an event, so shutdown runs here."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


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
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if as_json:
                emit_json({"ok": False, "error": {"type": type(exc).__name__, "message": message}})
            else:
                console.print(f"[bold red]error:[/] cannot start the sandbox: {message}")
            raise typer.Exit(2) from exc
        with running:
            if as_json:
                emit_json({"ok": True, **_describe(running)})
            else:
                console.print(f"HubSpot sandbox:    {running.hubspot_url}")
                console.print(f"Salesforce sandbox: {running.salesforce_url}")
                counts = running.book_counts()
                console.print(
                    "seeded: " + (", ".join(f"{k}={v}" for k, v in counts.items()) or "empty")
                )
                shown = running.environment()
                if token != DEFAULT_TOKEN:  # the user chose it; do not echo it into logs
                    shown = {k: ("<--token>" if v == token else v) for k, v in shown.items()}
                for key, value in shown.items():
                    console.print(f"export {key}={value}")
                console.print("serving; press Ctrl-C to stop")
            _wait_for_stop()
        if not as_json:
            console.print("sandbox stopped")

    app.add_typer(group, name="sandbox")
