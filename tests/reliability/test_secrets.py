"""Secrets never leak: not in logs at any level, errors, --json output, reports or the store.

Distinctive fake credentials are handed to crm_sync through the environment, the way an admin
does it; the sandbox accepts them, so every request really carries them. Then every command an
admin runs (provision, run, status, report, explain, deadletters) runs with the root logger at
DEBUG, errors are provoked (a refused token, an expired session that cannot be refreshed, a bad
endpoint, a broken mapping), and every byte that came out — stdout, stderr, log records,
exception text, the HTML report, the SQLite file with its WAL — is searched for each secret.
"""

from __future__ import annotations

import logging
import os
import socket
import stat
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_harness import AS_OF, ROOT
from typer.testing import CliRunner

from crm_sync.adapters.hubspot.auth import PrivateAppToken
from crm_sync.adapters.hubspot.client import HubSpotClient, exchange_refresh_token
from crm_sync.adapters.salesforce import from_settings as salesforce_from_settings
from crm_sync.cli.main import app
from crm_sync.config import Settings
from crm_sync.errors import ConfigError, CrmSyncError
from crm_sync.sandbox.launcher import RunningSandbox, start_sandbox
from crm_sync.store.sql import Store

ACCESS_TOKEN = "tok-SECRET-a1b2c3d4e5f60718"
SF_CLIENT_SECRET = "csec-SECRET-99887766554433"
SF_REFRESH_TOKEN = "rtok-SECRET-1029384756abcd"
HS_CLIENT_SECRET = "hcsec-SECRET-5566778899aabb"
HS_REFRESH_TOKEN = "hrtok-SECRET-ffeeddccbbaa99"
WRONG_TOKEN = "wrong-SECRET-0000111122223333"
SECRETS = (
    ACCESS_TOKEN,
    SF_CLIENT_SECRET,
    SF_REFRESH_TOKEN,
    HS_CLIENT_SECRET,
    HS_REFRESH_TOKEN,
    WRONG_TOKEN,
)


def _leaks(text: str | bytes) -> list[str]:
    """Every secret (or a 12-character stretch of one) found in ``text``."""
    blob = text if isinstance(text, bytes) else text.encode("utf-8", "replace")
    found = []
    for secret in SECRETS:
        core = secret.split("SECRET-")[1][:12].encode()
        if secret.encode() in blob or core in blob:
            found.append(secret)
    return found


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    """Both CRMs, seeded, accepting the fake access token and the fake OAuth app."""
    with start_sandbox(seed=3, size=4, token=ACCESS_TOKEN, as_of=AS_OF) as sb:
        sb.salesforce.sessions.oauth.client_secret = SF_CLIENT_SECRET
        sb.salesforce.sessions.oauth.refresh_tokens = {SF_REFRESH_TOKEN}
        sb.hubspot.limiter.per_10s = 100_000
        yield sb


@pytest.fixture
def env(sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment an admin sets: endpoints, paths and every credential."""
    values = {
        **sandbox.environment(),
        "SALESFORCE_CLIENT_ID": "sandbox-client-id",
        "SALESFORCE_CLIENT_SECRET": SF_CLIENT_SECRET,
        "SALESFORCE_REFRESH_TOKEN": SF_REFRESH_TOKEN,
        "CRM_SYNC_MODEL_PATH": str(ROOT / "mappings" / "model.yaml"),
        "CRM_SYNC_MAPPINGS_DIR": str(ROOT / "mappings"),
        "CRM_SYNC_STORE_PATH": str(tmp_path / "store" / "state.sqlite"),
        "CRM_SYNC_RATE_PER_S": "0",
        "CRM_SYNC_OVERLAP_S": "0",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def _cli(args: list[str], caplog: pytest.LogCaptureFixture) -> tuple[int, str]:
    """Run one command in-process at DEBUG; return its exit code and everything it produced."""
    runner = CliRunner()
    with caplog.at_level(logging.DEBUG):
        result = runner.invoke(app, args, catch_exceptions=True)
    produced = [result.output, getattr(result, "stderr", "") or ""]
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        produced.append("".join(traceback.format_exception(result.exception)))
    produced.extend(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    return result.exit_code, "\n".join(produced)


def _store_bytes(path: Path) -> bytes:
    """The SQLite file and every sidecar (WAL, shared memory, journal) as raw bytes."""
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


def test_no_secret_in_any_output_log_report_or_store(
    env: dict[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Provision, run twice, status, report, explain, deadletters: no secret anywhere."""
    logging.getLogger().setLevel(logging.DEBUG)
    outputs: list[str] = []
    html = tmp_path / "report.html"
    commands = [
        ["provision", "--target", "hubspot", "--apply", "--json"],
        ["provision", "--target", "salesforce", "--apply", "--json"],
        ["run", "--target", "hubspot", "--json", "--as-of", AS_OF.isoformat()],
        ["run", "--target", "salesforce", "--json", "--as-of", AS_OF.isoformat()],
        ["run", "--target", "hubspot", "--json", "--as-of", AS_OF.isoformat()],
        ["status", "--json"],
        ["report", "--json", "--html", str(html)],
        ["deadletters", "list", "--json"],
    ]
    for args in commands:
        code, text = _cli(args, caplog)
        assert code == 0, f"{args}: {text[-1500:]}"
        outputs.append(text)
    runs = [o for o in outputs if '"records_pushed"' in o]
    assert runs, "no run printed its counts"
    # DEBUG really was on: the SOAP transport's envelope log (which once held the session id).
    assert any(r.name == "zeep.transports" for r in caplog.records)
    store_path = Path(env["CRM_SYNC_STORE_PATH"])
    for i, text in enumerate(outputs):
        assert not _leaks(text), f"{commands[i]} leaked {_leaks(text)}"
    assert html.exists()
    assert not _leaks(html.read_bytes()), "the HTML report holds a secret"
    assert not _leaks(_store_bytes(store_path)), "the store holds a secret"
    assert ACCESS_TOKEN not in caplog.text


def test_refused_and_expired_credentials_fail_without_leaking(
    env: dict[str, str],
    sandbox: RunningSandbox,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A refused token, an expiry that cannot be refreshed and a bad refresh secret: no leak."""
    logging.getLogger().setLevel(logging.DEBUG)
    texts: list[str] = []
    # 1. HubSpot refuses the token (401): AuthError, exit code non-zero.
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", WRONG_TOKEN)
    code, text = _cli(["run", "--target", "hubspot", "--json"], caplog)
    assert code != 0
    texts.append(text)
    # 2. Salesforce session expires and the refresh secret is wrong.
    sandbox.faults.set_plan({"rules": [{"api": "salesforce", "kind": "session_expiry"}]})
    sandbox.salesforce.sessions.oauth.client_secret = "something-else"
    code, text = _cli(["run", "--target", "salesforce", "--json"], caplog)
    assert code != 0
    texts.append(text)
    sandbox.faults.set_plan({})
    # 3. HubSpot OAuth app whose token endpoint is unreachable (refused refresh).
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN")
    monkeypatch.setenv("HUBSPOT_CLIENT_ID", "hs-client")
    monkeypatch.setenv("HUBSPOT_CLIENT_SECRET", HS_CLIENT_SECRET)
    monkeypatch.setenv("HUBSPOT_REFRESH_TOKEN", HS_REFRESH_TOKEN)
    code, text = _cli(["run", "--target", "hubspot", "--json"], caplog)
    assert code != 0
    texts.append(text)
    # 4. A broken mapping file: ConfigError.
    broken = Path(env["CRM_SYNC_STORE_PATH"]).parent.parent / "mappings"
    broken.mkdir()
    (broken / "hubspot.yaml").write_text("version: 1\ncrm: hubspot\nproperties: [\n")
    monkeypatch.setenv("CRM_SYNC_MAPPINGS_DIR", str(broken))
    code, text = _cli(["run", "--target", "hubspot", "--json"], caplog)
    assert code != 0
    texts.append(text)
    for i, text in enumerate(texts):
        assert not _leaks(text), f"error case {i + 1} leaked {_leaks(text)}: {text[-800:]}"
    store = Path(env["CRM_SYNC_STORE_PATH"])
    if store.exists():
        assert not _leaks(_store_bytes(store))


def test_exception_messages_and_reprs_hold_no_secret(sandbox: RunningSandbox) -> None:
    """A 401 from either CRM raises an error whose str, repr and args hold no token."""
    errors: list[BaseException] = []
    client = HubSpotClient(sandbox.hubspot_url, PrivateAppToken(WRONG_TOKEN))
    with pytest.raises(CrmSyncError) as hs:
        client.properties("contacts")
    errors.append(hs.value)
    settings = Settings(
        salesforce_instance_url=sandbox.salesforce_url,
        salesforce_access_token=WRONG_TOKEN,  # type: ignore[arg-type]
    )
    adapter = salesforce_from_settings(settings, None, env={})
    with pytest.raises(CrmSyncError) as sf:
        adapter.describe("Account")  # type: ignore[attr-defined]
    errors.append(sf.value)
    for exc in errors:
        text = "".join(traceback.format_exception(exc)) + repr(exc) + repr(vars(exc))
        assert not _leaks(text), f"{type(exc).__name__} leaked: {text[-600:]}"
    assert WRONG_TOKEN not in repr(settings)
    assert WRONG_TOKEN not in str(settings.public())


def test_store_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """The SQLite store is created 0600 (and its folder is not world-readable)."""
    path = tmp_path / "fresh" / "state.sqlite"
    store = Store.open(path=path)
    try:
        with store.begin() as conn:
            conn.exec_driver_sql("select 1")
    finally:
        store.close()
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o600, oct(mode)
    for sidecar in path.parent.glob("state.sqlite-*"):
        assert stat.S_IMODE(sidecar.stat().st_mode) & 0o077 == 0, sidecar


class _NoNetwork:
    """Fails the test if anything opens a connection."""

    def __init__(self) -> None:
        self.attempts: list[Any] = []

    def __call__(self, sock: socket.socket, address: Any) -> None:
        self.attempts.append(address)
        msg = f"network call to {address}"
        raise AssertionError(msg)


@pytest.mark.parametrize(
    "url", ["http://example.com", "http://api.hubapi.com", "ftp://example.com", "example.com"]
)
def test_plain_http_endpoints_are_refused_before_any_request(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both adapters refuse a non-https, non-loopback endpoint with ConfigError, offline."""
    guard = _NoNetwork()
    monkeypatch.setattr(socket.socket, "connect", guard)
    with pytest.raises(ConfigError, match="https"):
        HubSpotClient(url, PrivateAppToken(ACCESS_TOKEN))
    with pytest.raises(ConfigError, match="https"):
        exchange_refresh_token(url)
    settings = Settings(
        salesforce_instance_url=url,
        salesforce_access_token=ACCESS_TOKEN,  # type: ignore[arg-type]
    )
    with pytest.raises(ConfigError, match="https"):
        salesforce_from_settings(settings, None, env={})
    assert not guard.attempts


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "http://localhost:9", "https://example.com"])
def test_loopback_http_and_https_endpoints_are_accepted(url: str) -> None:
    """Plain http is allowed for loopback only; https anywhere (no request is made here)."""
    assert HubSpotClient(url, PrivateAppToken(ACCESS_TOKEN)).base_url == url
    settings = Settings(
        salesforce_instance_url=url,
        salesforce_access_token=ACCESS_TOKEN,  # type: ignore[arg-type]
    )
    assert salesforce_from_settings(settings, None, env={}) is not None


def test_secrets_come_only_from_the_environment() -> None:
    """Settings exposes no credential in public() and masks it in repr."""
    os.environ["HUBSPOT_ACCESS_TOKEN"] = ACCESS_TOKEN
    try:
        settings = Settings()
        assert settings.hubspot_access_token is not None
        assert ACCESS_TOKEN not in repr(settings)
        assert ACCESS_TOKEN not in str(settings.public())
    finally:
        del os.environ["HUBSPOT_ACCESS_TOKEN"]
