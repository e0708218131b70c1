"""One place that turns a Salesforce failure into what the engine should do (CONVENTIONS §4).

Why a neutral :class:`ApiFailure` first: only ``client.py`` may import simple-salesforce, so the
client converts its exceptions (and raw ``requests`` failures) into ``ApiFailure`` carrying the
HTTP status and the parsed error array; :func:`translate` then classifies by *outcome*:

* 401 ``INVALID_SESSION_ID`` — the client refreshes once and repeats the request; if it still
  fails this becomes :class:`~crm_sync.errors.AuthError` (facts §1.6, Gotcha 1).
* 403 ``REQUEST_LIMIT_EXCEEDED`` — the daily ``TotalRequests`` cap is
  :class:`~crm_sync.errors.QuotaExhausted` (never retried: it would burn the rest of the day);
  the concurrency cap (``ConcurrentRequests``/``ConcurrentPerOrgLongTxn``) is transient
  (facts §5, Gotcha 13 — same code, only the message differs).
* ``UNABLE_TO_LOCK_ROW`` (alone or wrapped in a flow error), 5xx, timeouts and dropped
  connections are :class:`~crm_sync.errors.TransientError`.
* Anything else is :class:`~crm_sync.errors.PermanentError`; per-record SaveResult errors
  (key ``statusCode``, Gotcha 5) become :class:`~crm_sync.adapters.base.RecordRejection`.

Every message passes :func:`crm_sync.errors.redact`; URLs are cut to their path, because query
strings carry SOQL with e-mail addresses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crm_sync.adapters.base import RecordRejection
from crm_sync.errors import (
    AdapterError,
    AuthError,
    PermanentError,
    QuotaExhausted,
    RateLimited,
    TransientError,
    redact,
)

__all__ = [
    "LOCK_CODE",
    "ApiFailure",
    "codes_of",
    "is_lock_error",
    "record_rejection",
    "translate",
]

CRM = "salesforce"
LOCK_CODE = "UNABLE_TO_LOCK_ROW"
_CONCURRENT_MARKERS = ("concurrent", "concurrentperorglongtxn")
_MAX_MESSAGE = 300


@dataclass
class ApiFailure(Exception):
    """A failed call in neutral form: status (``None`` for transport errors) and error array."""

    operation: str
    status: int | None
    errors: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""
    transport: str = ""  # "timeout" | "connection" for requests failures

    def __str__(self) -> str:
        return redact(f"{self.operation}: HTTP {self.status} {self.summary()}")

    def summary(self) -> str:
        """``CODE: message`` of the first error, or the (trimmed) raw body."""
        if self.errors:
            first = self.errors[0]
            code = first.get("errorCode") or first.get("statusCode") or ""
            return f"{code}: {first.get('message', '')}"[:_MAX_MESSAGE]
        return (self.transport or self.text)[:_MAX_MESSAGE]


def codes_of(errors: Sequence[Mapping[str, Any]]) -> set[str]:
    """Error codes of a REST error array or a SaveResult ``errors`` list (either key)."""
    return {str(e.get("errorCode") or e.get("statusCode") or "") for e in errors}


def is_lock_error(errors: Sequence[Mapping[str, Any]]) -> bool:
    """``UNABLE_TO_LOCK_ROW``, also when wrapped in ``CANNOT_EXECUTE_FLOW_TRIGGER`` (facts §5)."""
    return any(
        e.get("errorCode") == LOCK_CODE
        or e.get("statusCode") == LOCK_CODE
        or LOCK_CODE in str(e.get("message", ""))
        for e in errors
    )


def is_session_error(failure: ApiFailure) -> bool:
    """401, or Bulk 1.0's 400 ``InvalidSessionId`` (Gotcha 1)."""
    if failure.status == 401:
        return True
    return "INVALID_SESSION_ID" in codes_of(failure.errors) or "InvalidSessionId" in failure.text


def translate(failure: ApiFailure) -> AdapterError:
    """Classify one failed call; see the module docstring for the table."""
    msg = f"Salesforce {failure.operation} failed: {failure.summary() or 'no detail'}"
    kw: dict[str, Any] = {"crm": CRM, "operation": failure.operation, "status": failure.status}
    status = failure.status
    codes = codes_of(failure.errors)
    if status is None:
        return TransientError(msg + " (the request may be retried)", **kw)
    if is_session_error(failure):
        return AuthError(
            msg + ". The session was refreshed once and is still refused: check "
            "SALESFORCE_ACCESS_TOKEN or the OAuth variables (SALESFORCE_CLIENT_ID, ...)",
            **kw,
        )
    if "REQUEST_LIMIT_EXCEEDED" in codes:
        text = " ".join(str(e.get("message", "")) for e in failure.errors).lower()
        if any(marker in text for marker in _CONCURRENT_MARKERS):
            return RateLimited(msg + " (too many concurrent long requests; retrying)", **kw)
        return QuotaExhausted(
            msg + ". The org's daily API allocation is spent; the run stops and resumes later",
            **kw,
        )
    if is_lock_error(failure.errors) or status >= 500:
        return TransientError(msg, **kw)
    if status in (414, 431):
        return PermanentError(msg + " (request too long; report this as a bug)", **kw)
    return PermanentError(msg, **kw)


def record_rejection(record_id: str, errors: Sequence[Mapping[str, Any]]) -> RecordRejection:
    """A per-record SaveResult/Bulk failure as a rejection carrying the ``statusCode``."""
    if not errors:
        return RecordRejection(record_id, "Salesforce rejected the record without a reason")
    first = errors[0]
    code = str(first.get("statusCode") or first.get("errorCode") or "")
    fields = ", ".join(str(f) for f in first.get("fields") or ())
    where = f" (fields: {fields})" if fields else ""
    reason = redact(f"{code}: {first.get('message', '')}{where}")[:_MAX_MESSAGE]
    return RecordRejection(record_id, reason, code)
