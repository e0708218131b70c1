"""The end-to-end demo: sandbox → seed → provision → two real sync runs per CRM → summary.

It is the shortest honest answer to "does it work?": the same code path as ``crm-sync run``
(:func:`crm_sync.sync.api.run` with the real adapters, the shipped ``mappings/`` and a throw-away
store) against the local emulators of :mod:`crm_sync.sandbox`, configured only through the
environment variables of DESIGN §10. The second run must push nothing: every value is already in
the CRM, and crm_sync's own writes come back as echoes that trigger no work.

A target whose adapter is not installed yet is reported as skipped rather than failing the demo.
The overlap window is 0 here because the sandbox indexes writes instantly (no search lag); real
portals keep the default 300 s.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crm_sync.config import Settings
from crm_sync.errors import redact
from crm_sync.mapping.load import load_mapping_file
from crm_sync.sandbox.launcher import start_sandbox
from crm_sync.store.sql import Store
from crm_sync.sync.api import run
from crm_sync.sync.computer import RulesComputer
from crm_sync.sync.options import RunOptions

__all__ = ["DEFAULT_SIZE", "run_demo"]

DEFAULT_SIZE = 40  # companies; ~3 contacts and ~120 activities each: a realistic small portal


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _available(target: str) -> bool:
    try:
        module = importlib.import_module(f"crm_sync.adapters.{target}")
    except ImportError:
        return False
    return hasattr(module, "from_settings")


def _run_target(target: str, settings: Settings, workdir: Path) -> dict[str, Any]:
    computer = RulesComputer(settings.model_path)
    mapping = load_mapping_file(settings.mapping_path(target), computer)
    module: Any = importlib.import_module(f"crm_sync.adapters.{target}")
    adapter = module.from_settings(settings, mapping)
    out: dict[str, Any] = {"target": target, "status": "ok"}
    calls_before: Mapping[str, int] = {}
    if hasattr(adapter, "plan_provision"):
        plan = adapter.plan_provision(mapping)
        result = adapter.apply_provision(plan)
        out["provisioned"] = {"steps": len(plan.steps), "applied": len(result.applied)}
    calls_before = dict(adapter.api_calls())
    store = Store.open(path=workdir / f"{target}.sqlite")
    runs: list[dict[str, Any]] = []
    try:
        for number in (1, 2):
            options = RunOptions(rate=0.0, overlap_s=0.0, page_size=200)
            started = time.perf_counter()
            record = run(
                target,
                settings=settings,
                adapter=adapter,
                computer=computer,
                mapping=mapping,
                store=store,
                options=options,
            )
            calls_now = dict(adapter.api_calls())
            delta = {
                k: v - calls_before.get(k, 0)
                for k, v in calls_now.items()
                if v - calls_before.get(k, 0)
            }
            calls_before = calls_now
            counts = record.counts
            runs.append(
                {
                    "target": target,
                    "run": number,
                    "status": record.status,
                    "pulled": sum(v for k, v in counts.items() if k.startswith("pulled_")),
                    "computed": sum(v for k, v in counts.items() if k.startswith("evaluated_")),
                    "changed": sum(v for k, v in counts.items() if k.startswith("diff_")),
                    "pushed": counts.get("records_pushed", 0),
                    "write_calls": counts.get("write_calls", 0),
                    "api_calls": sum(delta.values()),
                    "api_calls_by_endpoint": dict(sorted(delta.items())),
                    "rate_limited_429": _status_count(adapter, 429),
                    "dead_letters": counts.get("rejected", 0),
                    "seconds": round(time.perf_counter() - started, 2),
                }
            )
    finally:
        store.close()
    out["runs"] = runs
    return out


def _status_count(adapter: Any, status: int) -> int:
    client = getattr(adapter, "client", None)
    counts: Mapping[int, int] = getattr(client, "status_counts", None) or {}
    return int(counts.get(status, 0))


def _print_human(summary: Mapping[str, Any]) -> None:
    err = sys.stderr
    print(f"crm_sync demo: sandbox seeded with {summary['seeded']}", file=err)
    for target in summary["targets"]:
        if target["status"] in ("skipped", "failed"):
            print(f"\n{target['target']}: {target['status']} ({target['reason']})", file=err)
            continue
        print(f"\n{target['target']}: provisioned {target.get('provisioned')}", file=err)
        for r in target["runs"]:
            print(
                f"  run {r['run']}: {r['status']}; pulled {r['pulled']}, computed {r['computed']}, "
                f"changed {r['changed']}, pushed {r['pushed']} in {r['write_calls']} write calls; "
                f"{r['api_calls']} API calls, 429s {r['rate_limited_429']}, dead letters "
                f"{r['dead_letters']}; {r['seconds']} s",
                file=err,
            )
            top = sorted(r["api_calls_by_endpoint"].items(), key=lambda kv: -kv[1])[:6]
            for endpoint, n in top:
                print(f"      {n:>5}  {endpoint}", file=err)
    print(f"\ntotal {summary['seconds']} s", file=err)


def run_demo(
    *,
    targets: Sequence[str] = ("hubspot", "salesforce"),
    size: int = DEFAULT_SIZE,
    seed: int = 7,
    as_json: bool = False,
    root: Path | None = None,
) -> dict[str, Any]:
    """Start the sandbox, seed it, provision, run twice per target; print and return the summary.

    With ``as_json`` one JSON object (``{"runs": [...], ...}``) goes to stdout; otherwise a human
    summary goes to stderr. ``root`` is the repository root holding ``mappings/`` (default: cwd).
    """
    started = time.perf_counter()
    base = (root or Path.cwd()).resolve()
    results: list[dict[str, Any]] = []
    with start_sandbox(seed=seed, size=size) as sandbox, tempfile.TemporaryDirectory() as tmp:
        env = sandbox.environment()
        with _environment(env):
            settings = Settings(
                model_path=base / "mappings" / "model.yaml",
                mappings_dir=base / "mappings",
                store_path=Path(tmp) / "state.sqlite",
            )
            for target in targets:
                if not _available(target):
                    reason = f"crm_sync.adapters.{target} is not installed yet"
                    results.append({"target": target, "status": "skipped", "reason": reason})
                    continue
                try:
                    results.append(_run_target(target, settings, Path(tmp)))
                except Exception as exc:  # one CRM failing must not hide the other's result
                    error = f"{type(exc).__name__}: {redact(str(exc))}"
                    results.append({"target": target, "status": "failed", "reason": error})
        seeded = sandbox.book_counts()
    summary: dict[str, Any] = {
        "ok": all(t["status"] == "ok" for t in results)
        and not any(t["runs"][1]["pushed"] for t in results if len(t.get("runs", [])) > 1),
        "seeded": seeded,
        "targets": results,
        "runs": [r for t in results for r in t.get("runs", [])],
        "second_run_pushed": {
            t["target"]: t["runs"][1]["pushed"] for t in results if len(t.get("runs", [])) > 1
        },
        "seconds": round(time.perf_counter() - started, 2),
    }
    if as_json:
        sys.stdout.write(json.dumps(summary, sort_keys=True) + "\n")
    else:
        _print_human(summary)
    return summary
