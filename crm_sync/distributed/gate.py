"""An adapter wrapper that takes a token from the shared rate budget before every CRM request.

The engine paces calls with a per-run bucket (:mod:`crm_sync.sync.ratelimit`), which is right
for one worker and wrong for many: each would spend the whole account limit. Wrapping the adapter
puts the shared budget at the seam every call crosses without touching the engine. Adapters that
report each HTTP request (:class:`~crm_sync.adapters.base.SupportsRequestHook`: memory, HubSpot,
Salesforce) are charged per request — a HubSpot activities page reads associations and
engagements too, so charging per page would let an account see several times its limit. Other
adapters are charged per adapter call (describe, each pulled page, each pushed batch, each
capability call).

A worker must not sleep long on one account's budget while other accounts' work waits in the
queue: with ``defer_after_s`` set, a token further away than that raises
:class:`~crm_sync.errors.RateDeferred` at the two points where stopping loses nothing — before
the first request of a pulled page (the stream resumes from its stored cursor) and before a push
batch is journalled (:meth:`RateGatedAdapter.checkpoint`, which the engine calls through
``RunOptions.before_batch``). The task is then re-queued for when the token will be there.
Requests elsewhere (the rest of a page, describe, a bisected half of a rejected batch, a retried
attempt) still wait: stopping there would leave work half-done.

.. versionadded:: 0.2
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from crm_sync.adapters.base import (
    CrmAdapter,
    Cursor,
    EnsureResult,
    EntityName,
    PropertySpec,
    PullPage,
    PushResult,
    RecordUpdate,
    RemoteProperty,
    Stream,
    SupportsRequestHook,
)
from crm_sync.distributed.budget import SharedRateBudget

__all__ = ["RateGatedAdapter"]


class RateGatedAdapter:
    """Delegates to ``inner``; every request first waits for a token of ``key``'s budget."""

    def __init__(
        self,
        inner: CrmAdapter,
        budget: SharedRateBudget,
        key: str,
        *,
        defer_after_s: float | None = None,
    ) -> None:
        self.inner = inner
        self.budget = budget
        self.key = key
        self.defer_after_s = defer_after_s
        self.crm = inner.crm
        self.account = inner.account
        self.max_batch = inner.max_batch
        self.waited_s = 0.0
        self._prepaid = 0
        self._may_defer = False  # set at a safe point, cleared by the first request after it
        self.per_request = isinstance(inner, SupportsRequestHook)
        if isinstance(inner, SupportsRequestHook):
            inner.set_request_hook(self._on_request)

    def _take(self, *, deferrable: bool = False) -> None:
        if self._prepaid:
            self._prepaid -= 1
            return
        limit = self.defer_after_s if deferrable else None
        self.waited_s += self.budget.take(self.key, max_wait=limit)

    def _on_request(self, _endpoint: str) -> None:
        deferrable, self._may_defer = self._may_defer, False
        self._take(deferrable=deferrable)

    def _per_call(self) -> None:
        """The charge of an adapter call when the inner adapter does not report requests."""
        if not self.per_request:
            self._take()

    def checkpoint(self) -> None:
        """Take the next request's token now, or raise RateDeferred if it is too far away."""
        if not self._prepaid:
            self._take(deferrable=True)
            self._prepaid = 1

    def describe(self, entity: EntityName) -> Sequence[RemoteProperty]:
        """Charged per request (or as one call)."""
        self._per_call()
        return self.inner.describe(entity)

    def ensure_properties(self, specs: Sequence[PropertySpec]) -> EnsureResult:
        """Charged per request (or as one call)."""
        self._per_call()
        return self.inner.ensure_properties(specs)

    def pull(
        self, stream: Stream, since: Cursor | None, *, properties: Sequence[str], page_size: int
    ) -> Iterator[PullPage]:
        """Pages fetched lazily; the first request of a page is the deferral point.

        Deferring is allowed before the first page and after a page that moved past ``since``.
        After a page that did not (a resumed pull re-reads the record at its cursor; membership
        snapshots carry no cursor) the next token is waited for: deferring there would make a
        resumed pull re-read the same page on every attempt and never finish.
        """
        pages = self.inner.pull(stream, since, properties=properties, page_size=page_size)
        progressed = True
        while True:
            if self.per_request:
                self._may_defer = progressed
            else:
                self._take(deferrable=progressed)
            try:
                page = next(pages, None)
            finally:
                self._may_defer = False
            if page is None:
                return
            progressed = page.cursor is not None and (since is None or page.cursor > since)
            yield page

    def push(self, updates: Sequence[RecordUpdate]) -> PushResult:
        """Charged per request (or as one call); the first uses the checkpoint's token."""
        self._per_call()
        return self.inner.push(updates)

    def api_calls(self) -> Mapping[str, int]:
        """The inner adapter's counts."""
        return self.inner.api_calls()

    def __getattr__(self, name: str) -> Any:
        """Capabilities (lists, workflows, campaigns, flows) pass through, gated too."""
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def gated(*args: Any, **kwargs: Any) -> Any:
            self._per_call()
            return attr(*args, **kwargs)

        wrapped: Callable[..., Any] = gated
        return wrapped
