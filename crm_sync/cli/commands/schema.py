"""``crm-sync schema``: write the JSON Schemas of the model and mapping files (editor support).

Editors with a YAML language server (VS Code's YAML extension, JetBrains IDEs, Neovim) read the
first line of each shipped file, ``# yaml-language-server: $schema=../schemas/<name>.schema.json``,
and then complete keys and underline mistakes while the admin types. The schemas are generated
from the same pydantic classes the loaders validate with, so they cannot disagree with
``crm-sync validate``. ``--docs`` also refreshes the generated reference tables (maintainers);
``--check`` writes nothing and exits 1 when anything on disk is out of date (CI).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crm_sync.cli.output import console, emit_json
from crm_sync.docs_gen import json_schemas, regenerate_docs, render_schema_file

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``schema``."""

    @app.command("schema")
    def schema_cmd(
        out: Annotated[
            Path, typer.Option("--out", help="Folder to write the *.schema.json files to.")
        ] = Path("schemas"),
        docs: Annotated[
            Path | None,
            typer.Option("--docs", help="Also refresh the generated tables of this docs folder."),
        ] = None,
        check: Annotated[
            bool, typer.Option("--check", help="Write nothing; exit 1 if anything is stale.")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    ) -> None:
        """Write model.schema.json, hubspot-mapping.schema.json, salesforce-mapping.schema.json."""
        stale: list[str] = []
        written: list[str] = []
        if not check:
            out.mkdir(parents=True, exist_ok=True)
        for name, schema in json_schemas().items():
            path = out / name
            text = render_schema_file(schema)
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == text:
                continue
            stale.append(str(path))
            if not check:
                path.write_text(text, encoding="utf-8")
                written.append(str(path))
        if docs is not None:
            for page in regenerate_docs(docs, write=not check):
                stale.append(str(page))
                if not check:
                    written.append(str(page))
        if as_json:
            emit_json({"ok": not (check and stale), "written": written, "stale": stale})
        elif check:
            for path_text in stale:
                console.print(f"out of date: {path_text}", markup=False)
            console.print(
                "schemas up to date" if not stale else "run: crm-sync schema", markup=False
            )
        else:
            for path_text in written:
                console.print(f"wrote {path_text}", markup=False)
            console.print(f"schemas in {out}/ are up to date", markup=False)
        if check and stale:
            raise typer.Exit(1)
