"""The accounts file: each account reaches its own CRM, bad entries name the account and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_sync.config import Settings
from crm_sync.distributed.accounts import build, load_accounts
from crm_sync.errors import ConfigError


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "accounts.yaml"
    path.write_text(body)
    return path


def test_each_salesforce_org_is_reached_at_its_own_instance_url(tmp_path, monkeypatch):
    monkeypatch.setenv("ORG_A_TOKEN", "token-a")
    monkeypatch.setenv("ORG_B_TOKEN", "token-b")
    path = _write(
        tmp_path,
        """
accounts:
  - {name: org-a, target: salesforce, token_env: ORG_A_TOKEN,
     base_url: "https://a.my.salesforce.com/"}
  - {name: org-b, target: salesforce, token_env: ORG_B_TOKEN,
     base_url: "https://b.my.salesforce.com"}
""",
    )
    specs = load_accounts(path)
    shared = Settings(salesforce_instance_url="https://shared.my.salesforce.com")
    urls = {name: build(spec, shared).adapter.client.instance_url for name, spec in specs.items()}
    assert urls == {"org-a": "https://a.my.salesforce.com", "org-b": "https://b.my.salesforce.com"}


def test_hubspot_account_base_url_overrides_the_deployment_default(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_TOKEN", "pat-1")
    path = _write(
        tmp_path,
        """
accounts:
  - {name: p1, target: hubspot, token_env: PORTAL_TOKEN, base_url: "http://127.0.0.1:9"}
  - {name: p2, target: hubspot, token_env: PORTAL_TOKEN}
""",
    )
    specs = load_accounts(path)
    shared = Settings(hubspot_base_url="http://127.0.0.1:8")
    assert build(specs["p1"], shared).adapter.client.base_url == "http://127.0.0.1:9"
    assert build(specs["p2"], shared).adapter.client.base_url == "http://127.0.0.1:8"


def test_base_url_on_a_memory_account_is_refused_with_the_account_name(tmp_path):
    path = _write(tmp_path, "accounts:\n  - {name: fake, target: memory, base_url: http://x}\n")
    with pytest.raises(ConfigError, match="account fake: base_url applies to hubspot"):
        build(load_accounts(path)["fake"])


def test_missing_token_variable_names_the_account_and_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("NOT_SET_TOKEN", raising=False)
    path = _write(tmp_path, "accounts:\n  - {name: p, target: hubspot, token_env: NOT_SET_TOKEN}\n")
    with pytest.raises(ConfigError, match="account p: environment variable NOT_SET_TOKEN"):
        build(load_accounts(path)["p"])


def test_an_account_name_used_twice_is_refused(tmp_path):
    path = _write(
        tmp_path, "accounts:\n  - {name: a, target: memory}\n  - {name: a, target: memory}\n"
    )
    with pytest.raises(ConfigError, match="account name 'a' is used twice"):
        load_accounts(path)


def test_hubspot_crm_id_is_the_account_key_without_an_unmetered_account_info_request(
    tmp_path, monkeypatch
):
    """Building the adapter happens before the shared budget is attached: it must not call out."""
    monkeypatch.setenv("PORTAL_TOKEN", "pat-1")
    # Port 9 (discard) refuses connections: any request during build would fail loudly.
    path = _write(
        tmp_path,
        "accounts:\n  - {name: p, target: hubspot, crm_id: '4711', token_env: PORTAL_TOKEN,"
        " base_url: 'http://127.0.0.1:9'}\n",
    )
    adapter = build(load_accounts(path)["p"]).adapter
    assert adapter.account == "4711"
    assert sum(adapter.api_calls().values()) == 0
