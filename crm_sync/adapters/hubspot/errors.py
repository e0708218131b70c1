"""One function from a HubSpot failure to :mod:`crm_sync.errors`, grouped by what the engine does.

HubSpot's generated sub-packages raise their *own* ``ApiException`` classes with no shared base
(facts §1.4, Gotcha 12), ``client.api_request`` never raises at all (facts §1.3), and transport
failures surface as raw urllib3/requests exceptions. So :func:`translate` duck-types on
``status``/``body``/``headers`` and never imports the SDK. The mapping:

* 429 with ``policyName`` ``DAILY`` → :class:`~crm_sync.errors.QuotaExhausted` (never retried:
  retrying burns the rest of the day, Gotcha 3); any other 429 (``TEN_SECONDLY_ROLLING``,
  ``SECONDLY`` for search) → :class:`~crm_sync.errors.RateLimited` with ``Retry-After``;
* 5xx, status 0 (SSL), timeouts and dropped connections → :class:`~crm_sync.errors.TransientError`;
* 401/403 → :class:`~crm_sync.errors.AuthError` (the client refreshes an OAuth token once first);
* any other 4xx (400 validation, 404, 409 conflict) → :class:`~crm_sync.errors.PermanentError`.

Messages keep HubSpot's ``category`` and ``message`` (facts §2.5: every field optional) and the
``correlationId`` as ``request_id``; everything is redacted by :class:`AdapterError` itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from crm_sync.errors import (
    AdapterError,
    AuthError,
    PermanentError,
    QuotaExhausted,
    RateLimited,
    TransientError,
)

__all__ = ["error_json", "translate", "translate_status"]

_TRANSPORT_NAMES = (
    "MaxRetryError",
    "NewConnectionError",
    "ProtocolError",
    "ReadTimeoutError",
    "ConnectTimeoutError",
    "TimeoutError",
    "ConnectionError",
    "ConnectionResetError",
    "RemoteDisconnected",
    "Timeout",
    "ReadTimeout",
    "ConnectTimeout",
    "ChunkedEncodingError",
)


def error_json(body: Any) -> dict[str, Any]:
    """The JSON object of an error body (bytes, text or already parsed); ``{}`` if it is not one."""
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            body = json.loads(body) if body else {}
        except ValueError:
            return {"message": body[:500]}
    return body if isinstance(body, dict) else {}


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    raw = headers.get("Retry-After") if headers is not None else None
    try:
        return float(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


def translate_status(
    status: int,
    body: Any,
    headers: Mapping[str, str] | None,
    *,
    operation: str,
) -> AdapterError:
    """Classify one non-2xx HubSpot answer (see the module docstring for the table)."""
    data = error_json(body)
    category = str(data.get("category") or data.get("errorType") or "")
    message = str(data.get("message") or f"HTTP {status}")
    request_id = data.get("correlationId") or data.get("requestId")
    kwargs: dict[str, Any] = {
        "crm": "hubspot",
        "operation": operation,
        "status": status,
        "request_id": str(request_id) if request_id else None,
    }
    text = f"HubSpot {operation} answered {status} {category}: {message}".replace("  ", " ")
    if status == 429:
        policy = str(data.get("policyName") or "")
        if policy.upper() == "DAILY":
            return QuotaExhausted(
                f"{text} The portal's daily API quota is spent (shared by every app); the run "
                "stops here with its state saved and resumes after the daily reset.",
                **kwargs,
            )
        wait = _retry_after(headers)
        return RateLimited(f"{text} ({policy or 'rate limit'})", retry_after=wait or 1.0, **kwargs)
    if status >= 500 or status == 0:
        return TransientError(text, retry_after=_retry_after(headers), **kwargs)
    if status in (401, 403):
        hint = (
            " Check HUBSPOT_ACCESS_TOKEN (or the OAuth variables) and the app's scopes."
            if status == 401
            else " The token lacks a scope this call needs; add it to the private app."
        )
        return AuthError(text + hint, **kwargs)
    return PermanentError(text, **kwargs)


def translate(exc_or_response: Any, *, operation: str = "") -> AdapterError:
    """Any SDK exception, transport exception or non-2xx response → the crm_sync error to raise.

    ``ApiException`` (any sub-package: duck-typed on ``status``/``body``/``headers``), a
    ``requests.Response`` (``status_code``/``content``), or a urllib3/requests transport error.
    """
    obj = exc_or_response
    if isinstance(obj, AdapterError):
        return obj
    status = getattr(obj, "status", None)
    if status is None:
        status = getattr(obj, "status_code", None)
    if isinstance(status, int) and status > 0:
        body = getattr(obj, "body", None)
        if body is None:
            body = getattr(obj, "content", None)
        return translate_status(status, body, getattr(obj, "headers", None), operation=operation)
    name = type(obj).__name__
    if status == 0 or name in _TRANSPORT_NAMES or isinstance(obj, OSError | TimeoutError):
        return TransientError(
            f"HubSpot {operation} failed in transport ({name}): {obj}; will retry",
            crm="hubspot",
            operation=operation,
        )
    return PermanentError(
        f"HubSpot {operation} failed unexpectedly ({name}): {obj}",
        crm="hubspot",
        operation=operation,
    )
