"""Salesforce's error shapes, in one place so every endpoint answers alike.

Why two renderings of one error: REST answers a JSON *array* keyed ``errorCode``, while
SaveResults (sObject Collections, Bulk results) key the same information ``statusCode``
(facts §5 "Error body shape", Gotcha 5). An :class:`SfError` carries the neutral parts and
renders either shape.
"""

from __future__ import annotations

from typing import Any

from crm_sync.sandbox.http import HttpError, Response

__all__ = ["SfError", "error_response"]


class SfError(Exception):
    """A refusal the real API would give: HTTP status, error code, message and field names."""

    def __init__(
        self, code: str, message: str, *, status: int = 400, fields: list[str] | None = None
    ) -> None:
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or []
        super().__init__(f"{code}: {message}")

    def rest_body(self) -> list[dict[str, Any]]:
        """``[{"message", "errorCode", "fields"?}]``: the REST error array (facts §5)."""
        entry: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields:
            entry["fields"] = list(self.fields)
        return [entry]

    def save_error(self) -> dict[str, Any]:
        """``{"statusCode", "message", "fields"}``: one element of a SaveResult's ``errors``."""
        return {"statusCode": self.code, "message": self.message, "fields": list(self.fields)}

    def bulk_error(self) -> str:
        """The ``sf__Error`` cell of a Bulk API 2.0 failed-results row: ``CODE:message:fields --``."""
        return f"{self.code}:{self.message}:{','.join(self.fields)} --"

    def response(self) -> Response:
        """This error as an HTTP response."""
        return Response.json(self.status, self.rest_body())

    def http(self) -> HttpError:
        """This error wrapped for the router (raise it from a handler)."""
        return HttpError(self.response())


def error_response(status: int, code: str, message: str) -> Response:
    """Shortcut for a one-element REST error array."""
    return SfError(code, message, status=status).response()
