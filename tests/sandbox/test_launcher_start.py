"""The sandbox launcher and ``crm-sync sandbox serve``: both emulators up, seeded, and stoppable."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from crm_sync.sandbox.launcher import start_sandbox

_AUTH = {"Authorization": "Bearer sandbox"}
_MAIN = "import sys; from crm_sync.cli.main import main; sys.argv[0] = 'crm-sync'; main()"


def _nothing_listens(url: str) -> bool:
    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as sock:
        sock.settimeout(2)
        try:
            sock.connect(("127.0.0.1", port))
        except OSError:
            return True
    return False


def test_starts_and_stops_both_servers_on_free_ports() -> None:
    """Both emulators answer on distinct ephemeral ports and release them on stop()."""
    running = start_sandbox()
    try:
        assert running.hubspot_url != running.salesforce_url
        hubspot = requests.get(
            f"{running.hubspot_url}/crm/v3/objects/companies", headers=_AUTH, timeout=10
        )
        assert hubspot.status_code == 200
        assert hubspot.json()["results"] == []
        salesforce = requests.get(
            f"{running.salesforce_url}/services/data/", headers=_AUTH, timeout=10
        )
        assert salesforce.status_code == 200
        assert running.book is None
    finally:
        running.stop()
    running.stop()  # idempotent
    assert _nothing_listens(running.hubspot_url)
    assert _nothing_listens(running.salesforce_url)


def test_seeds_both_crms_with_the_same_book() -> None:
    """With size > 0 both emulators hold the generated companies; the context manager stops them."""
    with start_sandbox(seed=2, size=8) as running:
        assert running.book is not None
        assert running.book_counts()["companies"] == 8
        names = {c.name for c in running.book.companies}
        hubspot = requests.get(
            f"{running.hubspot_url}/crm/v3/objects/companies",
            params={"limit": 100, "properties": "name"},
            headers=_AUTH,
            timeout=10,
        ).json()
        assert {r["properties"]["name"] for r in hubspot["results"]} == names
        salesforce = requests.get(
            f"{running.salesforce_url}/services/data/v62.0/query",
            params={"q": "SELECT Name FROM Account"},
            headers=_AUTH,
            timeout=10,
        ).json()
        assert {r["Name"] for r in salesforce["records"]} == names
    assert _nothing_listens(running.hubspot_url)


def test_token_and_shared_fault_plan(tmp_path: Path) -> None:
    """A custom token is enforced, and one fault plan file drives both emulators."""
    plan = tmp_path / "faults.json"
    plan.write_text(json.dumps({"seed": 1, "rules": [{"kind": "server_error", "count": 1}]}))
    with start_sandbox(token="t0k", faults_file=plan) as running:
        assert running.hubspot.faults is running.salesforce.faults
        assert running.environment()["HUBSPOT_ACCESS_TOKEN"] == "t0k"
        url = f"{running.hubspot_url}/crm/v3/objects/companies"
        assert requests.get(url, headers=_AUTH, timeout=10).status_code == 401
        statuses = [
            requests.get(url, headers={"Authorization": "Bearer t0k"}, timeout=10).status_code
            for _ in range(2)
        ]
        assert 503 in statuses
        assert statuses[-1] == 200


def test_bad_fault_file_binds_nothing(tmp_path: Path) -> None:
    """An invalid fault plan fails before any server starts."""
    plan = tmp_path / "faults.yaml"
    plan.write_text("rules: [{kind: no_such_fault}]\n")
    with pytest.raises(ValueError, match="no_such_fault"):
        start_sandbox(faults_file=plan)


def _serve(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", _MAIN, "sandbox", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _stopped(proc: subprocess.Popen[str]) -> int:
    """Exit code after a stop signal; a server that ignores it is killed and fails the test."""
    try:
        return proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def _lines_until(stream: object, marker: str, deadline: float) -> list[str]:
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = stream.readline()  # type: ignore[attr-defined]
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if marker in line:
            break
    return lines


def test_serve_cli_prints_urls_and_stops_on_sigterm() -> None:
    """`crm-sync sandbox serve` prints both URLs, answers on them, and exits 0 on SIGTERM."""
    with _serve("--size", "0") as proc:
        lines = _lines_until(proc.stderr, "serving", time.monotonic() + 30)
        text = "\n".join(lines)
        assert "HubSpot sandbox:" in text
        assert "Salesforce sandbox:" in text
        hubspot_url = next(ln.split()[-1] for ln in lines if ln.startswith("HubSpot sandbox:"))
        response = requests.get(f"{hubspot_url}/crm/v3/objects/contacts", headers=_AUTH, timeout=10)
        assert response.status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert _stopped(proc) == 0


def test_serve_cli_json_reports_ports_and_seed() -> None:
    """With --json and fixed ports, stdout carries one JSON object naming both URLs."""
    ports = []
    for _ in range(2):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
    with _serve(
        "--json",
        "--size",
        "3",
        "--seed",
        "4",
        "--hubspot-port",
        str(ports[0]),
        "--salesforce-port",
        str(ports[1]),
    ) as proc:
        assert proc.stdout is not None
        payload = json.loads(proc.stdout.readline())
        assert payload["ok"] is True
        assert payload["hubspot_url"] == f"http://127.0.0.1:{ports[0]}"
        assert payload["salesforce_url"] == f"http://127.0.0.1:{ports[1]}"
        assert payload["seeded"]["companies"] == 3
        proc.send_signal(signal.SIGINT)
        assert _stopped(proc) == 0


def test_serve_cli_reports_a_missing_fault_file(tmp_path: Path) -> None:
    """A fault file that cannot be read ends the command with exit code 2 and a clear message."""
    with _serve("--size", "0", "--faults", str(tmp_path / "missing.yaml")) as proc:
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "cannot start the sandbox" in err
