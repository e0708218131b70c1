"""``crm-sync provision --target hubspot|salesforce [--apply] [--force] [--json]``.

Prints the plan first — groups, properties, options, fields and their security — and the drift
found (DESIGN §8); with ``--apply`` executes that same plan, idempotently. Option removals that
would orphan data are listed but only executed with ``--force``. The adapter is resolved like
``crm-sync run`` does (``from_settings``), and must implement
:class:`~crm_sync.adapters.provisioning.SupportsProvisioning`.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from crm_sync.adapters.provisioning import ProvisionPlan, SupportsProvisioning
from crm_sync.cli.output import console, emit_json, fail
from crm_sync.config import Settings
from crm_sync.errors import ConfigError, CrmSyncError
from crm_sync.mapping.load import load_mapping_file
from crm_sync.sync.api import resolve_adapter
from crm_sync.sync.computer import RulesComputer

__all__ = ["register"]


def _print_plan(plan: ProvisionPlan) -> None:
    console.print(f"provisioning plan for {plan.target} ({plan.account}):", markup=False)
    if not plan.steps:
        console.print("  nothing to do: the CRM matches the mapping", markup=False)
    for step in plan.steps:
        flag = "  [needs --force]" if step.needs_force else ""
        detail = f" ({step.detail})" if step.detail else ""
        console.print(f"  {step.action:<16} {step.object}.{step.name}{detail}{flag}", markup=False)
    for d in plan.drift:
        console.print(
            f"  drift: {d.object}.{d.name} {d.kind}: expected {d.expected!r}, found {d.actual!r}"
            + (f" - {d.detail}" if d.detail else ""),
            markup=False,
        )


def provision(
    target: str, *, apply: bool, force: bool, settings: Settings | None = None
) -> dict[str, Any]:
    """Plan (and optionally apply) provisioning for ``target``; returns the JSON-ready result."""
    settings = settings or Settings()
    computer = RulesComputer(settings.model_path)
    mapping = load_mapping_file(settings.mapping_path(target), computer)
    adapter = resolve_adapter(target, settings, mapping)
    if not isinstance(adapter, SupportsProvisioning):
        msg = f"the {target} adapter cannot provision (no plan_provision/apply_provision)"
        raise ConfigError(msg)
    plan = adapter.plan_provision(mapping, force=force)
    out: dict[str, Any] = {"ok": True, "plan": plan.to_dict(), "applied": None}
    if apply:
        out["applied"] = adapter.apply_provision(plan, force=force).to_dict()
    return out


def register(app: typer.Typer) -> None:
    """Add ``crm-sync provision``."""

    @app.command("provision")
    def provision_cmd(
        target: Annotated[str, typer.Option("--target", help="hubspot or salesforce")] = "hubspot",
        apply: Annotated[bool, typer.Option("--apply", help="execute the plan")] = False,
        force: Annotated[
            bool, typer.Option("--force", help="also remove options that still hold data")
        ] = False,
        json_out: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    ) -> None:
        """Compare the mapping with the CRM, print the plan, and with --apply execute it."""
        try:
            result = provision(target, apply=apply, force=force)
        except CrmSyncError as exc:
            raise typer.Exit(fail(exc, as_json=json_out)) from exc
        if json_out:
            emit_json(result)
            return
        _print_plan(_plan_of(result))
        if result["applied"] is not None:
            applied, skipped = result["applied"]["applied"], result["applied"]["skipped"]
            console.print(f"applied {len(applied)} step(s)", markup=False)
            if skipped:
                console.print(
                    f"skipped {len(skipped)} step(s) that would orphan data; re-run with --force",
                    markup=False,
                )
        elif result["plan"]["steps"]:
            console.print("dry run: re-run with --apply to execute this plan", markup=False)


def _plan_of(result: dict[str, Any]) -> ProvisionPlan:
    from crm_sync.adapters.provisioning import DriftItem, ProvisionStep  # noqa: PLC0415

    raw = result["plan"]
    return ProvisionPlan(
        raw["target"],
        raw["account"],
        tuple(ProvisionStep(**s) for s in raw["steps"]),
        tuple(DriftItem(**d) for d in raw["drift"]),
    )
