"""Fixtures for driving the HubSpot sandbox with the official client over HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hubspot import HubSpot  # noqa: TID251 - tests drive the sandbox with the official client on purpose

from crm_sync.sandbox.http import SandboxServer


class Raw:
    """``client.api_request`` for endpoints the client does not wrap; returns (status, json, headers)."""

    def __init__(self, client: HubSpot) -> None:
        self.client = client

    def __call__(
        self, method: str, path: str, body: Any = None, qs: dict[str, Any] | None = None
    ) -> tuple[int, Any, Any]:
        options: dict[str, Any] = {"method": method, "path": path}
        if body is not None:
            options["body"] = body
        if qs:
            options["qs"] = qs
        resp = self.client.api_request(options)
        data = json.loads(resp.content) if resp.content else None
        return resp.status_code, data, resp.headers


@pytest.fixture
def hs(hubspot_server: SandboxServer) -> HubSpot:
    """The official client pointed at the sandbox (host for generated APIs, base_url for api_request)."""
    return HubSpot(access_token="sandbox", host=hubspot_server.url, base_url=hubspot_server.url)


@pytest.fixture
def raw(hs: HubSpot) -> Raw:
    """Generic request helper built on ``client.api_request``."""
    return Raw(hs)


def body_of(exc: Any) -> dict[str, Any]:
    """The JSON body of an ``ApiException`` (``e.body`` is bytes, facts §1.4)."""
    return json.loads(exc.body)
