"""``SalesforceSandbox``: the emulator's front door — auth, limits, faults, routing.

Why one pipeline: in a real org every request is checked in the same order — URI size, session,
daily allocation — before the resource runs, and every counted REST response carries
``Sforce-Limit-Info`` (facts §1.4). Putting that order in one place keeps every endpoint
honest, including the ones added later. Faults from :mod:`crm_sync.sandbox.faults` are rendered
here in Salesforce's own shapes.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from typing import Any

from crm_sync.sandbox.faults import (
    ADMIN_PREFIX,
    Fault,
    FaultInjector,
    FaultKind,
    RequestStats,
    add_admin_routes,
    apply_transport_fault,
)
from crm_sync.sandbox.http import Request, Response, Router, SandboxServer
from crm_sync.sandbox.salesforce.auth import Sessions
from crm_sync.sandbox.salesforce.bulk import BulkIngest
from crm_sync.sandbox.salesforce.composite import Collections
from crm_sync.sandbox.salesforce.context import current_user, lock_fault
from crm_sync.sandbox.salesforce.errors import SfError, error_response
from crm_sync.sandbox.salesforce.flows import Flows
from crm_sync.sandbox.salesforce.limits import (
    DEVELOPER_EDITION_DAILY_LIMIT,
    ApiLimits,
    concurrent_limit_error,
)
from crm_sync.sandbox.salesforce.metadata import MetadataApi
from crm_sync.sandbox.salesforce.query import QueryEngine
from crm_sync.sandbox.salesforce.rest import LATEST_VERSION, RestApi
from crm_sync.sandbox.salesforce.seeding import load_book
from crm_sync.sandbox.salesforce.state import Org

__all__ = ["SalesforceSandbox"]

_DATA = re.compile(r"^/services/data(?:/(?P<version>[^/]+))?(?P<rest>/.*)?$")
_VERSION = re.compile(r"^v\d{2}\.\d$")
_MAX_REQUEST_BYTES = 16_384  # facts §4.2: URI plus headers
_OAUTH_TOKEN = "/services/oauth2/token"  # noqa: S105 - a URL path, not a secret
_SOAP = "/services/Soap/m/"
_HTML_503 = (
    "<html><head><title>Service Unavailable</title></head><body><h1>Service Unavailable</h1>"
    "<p>The server is temporarily unable to service your request. Please try again later.</p>"
    "</body></html>"
)


def _versions() -> list[dict[str, str]]:
    return [
        {"label": label, "url": f"/services/data/v{v}", "version": v}
        for v, label in (("59.0", "Winter '24"), ("60.0", "Spring '24"), ("61.0", "Summer '24"), (LATEST_VERSION, "Winter '25"))
    ]  # fmt: skip


class SalesforceSandbox:
    """A fresh org served over HTTP; see the package docs for what it enforces.

    ``clock`` (returning aware datetimes) drives audit fields, the rolling API window, cursor
    expiry and the replication windows, so tests move time instead of sleeping.
    """

    def __init__(
        self,
        *,
        token: str = "sandbox",  # noqa: S107 - the documented sandbox token (issue #3)
        daily_limit: int = DEVELOPER_EDITION_DAILY_LIMIT,
        page_size: int = 2000,
        faults: FaultInjector | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        session_ttl_calls: int | None = None,
    ) -> None:
        self._config: dict[str, Any] = {
            "token": token,
            "daily_limit": daily_limit,
            "page_size": page_size,
            "clock": clock,
            "session_ttl_calls": session_ttl_calls,
        }
        self.faults = faults or FaultInjector()
        self.stats = RequestStats()
        self.sleep: Callable[[float], None] = time.sleep
        self._build()

    def _build(self) -> None:
        c = self._config
        self.state = Org(c["clock"])
        self.limits = ApiLimits(c["daily_limit"], self.state.now)
        self.sessions = Sessions(c["token"], self.state.integration_user_id, c["session_ttl_calls"])
        self.queries = QueryEngine(self.state, c["page_size"])
        self.rest = RestApi(self.state, self.queries, self.limits)
        self.bulk = BulkIngest(self.state, self.limits)
        self.metadata = MetadataApi(self.state, self.sessions, self.limits)
        self.flows = Flows()
        router = Router()
        self.flows.register(router)
        Collections(self.state, self.rest).register(router)
        self.bulk.register(router)
        self.rest.register(router)
        add_admin_routes(router, self.faults, reset=self.reset, stats=self.stats.snapshot)
        self.router = router

    def reset(self) -> None:
        """Back to a fresh org (``POST /__sandbox__/reset``); the fault plan restarts too."""
        self._build()
        self.faults.reset()
        self.stats.clear()

    @property
    def integration_user_id(self) -> str:
        """The user every bearer token acts as (``LastModifiedById`` of the sandbox's own writes)."""
        return self.state.integration_user_id

    def load_book(self, book: Any) -> dict[str, int]:
        """Translate a seeded book into org records; see :mod:`.seeding`. Returns counts per object."""
        return load_book(self.state, book)

    def serve(self, port: int = 0) -> SandboxServer:
        """A server for :meth:`app` on 127.0.0.1 (not started: use ``with`` or ``.start()``)."""
        return SandboxServer(self.app, port=port)

    # --- the pipeline --------------------------------------------------------------------

    def app(self, request: Request) -> Response:
        """Answer one request (the callable handed to :class:`SandboxServer`)."""
        self.stats.record(request)
        if request.path.startswith(ADMIN_PREFIX):
            return self.router.dispatch(request) or error_response(
                404, "NOT_FOUND", "The requested resource does not exist"
            )
        size = len(request.raw_path) + sum(len(k) + len(v) + 4 for k, v in request.headers.items())
        if len(request.raw_path) > _MAX_REQUEST_BYTES:
            return Response.text(414, "URI Too Long")
        if size > _MAX_REQUEST_BYTES:
            return Response.text(431, "Request Header Fields Too Large")
        fault = self.faults.decide("salesforce", request)
        dropped = apply_transport_fault(fault, sleep=self.sleep)
        if dropped is not None:
            return dropped
        if request.path.rstrip("/") == _OAUTH_TOKEN:
            return self._server_error(fault) or self.sessions.token_endpoint(request)
        if request.path.startswith(_SOAP):
            return self._server_error(fault) or self.metadata.handle(request, fault)
        match = _DATA.match(request.path)
        if match is None:
            return error_response(404, "NOT_FOUND", "The requested resource does not exist")
        if match["version"] is None:
            return Response.json(200, _versions())
        if not _VERSION.match(match["version"]):
            return error_response(404, "NOT_FOUND", "The requested resource does not exist")
        try:
            if fault is not None and fault.kind is FaultKind.SESSION_EXPIRY:
                self.sessions.expire(request)
            user = self.sessions.authenticate(request)
            self.limits.charge()
        except SfError as exc:
            return self._with_usage(exc.response()) if exc.status == 403 else exc.response()
        return self._with_usage(self._dispatch(request, user, fault))

    def _server_error(self, fault: Fault | None) -> Response | None:
        if fault is None or fault.kind is not FaultKind.SERVER_ERROR:
            return None
        if fault.status == 503:
            return Response.text(503, _HTML_503, "text/html")
        return error_response(
            fault.status,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId if you contact support: 1735062143-90437 (-1298710418)",
        )

    def _dispatch(self, request: Request, user: str, fault: Fault | None) -> Response:
        failed = self._server_error(fault)
        if failed is not None:
            return failed
        if fault is not None and fault.kind is FaultKind.RATE_LIMIT_BURST:
            return concurrent_limit_error().response()
        user_token = current_user.set(user)
        lock_token = lock_fault.set(fault is not None and fault.kind is FaultKind.LOCK_ERROR)
        try:
            response = self.router.dispatch(request)
        except SfError as exc:
            response = exc.response()
        finally:
            current_user.reset(user_token)
            lock_fault.reset(lock_token)
        if response is None:
            return error_response(404, "NOT_FOUND", "The requested resource does not exist")
        if response.status == 405:
            return error_response(
                405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed."
            )
        return response

    def _with_usage(self, response: Response) -> Response:
        response.headers["Sforce-Limit-Info"] = self.limits.header()
        return response
