"""Fixtures: the Salesforce sandbox on 127.0.0.1 and a SalesforceAdapter talking to it over HTTP.

The adapter is built exactly as in production except for the instance URL, which is
``http://127.0.0.1:PORT``: the client then mounts its loopback adapter (CONVENTIONS §3), so these
tests also exercise the https-to-loopback re-routing. Sleeps are recorded, never slept.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from crm_sync.adapters.salesforce.adapter import SalesforceAdapter
from crm_sync.adapters.salesforce.auth import OAuthTokenSource, StaticToken, TokenSource
from crm_sync.adapters.salesforce.client import SalesforceClient
from crm_sync.mapping.load import MappingFile, load_mapping_file
from crm_sync.sandbox.http import SandboxServer, SwitchableApp
from crm_sync.sandbox.salesforce.app import SalesforceSandbox
from crm_sync.sandbox.salesforce.schema import FieldDef

ROOT = Path(__file__).resolve().parents[3]


class Clock:
    """A settable clock: tests advance time instead of sleeping."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += dt.timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    """Time starts at a fixed instant."""
    return Clock(dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC))


@pytest.fixture
def sandbox_options() -> dict[str, Any]:
    """Constructor options for the test's sandbox."""
    return {}


@pytest.fixture
def sandbox(clock: Clock, sandbox_options: dict[str, Any]) -> SalesforceSandbox:
    """A fresh org."""
    return SalesforceSandbox(clock=clock, **sandbox_options)


@pytest.fixture
def server(
    sandbox: SalesforceSandbox, sandbox_listener: tuple[SandboxServer, SwitchableApp]
) -> SandboxServer:
    """The test's sandbox on a session-wide port."""
    running, switch = sandbox_listener
    switch.app = sandbox.app
    return running


@pytest.fixture
def url(server: SandboxServer) -> str:
    """The loopback instance URL."""
    return f"http://127.0.0.1:{server.port}"


@pytest.fixture
def mapping() -> MappingFile:
    """The shipped Salesforce mapping."""
    return load_mapping_file(ROOT / "mappings" / "salesforce.yaml")


@pytest.fixture
def slept() -> list[float]:
    """Every sleep the adapter asked for."""
    return []


def make_client(url: str, tokens: TokenSource | None = None) -> SalesforceClient:
    """A client on the sandbox; OAuth token sources post through the same client."""
    holder: list[SalesforceClient] = []
    if isinstance(tokens, OAuthTokenSource):
        tokens.post = lambda target, form: holder[0].post_form(target, form)  # noqa: PLW0108 - late binding
    client = SalesforceClient(url, tokens or StaticToken("sandbox"), version="62.0")
    holder.append(client)
    return client


def oauth(url: str, **kw: Any) -> OAuthTokenSource:
    """The sandbox's connected app, refresh-token flow by default."""
    options: dict[str, Any] = {
        "token_url": f"{url}/services/oauth2/token",
        "client_id": "sandbox-client-id",
        "client_secret": "sandbox-client-secret",
        "refresh_token": "sandbox-refresh-token",
        "post": lambda *_: (500, None),
    }
    options.update(kw)
    return OAuthTokenSource(**options)


@pytest.fixture
def make_adapter(url: str, mapping: MappingFile, slept: list[float]) -> Any:
    """Factory: an adapter on the sandbox (options override the test defaults)."""

    def build(tokens: TokenSource | None = None, **options: Any) -> SalesforceAdapter:
        options.setdefault("bulk_poll_s", 0.0)
        options.setdefault("sleep", slept.append)
        return SalesforceAdapter(make_client(url, tokens), mapping=mapping, **options)

    return build


@pytest.fixture
def adapter(make_adapter: Any) -> SalesforceAdapter:
    """The default adapter (static sandbox token)."""
    return make_adapter()


def grant(sandbox: SalesforceSandbox, sobject: str, *fields: FieldDef) -> None:
    """Add already-provisioned custom fields visible to the integration user (test setup)."""
    org = sandbox.state
    perm = org.insert_system(
        "PermissionSet", {"Name": f"Test_{sobject}_{len(org.rows('PermissionSet'))}", "Label": "t"}
    )
    for f in fields:
        org.schema[sobject].fields[f.name] = f
        for rec in org.records[sobject].values():
            rec.setdefault(f.name, None)
        if not f.custom:
            continue  # standard fields need no FLS grant
        org.insert_system(
            "FieldPermissions",
            {
                "ParentId": perm,
                "SobjectType": sobject,
                "Field": f"{sobject}.{f.name}",
                "PermissionsRead": True,
                "PermissionsEdit": True,
            },
        )
    org.insert_system(
        "PermissionSetAssignment", {"AssigneeId": org.integration_user_id, "PermissionSetId": perm}
    )


@pytest.fixture
def provisioned(adapter: SalesforceAdapter, mapping: MappingFile) -> SalesforceAdapter:
    """The shipped mapping's fields created and granted through the adapter itself."""
    adapter.apply_provision(adapter.plan_provision(mapping))
    return adapter


@pytest.fixture
def grant_fields(sandbox: SalesforceSandbox) -> Any:
    """Factory: :func:`grant` on this test's sandbox."""
    return lambda sobject, *fields: grant(sandbox, sobject, *fields)


@pytest.fixture
def oauth_tokens(url: str) -> Any:
    """Factory: an OAuth token source for the sandbox's connected app."""
    return lambda **kw: oauth(url, **kw)
