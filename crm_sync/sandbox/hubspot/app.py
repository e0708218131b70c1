"""``HubSpotSandbox``: the HubSpot half of the sandbox, served over HTTP by ``SandboxServer``.

Each request goes through, in order: the unauthenticated ``/__sandbox__`` admin routes; bearer
auth (401 ``INVALID_AUTHENTICATION`` otherwise); the rate limiter (real 429 bodies, facts §2.6);
the fault plan (``crm_sync.sandbox.faults``) rendered in HubSpot's shapes; then the API routes.
Rate-limit headers are added to every non-search answer.

How fault kinds render here: ``server_error`` → the rule's 5xx with a HubSpot error body;
``rate_limit_burst`` → the ``TEN_SECONDLY_ROLLING`` 429 with ``Retry-After``;
``session_expiry`` → 401 ``EXPIRED_AUTHENTICATION`` ([UNVERIFIED] category; a private-app token
does not expire, an OAuth one does); ``search_lag`` → that request's search results lag by the
rule's ``seconds``; ``latency``/``drop`` → shared transport behaviour; ``lock_error`` → ignored,
because HubSpot documents no record-lock error (facts file has none) and inventing one would
teach the client a failure the real service never produces.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from typing import Any

from crm_sync.sandbox.faults import (
    FaultInjector,
    FaultKind,
    RequestStats,
    add_admin_routes,
    apply_transport_fault,
)
from crm_sync.sandbox.http import Request, Response, Router, SandboxServer
from crm_sync.sandbox.hubspot.associations import add_association_routes
from crm_sync.sandbox.hubspot.errors import error_body
from crm_sync.sandbox.hubspot.events import add_event_routes
from crm_sync.sandbox.hubspot.lists import add_list_routes
from crm_sync.sandbox.hubspot.oauth import OAuthApp
from crm_sync.sandbox.hubspot.objects import add_object_routes
from crm_sync.sandbox.hubspot.properties import OBJECT_TYPES, iso_ms, resolve_type
from crm_sync.sandbox.hubspot.property_routes import add_property_routes
from crm_sync.sandbox.hubspot.ratelimit import RateLimiter, rate_limit_response
from crm_sync.sandbox.hubspot.search import add_search_routes
from crm_sync.sandbox.hubspot.seeding import BookLike, load_book
from crm_sync.sandbox.hubspot.state import HsObject, Portal
from crm_sync.sandbox.hubspot.workflows import add_workflow_routes

__all__ = ["HubSpotSandbox"]

_AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
    "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
_extra_lag: contextvars.ContextVar[float] = contextvars.ContextVar(
    "hubspot_search_lag", default=0.0
)


class HubSpotSandbox:
    """A stateful HubSpot portal emulator.

    ``token`` is the accepted bearer token; ``rate_limit_per_10s`` is 100 (Free/Starter) or 190
    (Professional/Enterprise); ``daily_limit`` defaults to the Free/Starter 250,000 that pairs
    with 100 (facts §2.6); ``search_lag_seconds`` delays search visibility after writes;
    ``clock`` (epoch seconds) drives timestamps, lag and rate limits.
    """

    def __init__(
        self,
        *,
        token: str = "sandbox",  # noqa: S107 - the documented sandbox token, not a secret
        rate_limit_per_10s: int = 100,
        daily_limit: int = 250_000,
        search_lag_seconds: float = 0.0,
        faults: FaultInjector | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.token = token
        self.search_lag_seconds = search_lag_seconds
        self.faults = faults or FaultInjector()
        self._clock = clock or time.time
        self.limiter = RateLimiter(per_10s=rate_limit_per_10s, daily=daily_limit, clock=self._clock)
        self.stats = RequestStats()
        self.state = Portal(clock=self._clock)
        self.book_ids: dict[str, str] = {}
        self.oauth = OAuthApp(self._clock)
        self._admin = Router()
        add_admin_routes(self._admin, self.faults, reset=self.reset, stats=self.stats.snapshot)
        self._router = self._build_router()

    def _build_router(self) -> Router:
        router = Router()
        add_search_routes(router, self.state, lambda: self.search_lag_seconds + _extra_lag.get())
        add_object_routes(router, self.state, self._attach_associations)
        add_property_routes(router, self.state)
        add_association_routes(router, self.state)
        add_list_routes(router, self.state)
        add_workflow_routes(router, self.state)
        add_event_routes(router, self.state)
        router.add("GET", "/account-info/v3/api-usage/daily/private-apps", self._usage)
        return router

    def reset(self) -> None:
        """Back to a fresh portal: no records, no usage, the fault plan restarted."""
        self.state = Portal(clock=self._clock)
        self.book_ids = {}
        self._router = self._build_router()
        self.limiter.reset()
        self.stats.clear()
        self.faults.reset()

    def app(self, request: Request) -> Response:
        """The WSGI-like callable ``SandboxServer`` serves."""
        if request.path.startswith("/__sandbox__"):
            return self._admin.dispatch(request) or Response.json(
                404, {"message": "unknown admin path"}
            )
        self.stats.record(request)
        if request.method == "POST" and request.path == "/oauth/v1/token":
            return self.oauth.token_endpoint(request)  # no bearer token: the client authenticates
        auth = request.header("Authorization") or ""
        if auth != f"Bearer {self.token}":
            oauth = self.oauth.status(auth.removeprefix("Bearer "))
            if oauth == "expired":
                message = "The OAuth token used to make this call expired."
                return Response.json(401, error_body("EXPIRED_AUTHENTICATION", message))
            if oauth != "valid":
                return Response.json(401, error_body("INVALID_AUTHENTICATION", _AUTH_MESSAGE))
        search = (
            request.method == "POST"
            and request.path.startswith("/crm/v3/objects/")
            and request.path.rstrip("/").endswith("/search")
        )
        decision = self.limiter.admit(self.token, search=search)
        if decision.policy is not None:
            return rate_limit_response(decision.policy, decision.headers, decision.retry_after)
        response, lag = self._faulted(request, decision.headers)
        if response is None:
            token = _extra_lag.set(lag)
            try:
                response = self._router.dispatch(request) or Response.json(
                    404, error_body("OBJECT_NOT_FOUND", f"Unknown path {request.path}")
                )
            finally:
                _extra_lag.reset(token)
        response.headers.update(decision.headers)
        return response

    def _faulted(self, request: Request, headers: dict[str, str]) -> tuple[Response | None, float]:
        """Render an injected fault in HubSpot's shape; ``(None, extra search lag)`` to serve normally."""
        fault = self.faults.decide("hubspot", request)
        dropped = apply_transport_fault(fault)
        if dropped is not None or fault is None:
            return dropped, 0.0
        if fault.kind is FaultKind.SERVER_ERROR:
            return Response.json(fault.status, error_body("INTERNAL_ERROR", "internal error")), 0.0
        if fault.kind is FaultKind.RATE_LIMIT_BURST:
            retry_after = fault.retry_after if fault.retry_after is not None else 1.0
            return rate_limit_response("TEN_SECONDLY_ROLLING", headers, retry_after), 0.0
        if fault.kind is FaultKind.SESSION_EXPIRY:
            message = "The OAuth token used to make this call expired."
            return Response.json(401, error_body("EXPIRED_AUTHENTICATION", message)), 0.0
        if fault.kind is FaultKind.SEARCH_LAG:
            return None, fault.seconds
        return None, 0.0  # latency already slept; lock_error has no HubSpot equivalent

    def _attach_associations(
        self, obj: HsObject, body: dict[str, Any], names: list[str]
    ) -> dict[str, Any]:
        """v3 inline ``?associations=companies`` (facts §4.5 last bullet)."""
        out: dict[str, Any] = {}
        for name in names:
            to_type = resolve_type(name)
            if to_type is None:
                continue
            linked = self.state.associated((obj.object_type, obj.id), to_type)
            kind = f"{OBJECT_TYPES[obj.object_type][1]}_to_{OBJECT_TYPES[to_type][1]}"
            rows = [{"id": i, "type": kind} for i in sorted(linked, key=int)]
            if rows:
                out[name] = {"results": rows}
        if out:
            body["associations"] = out
        return body

    def _usage(self, request: Request) -> Response:
        usage = self.limiter.usage()
        now = self.state.now_ms()
        resets = (now // 86_400_000 + 1) * 86_400_000
        result = {
            "name": "private-apps-api-calls-daily",
            **usage,
            "collectedAt": iso_ms(now),
            "resetsAt": iso_ms(resets),
            "fetchStatus": "SUCCESS",
        }
        return Response.json(200, {"results": [result]})

    def load_book(self, book: BookLike) -> dict[str, str]:
        """Seed the portal with a generated book; returns book id -> HubSpot id (see ``seeding``)."""
        self.book_ids = load_book(self.state, book)
        return self.book_ids

    def serve(self, port: int = 0) -> SandboxServer:
        """Start serving on 127.0.0.1 (ephemeral port by default); stop it with ``.stop()``."""
        return SandboxServer(self.app, port=port).start()
