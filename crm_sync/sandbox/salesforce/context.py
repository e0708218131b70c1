"""Per-request context set by the app before dispatch: who is calling, and any lock fault.

Why context variables: the HTTP server runs each request on its own thread, and handlers need
the caller's user (for field-level security and ``LastModifiedById``) without threading it
through every signature.
"""

from __future__ import annotations

from contextvars import ContextVar

__all__ = ["current_user", "lock_fault"]

current_user: ContextVar[str] = ContextVar("current_user", default="")
# When set, the request's first record write fails UNABLE_TO_LOCK_ROW (facts §5).
lock_fault: ContextVar[bool] = ContextVar("lock_fault", default=False)
