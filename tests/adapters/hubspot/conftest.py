"""HubSpot adapter fixtures: one sandbox listener per session, a fresh portal per test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from crm_sync.adapters.hubspot.adapter import HubSpotAdapter
from crm_sync.adapters.hubspot.auth import PrivateAppToken
from crm_sync.adapters.hubspot.client import HubSpotClient
from crm_sync.adapters.hubspot.ratelimit import RequestWindow
from crm_sync.mapping.load import MappingFile, load_mapping_file
from crm_sync.sandbox.http import SandboxServer, SwitchableApp
from crm_sync.sandbox.hubspot import HubSpotSandbox
from crm_sync.sync.computer import RulesComputer

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def computer() -> RulesComputer:
    """The shipped segmentation model."""
    return RulesComputer(ROOT / "mappings" / "model.yaml")


@pytest.fixture(scope="session")
def mapping(computer: RulesComputer) -> MappingFile:
    """The shipped HubSpot mapping."""
    return load_mapping_file(ROOT / "mappings" / "hubspot.yaml", computer)


@pytest.fixture
def sandbox() -> HubSpotSandbox:
    """A fresh portal with a generous burst limit (search keeps its real 5/s)."""
    return HubSpotSandbox(rate_limit_per_10s=10_000)


@pytest.fixture
def url(sandbox: HubSpotSandbox, sandbox_listener: tuple[SandboxServer, SwitchableApp]) -> str:
    """Base URL serving this test's sandbox."""
    server, switch = sandbox_listener
    switch.app = sandbox.app
    return server.url


def make_client(url: str, token: str = "sandbox", per_10s: int = 10_000) -> HubSpotClient:
    """A client with its own request window (tests must not share the process-wide one)."""
    return HubSpotClient(url, PrivateAppToken(token), window=RequestWindow(per_10s, search_per_s=5))


@pytest.fixture
def client_factory() -> Callable[..., HubSpotClient]:
    """``make_client(url, token=..., per_10s=...)`` for tests that build their own client."""
    return make_client


@pytest.fixture
def adapter(url: str, mapping: MappingFile) -> HubSpotAdapter:
    """The adapter on the sandbox, provisioned from the shipped mapping."""
    hub = HubSpotAdapter(make_client(url), mapping, account="test")
    hub.apply_provision(hub.plan_provision(mapping))
    return hub
