"""Test-wide guards: no inherited credentials or endpoints, and hypothesis tuned for a noisy CI box."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from crm_sync.sandbox.http import SandboxServer, SwitchableApp

settings.register_profile(
    "ci",
    deadline=None,  # shared 2-core machines: time limits per example would make tests flaky
    max_examples=int(os.environ.get("CRM_SYNC_HYPOTHESIS_EXAMPLES", "150")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("ci")

_ENV_PREFIXES = ("CRM_SYNC_", "HUBSPOT_", "SALESFORCE_")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without credentials or endpoint overrides from the developer's shell."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) and name != "CRM_SYNC_HYPOTHESIS_EXAMPLES":
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def sandbox_listener() -> Iterator[tuple[SandboxServer, SwitchableApp]]:
    """One 127.0.0.1 listener per session; tests install their own sandbox's app on it."""
    switch = SwitchableApp()
    with SandboxServer(switch) as server:
        yield server, switch


class CountingBudget:
    """A shared rate budget that grants every token at once and counts them."""

    def __init__(self) -> None:
        self.taken = 0

    def take(self, account: str, *, max_wait: float | None = None) -> float:
        self.taken += 1
        return 0.0


@pytest.fixture
def counting_budget() -> CountingBudget:
    """What a :class:`~crm_sync.distributed.gate.RateGatedAdapter` charged, token by token."""
    return CountingBudget()
