"""Orchestrator examples and deployment files stay valid without Airflow, Dagster or Prefect."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "orchestrators").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_orchestrator_example_imports_without_its_library(path):
    """Each example compiles, imports, and exposes sync_account calling crm_sync.run."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(module.sync_account)
    assert "crm_sync.run(" in path.read_text()


def test_deploy_files_are_present_and_parse():
    """The compose file parses and names the worker, beat and webhooks services."""
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    assert {"postgres", "redis", "worker", "beat", "webhooks"} <= set(compose["services"])
    for unit in ("crm-sync-worker", "crm-sync-beat", "crm-sync-webhooks"):
        assert "ExecStart=" in (ROOT / "deploy" / "systemd" / f"{unit}.service").read_text()
