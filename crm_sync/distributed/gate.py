"""An adapter wrapper that takes a token from the shared rate budget before every CRM call.

The engine paces calls with a per-run bucket (:mod:`crm_sync.sync.ratelimit`), which is right
for one worker and wrong for many: each would spend the whole account limit. Wrapping the adapter
puts the shared budget at the one seam every call crosses — describe, provision, each pulled page,
each pushed batch and any capability (lists, flows) — without touching the engine.

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
)
from crm_sync.distributed.budget import SharedRateBudget

__all__ = ["RateGatedAdapter"]


class RateGatedAdapter:
    """Delegates to ``inner``; every API call first waits for a token of ``key``'s budget."""

    def __init__(self, inner: CrmAdapter, budget: SharedRateBudget, key: str) -> None:
        self.inner = inner
        self.budget = budget
        self.key = key
        self.crm = inner.crm
        self.account = inner.account
        self.max_batch = inner.max_batch
        self.waited_s = 0.0

    def _take(self) -> None:
        self.waited_s += self.budget.take(self.key)

    def describe(self, entity: EntityName) -> Sequence[RemoteProperty]:
        """One call."""
        self._take()
        return self.inner.describe(entity)

    def ensure_properties(self, specs: Sequence[PropertySpec]) -> EnsureResult:
        """One call (adapters that need several count as one here; provisioning is rare)."""
        self._take()
        return self.inner.ensure_properties(specs)

    def pull(
        self, stream: Stream, since: Cursor | None, *, properties: Sequence[str], page_size: int
    ) -> Iterator[PullPage]:
        """One token per page: adapters fetch a page when the engine asks for the next one."""
        pages = self.inner.pull(stream, since, properties=properties, page_size=page_size)
        while True:
            self._take()
            page = next(pages, None)
            if page is None:
                return
            yield page

    def push(self, updates: Sequence[RecordUpdate]) -> PushResult:
        """One call per batch."""
        self._take()
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
            self._take()
            return attr(*args, **kwargs)

        wrapped: Callable[..., Any] = gated
        return wrapped
