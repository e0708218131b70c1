"""crm_sync's exception tree, grouped by what the caller should do.

::

    CrmSyncError
    ├── ConfigError              fix the input files or settings; nothing was sent
    │   ├── ModelFileError       one or more problems in an admin-edited file, each with file:line:col
    │   └── ExprError            a rule expression is malformed or ill-typed (carries a Position)
    │       ├── ExprSyntaxError
    │       └── ExprTypeError
    ├── AdapterError             talking to a CRM failed; carries crm, operation, status, request_id
    │   ├── TransientError       retry with backoff (429 burst, 5xx, timeouts, lock errors)
    │   │   └── RateLimited      carries retry_after seconds
    │   ├── QuotaExhausted       daily quota spent: stop the run cleanly, resume next run; never retried
    │   ├── PermanentError       do not retry (400 validation, 404)
    │   │   └── AuthError        401/403 after one credential refresh
    │   └── RecordRejected       one record failed; collected per record, the run continues
    ├── StateError               the state store is unreadable, or a cursor went backwards
    ├── LockHeld                 another worker holds the lease for this CRM account
    └── RateDeferred             the account's shared API budget has no token soon: requeue later

Every message says what to do next. Messages never include secrets: values are redacted before
formatting (see :func:`redact`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "AdapterError",
    "AuthError",
    "ConfigError",
    "CrmSyncError",
    "ExprError",
    "ExprSyntaxError",
    "ExprTypeError",
    "FileProblem",
    "LockHeld",
    "ModelFileError",
    "PermanentError",
    "Position",
    "QuotaExhausted",
    "RateDeferred",
    "RateLimited",
    "RecordRejected",
    "StateError",
    "TransientError",
    "redact",
]


@dataclass(frozen=True, slots=True)
class Position:
    """A 1-based line and column, optionally inside a named file.

    Rule expressions live inside YAML strings; the loader shifts an expression's positions by
    where the string starts, so every error can point at the admin's file, not at a substring.
    """

    line: int
    col: int
    file: str | None = None

    def __str__(self) -> str:
        prefix = f"{self.file}:" if self.file else ""
        return f"{prefix}{self.line}:{self.col}"


class CrmSyncError(Exception):
    """Root of every error crm_sync raises on purpose."""


class ConfigError(CrmSyncError):
    """The input is wrong; fix the file or setting named in the message. Nothing was sent."""


@dataclass(frozen=True, slots=True)
class FileProblem:
    """One problem found in an admin-edited file, with where it is and what to do."""

    position: Position
    message: str

    def __str__(self) -> str:
        return f"{self.position}: {self.message}"


class ModelFileError(ConfigError):
    """Every problem found while loading files, reported at once so admins fix them in one pass."""

    def __init__(self, problems: list[FileProblem]) -> None:
        self.problems = problems
        lines = "\n".join(str(p) for p in problems)
        super().__init__(f"{len(problems)} problem(s) found:\n{lines}")


class ExprError(ConfigError):
    """A rule expression could not be understood; ``position`` points at the offending token."""

    def __init__(self, message: str, position: Position) -> None:
        self.message = message
        self.position = position
        super().__init__(f"{position}: {message}")

    def shifted(self, base: Position) -> ExprError:
        """Return the same error with its position made relative to ``base`` (a YAML scalar)."""
        line = base.line + self.position.line - 1
        col = base.col + self.position.col - 1 if self.position.line == 1 else self.position.col
        return type(self)(self.message, Position(line, col, base.file))


class ExprSyntaxError(ExprError):
    """The expression text does not parse; the message says what was expected."""


class ExprTypeError(ExprError):
    """The expression parses but names an unknown field or mixes incompatible types."""


class AdapterError(CrmSyncError):
    """A CRM call failed. Carries enough context to find the request in the CRM's own logs."""

    def __init__(
        self,
        message: str,
        *,
        crm: str = "",
        operation: str = "",
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        self.crm = crm
        self.operation = operation
        self.status = status
        self.request_id = request_id
        super().__init__(redact(message))


class TransientError(AdapterError):
    """Worth retrying with backoff: 429 bursts, 5xx, timeouts, dropped connections, row locks."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class RateLimited(TransientError):
    """The CRM asked us to slow down; ``retry_after`` (seconds) is honoured by the retry policy."""


class QuotaExhausted(AdapterError):
    """The daily API allocation is spent. Never retried: the run stops cleanly and resumes later."""


class PermanentError(AdapterError):
    """Retrying cannot help (validation error, missing object). Fix the input or mapping."""


class AuthError(PermanentError):
    """Credentials were refused even after one refresh. Check the token and its scopes."""


class RecordRejected(AdapterError):
    """One record failed; it goes to the dead letters with this reason and the run continues."""

    def __init__(self, message: str, *, record_id: str, **kwargs: object) -> None:
        self.record_id = record_id
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class StateError(CrmSyncError):
    """The state store is unreadable or inconsistent (e.g. a cursor went backwards)."""


class LockHeld(CrmSyncError):
    """Another worker holds the lease for this CRM account; exit cleanly and try next cycle."""

    def __init__(self, account: str, holder: str, expires_at: str) -> None:
        self.account = account
        self.holder = holder
        self.expires_at = expires_at
        super().__init__(
            f"another worker ({holder}) holds the lease for {account} until {expires_at}; "
            "this run exits without pushing. It is safe to try again later."
        )


class RateDeferred(CrmSyncError):
    """The account's shared API budget has no token for ``retry_in`` seconds: yield the worker.

    Raised only at safe points — before a pulled page is fetched, or before a push batch is
    journalled — so nothing is half-done: stored pages, results and confirmed pushes stay, and the
    task is re-queued to resume after ``retry_in``. Sleeping instead would hold a worker slot idle
    while other accounts' work waits (DESIGN §11).
    """

    def __init__(self, account: str, retry_in: float) -> None:
        self.account = account
        self.retry_in = retry_in
        super().__init__(
            f"the shared API budget of {account} has no token for {retry_in:.2f} s; the task "
            "yields its worker and resumes then. Nothing was sent."
        )


_SECRET_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=!-]+"),
    re.compile(
        r"(?i)((?:access|refresh)_token|client_secret|password|session_?id|hapikey)([\"'=:\s]+)[^\s\"'&,;]+"
    ),
    re.compile(r"pat-(?:na|eu)\d-[0-9a-f-]{20,}"),
    re.compile(r"00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]+"),
]


def redact(text: str) -> str:
    """Mask tokens, client secrets and session ids so they never reach logs or error messages."""
    for pattern in _SECRET_PATTERNS:
        if pattern.groups == 0:
            text = pattern.sub("***", text)
        elif pattern.groups == 1:
            text = pattern.sub(r"\1***", text)
        else:
            text = pattern.sub(r"\1\2***", text)
    return text
