"""Fixtures: a Salesforce sandbox on 127.0.0.1 driven through the official simple-salesforce client.

simple-salesforce always builds ``https://`` URLs (facts §1.2), so a LoopbackAdapter mounted on
``https://`` re-routes every call to the plain-HTTP sandbox (CONVENTIONS §3).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce  # noqa: TID251 - tests drive the sandbox with the official client

from crm_sync.sandbox.http import SandboxServer, SwitchableApp
from crm_sync.sandbox.salesforce.app import SalesforceSandbox

INSTANCE = "https://sandbox.my.salesforce.com"
VERSION = "62.0"


class LoopbackAdapter(HTTPAdapter):
    """Test-only: send https://<instance>/... to the sandbox on 127.0.0.1."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port

    def send(self, request: Any, **kwargs: Any) -> Any:
        path = request.url.partition("://")[2].partition("/")[2]
        request.url = f"http://127.0.0.1:{self.port}/{path}"
        return super().send(request, **kwargs)


class Clock:
    """A settable clock: tests advance time instead of sleeping."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += dt.timedelta(**kwargs)


def make_session(port: int) -> requests.Session:
    """A requests session whose https:// traffic goes to the loopback sandbox."""
    session = requests.Session()
    session.trust_env = False
    session.mount("https://", LoopbackAdapter(port))
    return session


def connect(server: SandboxServer, token: str = "sandbox") -> Salesforce:
    """An official client pointed at ``server``; mdapi's own zeep session is re-routed too."""
    return Salesforce(
        instance_url=INSTANCE, session_id=token, session=make_session(server.port), version=VERSION
    )


def mdapi(sf: Salesforce, server: SandboxServer) -> Any:
    """``sf.mdapi`` with zeep's private session re-routed (it ignores ``sf.session``, facts §1.1)."""
    md = sf.mdapi
    md._client.transport.session.mount("https://", LoopbackAdapter(server.port))
    md._client.transport.session.trust_env = False
    return md


@pytest.fixture
def clock() -> Clock:
    """Time starts at a fixed instant."""
    return Clock(dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC))


@pytest.fixture
def sandbox_options() -> dict[str, Any]:
    """Constructor options for the test's sandbox; parametrize this name to change them."""
    return {}


@pytest.fixture
def sandbox(clock: Clock, sandbox_options: dict[str, Any]) -> SalesforceSandbox:
    """A fresh org with an injected clock."""
    return SalesforceSandbox(clock=clock, **sandbox_options)


@pytest.fixture
def server(
    sandbox: SalesforceSandbox, sandbox_listener: tuple[SandboxServer, SwitchableApp]
) -> SandboxServer:
    """The test's sandbox served on a session-wide ephemeral port."""
    running, switch = sandbox_listener
    switch.app = sandbox.app
    return running


@pytest.fixture
def sf(server: SandboxServer) -> Salesforce:
    """The official client, authenticated with the default ``sandbox`` token."""
    return connect(server)


@pytest.fixture
def raw(server: SandboxServer) -> requests.Session:
    """A bare requests session to the sandbox, for raw HTTP checks (no client in between)."""
    return make_session(server.port)


@pytest.fixture
def client_for(server: SandboxServer) -> Any:
    """Factory: an official client using another token."""
    return lambda token="sandbox": connect(server, token)


@pytest.fixture
def metadata(sf: Salesforce, server: SandboxServer) -> Any:
    """``sf.mdapi`` re-routed to the sandbox."""
    return mdapi(sf, server)
