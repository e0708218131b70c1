"""Shared sandbox fixtures: a HubSpot sandbox served on an ephemeral port, and a fake clock."""

from __future__ import annotations

import pytest

from crm_sync.sandbox.http import SandboxServer, SwitchableApp
from crm_sync.sandbox.hubspot import HubSpotSandbox


class FakeClock:
    """A settable clock (epoch seconds) so rate-limit and lag tests never sleep."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock starting at 2023-11-14T22:13:20Z."""
    return FakeClock()


@pytest.fixture
def hubspot_sandbox(clock: FakeClock) -> HubSpotSandbox:
    """A fresh HubSpot sandbox on the fake clock, with a generous rate limit."""
    return HubSpotSandbox(clock=clock, rate_limit_per_10s=10_000)


@pytest.fixture
def hubspot_server(
    hubspot_sandbox: HubSpotSandbox, sandbox_listener: tuple[SandboxServer, SwitchableApp]
) -> SandboxServer:
    """The test's sandbox served on 127.0.0.1 (one ephemeral-port listener per session)."""
    server, switch = sandbox_listener
    switch.app = hubspot_sandbox.app
    return server
