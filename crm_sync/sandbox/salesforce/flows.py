"""Invocable autolaunched Flows: ``POST /actions/custom/flow/{Name}`` (facts §6).

Why: crm_sync can run an autolaunched flow per changed record instead of relying on
record-triggered flows. Only *active autolaunched* flows can be called; each input runs one
interview and gets one ``{"actionName", "errors", "isSuccess", "outputValues"}`` result, in
order. Tests register a flow with :meth:`Flows.activate` (a handler may raise :class:`SfError`
to fail one interview) and read what ran from :attr:`Flows.invocations`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm_sync.sandbox.http import Request, Response, Router
from crm_sync.sandbox.salesforce.errors import SfError
from crm_sync.sandbox.salesforce.rest import parse_body

__all__ = ["Flows"]

Handler = Callable[[dict[str, Any]], dict[str, Any] | None]


class Flows:
    """Active autolaunched flows by API name, and every interview run so far."""

    def __init__(self) -> None:
        self.active: dict[str, Handler] = {}
        self.invocations: list[tuple[str, dict[str, Any]]] = []

    def activate(self, name: str, handler: Handler | None = None) -> None:
        """Make ``name`` callable; ``handler(inputs)`` returns output values or raises SfError."""
        self.active[name] = handler or (lambda _inputs: None)

    def register(self, router: Router) -> None:
        """Add the flow action routes."""
        base = "/services/data/{version}/actions/custom/flow"
        router.add("GET", base, self.list_flows)
        router.add("POST", f"{base}/{{name}}", self.invoke)

    def list_flows(self, request: Request, version: str) -> Response:
        """``GET /actions/custom/flow``: the callable flows."""
        actions = [{"name": n, "label": n, "type": "FLOW"} for n in sorted(self.active)]
        return Response.json(200, {"actions": actions})

    def invoke(self, request: Request, version: str, name: str) -> Response:
        """Run one interview per input."""
        handler = self.active.get(name)
        if handler is None:
            raise SfError(
                "NOT_FOUND", f"Couldn't find an active autolaunched flow named {name}", status=404
            )
        body = parse_body(request)
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            raise SfError("JSON_PARSER_ERROR", 'The request body must be {"inputs": [...]}')
        results: list[dict[str, Any]] = []
        for item in inputs:
            values = item if isinstance(item, dict) else {}
            try:
                out = handler(values) or {}
            except SfError as exc:
                results.append(
                    {
                        "actionName": name,
                        "errors": [{"statusCode": exc.code, "message": exc.message, "fields": []}],
                        "isSuccess": False,
                        "outputValues": None,
                    }
                )
                continue
            self.invocations.append((name, values))
            results.append(
                {
                    "actionName": name,
                    "errors": None,
                    "isSuccess": True,
                    "outputValues": {"Flow__InterviewStatus": "Finished", **out},
                }
            )
        return Response.json(200, results)
