"""TEMPORARY ``crm-sync demo``: run the rules engine over the example data and summarise it.

A later issue replaces this with the sandbox sync demo (DESIGN §10). Until then it shows what the
default model computes: value counts per segment set, tag counts, lifecycle stages, and one
record explained. It must work on a fresh clone (``make demo``), so it only reads files shipped
in the repository.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from crm_sync.cli.commands.rules import DEFAULT_DATA, DEFAULT_MODEL, default_as_of
from crm_sync.cli.output import console, emit_json, fail
from crm_sync.errors import ConfigError, ModelFileError
from crm_sync.model.frames import Dataset
from crm_sync.rules.engine import evaluate
from crm_sync.rules.explain import explain_record, render_explanation
from crm_sync.rules.load import load_model

__all__ = ["register"]


def _run(model_path: Path, data_path: Path) -> dict[str, Any]:
    model = load_model(model_path)
    dataset = Dataset.load_json(data_path)
    as_of = default_as_of(dataset)
    ev = evaluate(model, dataset, as_of=as_of)
    summary = ev.summary()
    sample_id = str(ev.results["company"]["id"][0]) if ev.results["company"].height else None
    sample = explain_record(model, ev, "company", sample_id) if sample_id else None
    return {
        "ok": True,
        "model": str(model_path),
        "data": str(data_path),
        "records": {e: f.height for e, f in ev.results.items()},
        **summary,
        "sample": sample,
    }


def register(app: typer.Typer) -> None:
    """Add the temporary demo command."""

    @app.command("demo")
    def demo_cmd(
        json_out: Annotated[
            bool, typer.Option("--json", help="Print one JSON object on stdout.")
        ] = False,
        model: Annotated[
            Path, typer.Option("--model", help="Segmentation model file.")
        ] = DEFAULT_MODEL,
        data: Annotated[Path, typer.Option("--data", help="Example data file.")] = DEFAULT_DATA,
    ) -> None:
        """Evaluate the default model over the example data and print a summary (temporary)."""
        try:
            result = _run(model, data)
        except ConfigError as exc:
            if isinstance(exc, ModelFileError) and not json_out:
                for p in exc.problems:
                    console.print(str(p), markup=False)
            raise typer.Exit(fail(exc, as_json=json_out)) from exc
        if json_out:
            emit_json(result)
            return
        console.print(
            f"crm_sync demo: model {result['ruleset']} over {result['data']} as of {result['as_of']} "
            f"({result['records']['company']} companies, {result['records']['contact']} contacts)",
            markup=False,
        )
        for name, out in result["outputs"].items():
            counts = ", ".join(f"{k} {v}" for k, v in out["counts"].items())
            console.print(f"  {out['entity']:>7} {name:<22} {counts}", markup=False)
        if result["sample"] is not None:
            console.print("\nOne record explained (crm-sync explain company ID):", markup=False)
            console.print(render_explanation(result["sample"]), markup=False)
