"""``crm-sync validate``, ``crm-sync lint`` and ``crm-sync explain ENTITY ID``.

Until the state store exists, records and activities come from a JSON input file (``--data``,
default ``examples/data.json``); ``--as-of`` defaults to the day of the latest activity in that
file, so the example data gives the same answers whenever it is run. Every command prints
``file:line:col: message`` lines for humans (stderr) or exactly one JSON object with ``--json``.
Exit codes: 0 clean, 2 something to fix in the files.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from crm_sync.cli.commands._stored import load_stored_run
from crm_sync.cli.output import console, emit_json, fail
from crm_sync.errors import ConfigError, FileProblem, ModelFileError, Position
from crm_sync.model.frames import Dataset
from crm_sync.rules.compiled import SegmentationModel
from crm_sync.rules.engine import evaluate
from crm_sync.rules.explain import explain_record, render_explanation
from crm_sync.rules.lint import lint_evaluation
from crm_sync.rules.load import load_model

__all__ = ["default_as_of", "register", "validate_files"]

DEFAULT_MODEL = Path("mappings/model.yaml")
DEFAULT_DATA = Path("examples/data.json")

ModelOpt = Annotated[Path, typer.Option("--model", help="Segmentation model file.")]
DataOpt = Annotated[
    Path | None,
    typer.Option("--data", help="JSON file of companies, contacts, potentials, activities."),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Evaluation date YYYY-MM-DD (default: latest activity day)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def default_as_of(dataset: Dataset) -> dt.date:
    """The day of the latest activity in the data (today when there is none)."""
    if dataset.activities.height:
        latest = dataset.activities["occurred_at"].max()
        if isinstance(latest, dt.datetime):
            return latest.date()
    return dt.datetime.now(dt.UTC).date()


def _as_of(text: str | None, dataset: Dataset) -> dt.date:
    if text is None:
        return default_as_of(dataset)
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        msg = f"--as-of must be a date like 2025-10-01, got {text!r}"
        raise ConfigError(msg) from exc


def _problem_dict(p: FileProblem) -> dict[str, Any]:
    return {
        "file": p.position.file,
        "line": p.position.line,
        "col": p.position.col,
        "message": p.message,
    }


def _mapping_files(model_path: Path) -> list[Path]:
    folder = model_path.parent
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    return [f for f in files if f.resolve() != model_path.resolve()]


def validate_files(
    model_path: Path, data_path: Path | None, as_of: str | None = None
) -> tuple[list[FileProblem], list[str], SegmentationModel | None]:
    """Every problem in the model, the mapping files next to it and (with data) unique sets."""
    problems: list[FileProblem] = []
    checked = [str(model_path)]
    model: SegmentationModel | None = None
    try:
        model = load_model(model_path)
    except ModelFileError as exc:
        problems.extend(exc.problems)
    mapping_module = None
    if importlib.util.find_spec("crm_sync.mapping.load") is not None:
        mapping_module = importlib.import_module("crm_sync.mapping.load")
    if mapping_module is not None and hasattr(mapping_module, "load_mapping_file"):
        for path in _mapping_files(model_path):
            checked.append(str(path))
            try:
                mapping_module.load_mapping_file(path, model)
            except ModelFileError as exc:
                problems.extend(exc.problems)
    if model is not None and data_path is not None:
        checked.append(str(data_path))
        try:
            dataset = Dataset.load_json(data_path)
        except ModelFileError as exc:
            problems.extend(exc.problems)
        else:
            ev = evaluate(model, dataset, as_of=_as_of(as_of, dataset))
            for s in model.segments.values():
                stats = ev.set_stats[s.name]
                if s.hit_policy == "unique" and stats.multi_match:
                    sample = ", ".join(stats.multi_match_ids)
                    problems.append(
                        FileProblem(
                            s.position,
                            f"segment set '{s.name}' has hit_policy unique but {stats.multi_match} "
                            f"{s.entity} record(s) match several rules (e.g. {sample}); make the "
                            "rules exclusive or use hit_policy first",
                        )
                    )
    return problems, checked, model


def _load(model_path: Path, data_path: Path | None) -> tuple[SegmentationModel, Dataset]:
    model = load_model(model_path)
    path = data_path or DEFAULT_DATA
    if not path.exists():
        msg = f"data file {path} not found; pass --data FILE (companies, contacts, potentials, activities)"
        raise ConfigError(msg)
    return model, Dataset.load_json(path)


def _print_problems(problems: list[FileProblem]) -> None:
    for p in problems:
        console.print(str(p), markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add validate, lint and explain."""

    @app.command("validate")
    def validate_cmd(
        model: ModelOpt = DEFAULT_MODEL,
        data: DataOpt = None,
        as_of: AsOfOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Check the model and mapping files (and, with data, unique sets); list every problem."""
        data_path = data if data is not None else (DEFAULT_DATA if DEFAULT_DATA.exists() else None)
        try:
            problems, checked, loaded = validate_files(model, data_path, as_of)
        except ConfigError as exc:
            raise typer.Exit(fail(exc, as_json=json_out)) from exc
        if json_out:
            emit_json(
                {
                    "ok": not problems,
                    "files": checked,
                    "problems": [_problem_dict(p) for p in problems],
                    "outputs": [o.__dict__ for o in loaded.outputs()] if loaded else [],
                    "fingerprint": loaded.fingerprint if loaded else None,
                }
            )
        else:
            _print_problems(problems)
            if problems:
                console.print(f"{len(problems)} problem(s) in {', '.join(checked)}", markup=False)
            else:
                console.print(f"ok: {', '.join(checked)}", markup=False)
        raise typer.Exit(2 if problems else 0)

    @app.command("lint")
    def lint_cmd(
        model: ModelOpt = DEFAULT_MODEL,
        data: DataOpt = None,
        as_of: AsOfOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Report overlaps, shadowed and dead rules, catch-all share, 0 %/100 % tags, unknowns."""
        try:
            loaded, dataset = _load(model, data)
            day = _as_of(as_of, dataset)
            report = lint_evaluation(loaded, evaluate(loaded, dataset, as_of=day), dataset)
        except ConfigError as exc:
            if isinstance(exc, ModelFileError) and not json_out:
                _print_problems(exc.problems)
            raise typer.Exit(fail(exc, as_json=json_out)) from exc
        if json_out:
            emit_json({**report.to_dict(), "as_of": day.isoformat()})
        else:
            for f in report.findings:
                console.print(str(f), markup=False)
            counts = report.to_dict()["counts"]
            console.print(
                f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s) as of {day}",
                markup=False,
            )
        raise typer.Exit(0 if report.ok else 2)

    @app.command("explain")
    def explain_cmd(  # noqa: PLR0917 - typer maps each parameter to an option
        entity: Annotated[str, typer.Argument(help="company or contact")],
        record_id: Annotated[str, typer.Argument(help="The record's id")],
        model: ModelOpt = DEFAULT_MODEL,
        data: DataOpt = None,
        as_of: AsOfOpt = None,
        json_out: JsonOpt = False,
        target: Annotated[
            str | None,
            typer.Option(
                "--target",
                help="hubspot or salesforce: explain the record as the last sync run computed it "
                "(data from the state store; shows what crm_sync pushed).",
            ),
        ] = None,
        account: Annotated[
            str | None, typer.Option("--account", help="With --target: the store account key.")
        ] = None,
    ) -> None:
        """Show every value of one record, the deciding rule and each clause with its inputs."""
        try:
            if entity not in ("company", "contact"):
                msg = f"unknown entity '{entity}'; use company or contact"
                raise ConfigError(msg)
            pushes: list[dict[str, object]] | None = None
            if target is not None:
                stored = load_stored_run(target, entity, record_id, account=account)
                loaded, dataset = load_model(model), stored.dataset
                day = _as_of(as_of, dataset) if as_of else stored.as_of
                pushes = stored.pushes
            else:
                loaded, dataset = _load(model, data)
                day = _as_of(as_of, dataset)
            result = explain_record(loaded, evaluate(loaded, dataset, as_of=day), entity, record_id)
            if pushes is not None:
                result["pushed"] = pushes
        except ConfigError as exc:
            if isinstance(exc, ModelFileError) and not json_out:
                _print_problems(exc.problems)
            raise typer.Exit(fail(exc, as_json=json_out)) from exc
        if json_out:
            emit_json({"ok": True, **result})
        else:
            console.print(render_explanation(result), markup=False)
            for push in result.get("pushed") or []:
                console.print(
                    f"  pushed in run {push['run_id']}: {push['property']} "
                    f"{push['old']!r} -> {push['new']!r} ({push['status']}, rule {push['rule']})",
                    markup=False,
                )


_ = (pl, Position)
