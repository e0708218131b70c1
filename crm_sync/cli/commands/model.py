"""``crm-sync model diff OLD NEW``: what a model change would do, before it is published.

Evaluates both files on the same data (``--data``, default ``examples/data.json``) at the same
``--as-of`` (default: the day of the latest activity), and prints per set how many records change
value, the confusion matrix, the Adjusted Rand Index and sample ids. Exit code 0 always when both
files load (a diff is information, not an error); 2 when a file has problems.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from crm_sync.cli.commands.rules import DEFAULT_DATA, default_as_of
from crm_sync.cli.output import console, emit_json, fail
from crm_sync.errors import ConfigError
from crm_sync.model.frames import Dataset
from crm_sync.report.diff import diff_models
from crm_sync.rules.load import load_model

__all__ = ["register", "render_diff"]


def render_diff(result: dict[str, Any]) -> str:
    """Human-readable summary of :func:`crm_sync.report.diff.diff_models` output."""
    lines = [
        f"model diff {result['old']['path']} -> {result['new']['path']} as of {result['as_of']}: "
        f"{result['changed_records']} value change(s)"
    ]
    for name, s in result["sets"].items():
        if s.get("kind") == "changed_shape":
            lines.append(f"  {name}: entity/kind changed {s['old']} -> {s['new']}")
            continue
        lines.append(
            f"  {name} ({s['entity']}): {s['changed']} of {s['records']} change "
            f"({s['changed_share']:.1%})" + (f", ARI {s['ari']:.3f}" if "ari" in s else "")
        )
        for cell in s.get("samples", []):
            if isinstance(cell, dict):
                n = next(
                    c["n"]
                    for c in s["confusion"]
                    if (c["old"], c["new"]) == (cell["old"], cell["new"])
                )
                lines.append(
                    f"    {cell['old']} -> {cell['new']}: {n} (e.g. {', '.join(cell['ids'])})"
                )
        for tag in s.get("tags", []):
            lines.append(
                f"    {tag['tag']}: +{tag['added']} -{tag['removed']} (e.g. {', '.join(tag['samples'])})"
            )
    for key in ("added_sets", "removed_sets"):
        if result[key]:
            lines.append(f"  {key.replace('_', ' ')}: {', '.join(result[key])}")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add the ``model`` group with ``diff``."""
    group = typer.Typer(help="Work with segmentation model files.", no_args_is_help=True)
    app.add_typer(group, name="model")

    @group.command("diff")
    def diff_cmd(
        old: Annotated[Path, typer.Argument(help="The published model file.")],
        new: Annotated[Path, typer.Argument(help="The changed model file.")],
        data: Annotated[Path | None, typer.Option("--data", help="JSON data file.")] = None,
        as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    ) -> None:
        """How many records change value in each set, the confusion matrix and samples."""
        import datetime as dt  # noqa: PLC0415 - keep CLI start-up light

        try:
            path = data or DEFAULT_DATA
            if not path.exists():
                msg = f"data file {path} not found; pass --data FILE"
                raise ConfigError(msg)
            old_model, new_model = load_model(old), load_model(new)
            dataset = Dataset.load_json(path)
            try:
                day = dt.date.fromisoformat(as_of) if as_of else default_as_of(dataset)
            except ValueError as exc:
                msg = f"--as-of must be a date like 2025-10-01, got {as_of!r}"
                raise ConfigError(msg) from exc
            result = diff_models(old_model, new_model, dataset, day)
        except ConfigError as exc:
            raise typer.Exit(fail(exc, as_json=as_json)) from exc
        if as_json:
            emit_json(result)
        else:
            console.print(render_diff(result), markup=False, highlight=False)
