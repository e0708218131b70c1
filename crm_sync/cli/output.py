"""How every command prints: one JSON object on stdout with ``--json``, humans get stderr/TTY.

DESIGN §10 makes ``--json`` a contract: exactly one JSON object on stdout, nothing else there,
so orchestrators can parse it. Human-readable output goes to stderr through rich.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape

from crm_sync.errors import ConfigError, CrmSyncError, LockHeld, QuotaExhausted, redact

__all__ = ["console", "emit_json", "exit_for", "fail"]

console = Console(stderr=True, highlight=False, soft_wrap=True)


def emit_json(payload: dict[str, Any]) -> None:
    """Write one JSON object on stdout (dates and other values via ``str``)."""
    sys.stdout.write(json.dumps(payload, default=str, ensure_ascii=False, sort_keys=False))
    sys.stdout.write("\n")
    sys.stdout.flush()


def exit_for(exc: CrmSyncError) -> int:
    """Exit codes by what the operator should do: 2 fix input, 3 try later, 1 anything else."""
    if isinstance(exc, ConfigError):
        return 2
    if isinstance(exc, (LockHeld, QuotaExhausted)):
        return 3
    return 1


def fail(exc: CrmSyncError, *, as_json: bool) -> int:
    """Report ``exc`` (redacted) in the requested format and return the exit code to use."""
    message = redact(str(exc))
    if as_json:
        emit_json({"ok": False, "error": {"type": type(exc).__name__, "message": message}})
    else:
        console.print(f"[bold red]error:[/] {escape(message)}", markup=True)
    return exit_for(exc)
