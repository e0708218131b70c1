"""A shared, deterministic fault plan for both sandbox APIs.

Why: retry, backoff, re-authentication and resume logic can only be trusted if the failures they
handle can be produced on demand, and reproduced exactly when a test fails. A *fault plan* is a
seed plus a list of rules; every rule owns its own ``random.Random`` derived from the seed and the
rule's position, so the same plan against the same sequence of calls injects the same faults, in
the same places, on every run (threads aside: concurrent callers decide in lock order).

File format (YAML or JSON; :meth:`FaultPlan.load` picks by suffix)::

    seed: 42
    rules:
      - api: hubspot              # hubspot | salesforce | any (default any)
        path: "/batch/update$"    # optional regex, matched with re.search against the URL path
        method: POST              # optional, case-insensitive
        kind: server_error        # see FaultKind below
        probability: 0.2          # 0..1, default 1
        after_calls: 0            # start after N matching calls (default 0)
        count: 5                  # max injections; omit / null = unlimited
        status: 503               # server_error only (default 503)
      - kind: rate_limit_burst
        api: hubspot
        after_calls: 10
        count: 3
        retry_after: 1            # seconds, rate_limit_burst only
      - kind: latency
        seconds: 0.5
        probability: 0.1
      - kind: session_expiry      # every matching call after the 100th is refused as expired
        api: salesforce
        after_calls: 100

Kinds, and how each API renders them (the API decides the vendor shape):

``server_error``  an HTTP ``status`` (5xx) answer in the vendor's error shape.
``latency``       sleep ``seconds`` then answer normally (:func:`apply_transport_fault`).
``drop``          close the connection without answering (:func:`apply_transport_fault`).
``rate_limit_burst`` the vendor's rate-limit refusal (HubSpot: its real 429 body).
``session_expiry`` the vendor's expired-credentials answer (HubSpot: 401).
``search_lag``    search results omit records written in the last ``seconds``.
``lock_error``    a record-lock failure (Salesforce ``UNABLE_TO_LOCK_ROW``; see each API).

Rule semantics: every rule whose ``api``/``method``/``path`` match counts the call. A rule is
*eligible* once it has counted more than ``after_calls`` calls and has injected fewer than
``count`` faults; an eligible rule draws from its own random stream and fires when the draw is
below ``probability``. When several rules fire on one call, the first in file order wins and only
it is charged against its ``count``.

Admin endpoints (no auth; :func:`add_admin_routes`): ``POST /__sandbox__/faults`` (body: a plan
as JSON), ``GET /__sandbox__/faults/log``, ``POST /__sandbox__/reset``, ``GET /__sandbox__/stats``.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from crm_sync.sandbox.http import Request, Response, Router

__all__ = [
    "ADMIN_PREFIX",
    "Fault",
    "FaultInjector",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "RequestStats",
    "add_admin_routes",
    "apply_transport_fault",
    "endpoint_key",
]

ADMIN_PREFIX = "/__sandbox__"


class FaultKind(StrEnum):
    """The failure modes a plan can inject."""

    SERVER_ERROR = "server_error"
    LATENCY = "latency"
    DROP = "drop"
    RATE_LIMIT_BURST = "rate_limit_burst"
    SESSION_EXPIRY = "session_expiry"
    SEARCH_LAG = "search_lag"
    LOCK_ERROR = "lock_error"


class FaultRule(BaseModel):
    """One line of a fault plan; see the module docstring for the semantics."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api: Literal["hubspot", "salesforce", "any"] = "any"
    path: str | None = None
    method: str | None = None
    kind: FaultKind
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    after_calls: int = Field(default=0, ge=0)
    count: int | None = Field(default=None, ge=0)
    status: int = Field(default=503, ge=400, le=599)
    seconds: float = Field(default=0.0, ge=0.0)
    retry_after: float | None = Field(default=None, ge=0.0)

    @field_validator("path")
    @classmethod
    def _path_is_regex(cls, value: str | None) -> str | None:
        """Reject a bad regex when the plan loads, not on the first request."""
        if value is not None:
            re.compile(value)
        return value

    def matches(self, api: str, request: Request) -> bool:
        """Whether this rule applies to ``request`` sent to ``api``."""
        if self.api not in ("any", api):
            return False
        if self.method is not None and self.method.upper() != request.method.upper():
            return False
        return self.path is None or re.search(self.path, request.path) is not None


class FaultPlan(BaseModel):
    """A seed and an ordered list of rules. The empty plan injects nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 0
    rules: list[FaultRule] = Field(default_factory=list)

    @classmethod
    def load(cls, path: str | Path) -> FaultPlan:
        """Read a plan from a ``.json`` file, or YAML for any other suffix."""
        text = Path(path).read_text(encoding="utf-8")
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
        return cls.model_validate(data or {})


@dataclass(frozen=True, slots=True)
class Fault:
    """One injection decision, handed to the API so it can answer in its vendor's shape."""

    kind: FaultKind
    rule_index: int
    status: int = 503
    seconds: float = 0.0
    retry_after: float | None = None


class FaultInjector:
    """Decides, per request, whether to inject a fault. Thread-safe and deterministic per seed."""

    def __init__(self, plan: FaultPlan | Mapping[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        self._log: list[dict[str, Any]] = []
        self._calls = 0
        self.set_plan(plan or FaultPlan())

    @property
    def plan(self) -> FaultPlan:
        """The plan in force."""
        return self._plan

    def set_plan(self, plan: FaultPlan | Mapping[str, Any]) -> None:
        """Replace the plan at runtime; counters and random streams restart, the log is kept."""
        parsed = plan if isinstance(plan, FaultPlan) else FaultPlan.model_validate(plan)
        with self._lock:
            self._plan = parsed
            # One stream per rule, derived from (seed, index): adding a rule never shifts another's draws.
            self._rngs = [random.Random(f"{parsed.seed}:{i}") for i in range(len(parsed.rules))]
            self._seen = [0] * len(parsed.rules)
            self._fired = [0] * len(parsed.rules)

    def reset(self) -> None:
        """Restart the current plan from scratch and clear the log (``POST /__sandbox__/reset``)."""
        self.set_plan(self._plan)
        with self._lock:
            self._log.clear()
            self._calls = 0

    def decide(self, api: str, request: Request) -> Fault | None:
        """The fault to inject for this call, or ``None``. Every call advances the sequence."""
        with self._lock:
            self._calls += 1
            winner: int | None = None
            for index, rule in enumerate(self._plan.rules):
                if not rule.matches(api, request):
                    continue
                self._seen[index] += 1
                if self._seen[index] <= rule.after_calls:
                    continue
                if rule.count is not None and self._fired[index] >= rule.count:
                    continue
                fires = rule.probability >= 1.0 or self._rngs[index].random() < rule.probability
                if fires and winner is None:
                    winner = index
            if winner is None:
                return None
            rule = self._plan.rules[winner]
            self._fired[winner] += 1
            self._log.append(
                {
                    "call": self._calls,
                    "api": api,
                    "method": request.method,
                    "path": request.path,
                    "kind": rule.kind.value,
                    "rule": winner,
                }
            )
            return Fault(rule.kind, winner, rule.status, rule.seconds, rule.retry_after)

    def log(self) -> list[dict[str, Any]]:
        """A copy of every injection so far: call number, api, method, path, kind, rule index."""
        with self._lock:
            return [dict(entry) for entry in self._log]


def apply_transport_fault(
    fault: Fault | None, *, sleep: Callable[[float], None] = time.sleep
) -> Response | None:
    """Handle the vendor-neutral kinds: ``drop`` answers a dropped connection, ``latency`` sleeps.

    Returns the response to send for ``drop``; ``None`` means carry on (after any latency).
    """
    if fault is None:
        return None
    if fault.kind is FaultKind.DROP:
        return Response(drop=True)
    if fault.kind is FaultKind.LATENCY and fault.seconds > 0:
        sleep(fault.seconds)
    return None


_ID_SEGMENT = re.compile(
    r"^(?:\d+|[0-9a-fA-F-]{32,36}|[^/]*(?:@|%40)[^/]*|[a-zA-Z0-9]{15}|[a-zA-Z0-9]{18})$"
)


def endpoint_key(request: Request) -> str:
    """``METHOD /path`` with id-like segments (numbers, emails, Salesforce ids) as ``{id}``."""
    segments = [
        "{id}" if _ID_SEGMENT.match(s) and not s.isalpha() else s for s in request.path.split("/")
    ]
    return f"{request.method} {'/'.join(segments)}"


class RequestStats:
    """Thread-safe request counts per endpoint, for ``GET /__sandbox__/stats``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def record(self, request: Request) -> None:
        """Count one request against its endpoint key."""
        key = endpoint_key(request)
        with self._lock:
            self._counts[key] += 1

    def snapshot(self) -> dict[str, Any]:
        """``{"total": n, "endpoints": {key: n}}``."""
        with self._lock:
            return {"total": sum(self._counts.values()), "endpoints": dict(self._counts)}

    def clear(self) -> None:
        """Forget every count."""
        with self._lock:
            self._counts.clear()


def add_admin_routes(
    router: Router,
    injector: FaultInjector,
    *,
    reset: Callable[[], None],
    stats: Callable[[], Mapping[str, Any]],
) -> None:
    """Register the unauthenticated ``/__sandbox__`` endpoints on ``router``.

    ``reset`` must restore the API's fresh state (and should call ``injector.reset()``).
    """

    def set_faults(request: Request) -> Response:
        try:
            injector.set_plan(FaultPlan.model_validate(request.json() or {}))
        except (ValueError, ValidationError) as exc:
            return Response.json(400, {"status": "error", "message": f"invalid fault plan: {exc}"})
        return Response.json(200, injector.plan.model_dump(mode="json"))

    def get_plan(request: Request) -> Response:
        return Response.json(200, injector.plan.model_dump(mode="json"))

    def get_log(request: Request) -> Response:
        return Response.json(200, {"injections": injector.log()})

    def do_reset(request: Request) -> Response:
        reset()
        return Response(204)

    def get_stats(request: Request) -> Response:
        return Response.json(200, dict(stats()))

    router.add("POST", f"{ADMIN_PREFIX}/faults", set_faults)
    router.add("GET", f"{ADMIN_PREFIX}/faults", get_plan)
    router.add("GET", f"{ADMIN_PREFIX}/faults/log", get_log)
    router.add("POST", f"{ADMIN_PREFIX}/reset", do_reset)
    router.add("GET", f"{ADMIN_PREFIX}/stats", get_stats)
