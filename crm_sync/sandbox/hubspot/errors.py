"""HubSpot-shaped error bodies, in one place so every route answers the same way.

Shapes follow hubspot-facts.md §2.5 (spec ``Error``: ``status``, ``message``, ``correlationId``,
``category``, optional ``context``/``errors``/``links``/``subCategory``), §2.4 for the
``StandardError`` items inside 207 answers (always with ``links``/``errors``/``context`` so the
generated models stay happy, Gotcha 14) and §3.5 for the JSON embedded in property-validation
messages (Gotcha 5).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from crm_sync.sandbox.http import HttpError, Response

__all__ = [
    "PORTAL_ID",
    "batch_too_large",
    "error_body",
    "fail",
    "not_found",
    "property_error",
    "property_validation_error",
    "standard_error",
    "validation_error",
]

PORTAL_ID = 1_234_567  # the sandbox portal's hub id, echoed where HubSpot echoes portalId


def error_body(
    category: str,
    message: str,
    *,
    context: Mapping[str, Sequence[str]] | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    sub_category: str | None = None,
) -> dict[str, Any]:
    """A top-level HubSpot error object (facts §2.5)."""
    body: dict[str, Any] = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
    }
    if sub_category is not None:
        body["subCategory"] = sub_category
    if context:
        body["context"] = {k: list(v) for k, v in context.items()}
    if errors:
        body["errors"] = [dict(e) for e in errors]
    return body


def fail(status: int, category: str, message: str, **kwargs: Any) -> HttpError:
    """Build an :class:`HttpError` carrying a HubSpot error body, for routes to raise."""
    return HttpError(Response.json(status, error_body(category, message, **kwargs)))


def validation_error(message: str, **kwargs: Any) -> HttpError:
    """A 400 ``VALIDATION_ERROR``."""
    return fail(400, "VALIDATION_ERROR", message, **kwargs)


def not_found(message: str = "resource not found") -> HttpError:
    """A 404 ``OBJECT_NOT_FOUND``."""
    return fail(404, "OBJECT_NOT_FOUND", message)


def batch_too_large(size: int, limit: int = 100) -> HttpError:
    """Batch inputs over the documented limit (facts §2.2: 100; 1,000 for associations read).

    The wording is the sandbox's own ([UNVERIFIED] exact real text); the status and category are
    what a client must branch on.
    """
    return validation_error(
        f"Batch input size {size} exceeds the maximum of {limit} inputs per request.",
        errors=[{"message": f"size must be between 1 and {limit}", "in": "inputs"}],
    )


def property_error(name: str, code: str, message: str) -> dict[str, Any]:
    """One item of the JSON list embedded in a property-validation message (facts §3.5)."""
    return {
        "isValid": False,
        "message": message,
        "error": code,
        "name": name,
        "localizedErrorMessage": message,
        "portalId": PORTAL_ID,
    }


def property_validation_error(items: Sequence[Mapping[str, Any]]) -> HttpError:
    """Whole-request 400 ``Property values were not valid: [...]`` (facts §3.5, Gotcha 5)."""
    embedded = json.dumps(list(items), separators=(",", ":"))
    return validation_error(f"Property values were not valid: {embedded}")


def standard_error(
    category: str,
    message: str,
    *,
    context: Mapping[str, Sequence[str]] | None = None,
    sub_category: str | None = None,
) -> dict[str, Any]:
    """One ``StandardError`` item of a 207 ``errors`` list (facts §2.4)."""
    item: dict[str, Any] = {
        "status": "error",
        "category": category,
        "message": message,
        "context": {k: list(v) for k, v in (context or {}).items()},
        "errors": [],
        "links": {},
    }
    if sub_category is not None:
        item["subCategory"] = sub_category
    return item
