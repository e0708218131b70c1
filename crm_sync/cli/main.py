"""The ``crm-sync`` command. Thin on purpose: parse arguments, call the library, print.

Each command group lives in its own module under :mod:`crm_sync.cli.commands` and exposes
``register(app)``; modules are discovered here, so adding a command never edits this file.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from crm_sync.cli import commands
from crm_sync.cli.output import exit_for
from crm_sync.errors import CrmSyncError

app = typer.Typer(
    name="crm-sync",
    help="Keep customer segmentation alive inside HubSpot and Salesforce.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    for module in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        importlib.import_module(f"{commands.__name__}.{module.name}").register(app)


_register_commands()


def main() -> None:
    """Console-script entry point: project errors become a clear message and exit code 2."""
    try:
        app(standalone_mode=True)
    except CrmSyncError as exc:  # pragma: no cover - commands handle their own errors first
        sys.exit(exit_for(exc))
