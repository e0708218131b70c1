"""``crm-sync demo``: the whole loop against the built-in sandbox, twice per CRM (DESIGN §10).

Thin on purpose: :func:`crm_sync.demo.run_demo` does the work (start the sandbox, seed, provision,
run the real sync engine twice per target) so the Python API, the docs tests and ``make demo`` share
one code path. The exit code tells a script whether the demo proved what it claims: 0 only when
every target ran and its second run pushed nothing.
"""

from __future__ import annotations

from typing import Annotated

import typer

from crm_sync.demo import DEFAULT_SIZE, run_demo

__all__ = ["register"]

_TARGETS = ("hubspot", "salesforce")


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command."""

    @app.command("demo")
    def demo_cmd(
        json_out: Annotated[
            bool,
            typer.Option("--json", help="Print one JSON object (with a `runs` list) on stdout."),
        ] = False,
        target: Annotated[
            list[str] | None,
            typer.Option("--target", help="hubspot and/or salesforce (repeatable; default both)."),
        ] = None,
        size: Annotated[
            int, typer.Option("--size", min=1, help="Companies to seed (about 3 contacts each).")
        ] = DEFAULT_SIZE,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the generated book.")] = 7,
    ) -> None:
        """Start the sandbox, seed it, provision, run twice per CRM and print what happened."""
        targets = tuple(target or _TARGETS)
        unknown = [t for t in targets if t not in _TARGETS]
        if unknown:
            msg = f"unknown target(s) {', '.join(unknown)}; use hubspot and/or salesforce"
            raise typer.BadParameter(msg, param_hint="--target")
        summary = run_demo(targets=targets, size=size, seed=seed, as_json=json_out)
        failed = [t for t in summary["targets"] if t["status"] != "ok"]
        pushed_again = [t for t, n in summary["second_run_pushed"].items() if n]
        if failed or pushed_again:
            raise typer.Exit(1)
