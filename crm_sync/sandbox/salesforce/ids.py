"""Salesforce record ids: 15-character case-sensitive bodies plus the 3-character checksum.

Why real ids: adapters tell object types apart by key prefix (``003`` Contact, ``00Q`` Lead —
how ``WhoId`` is resolved), accept both 15- and 18-character forms, and must survive the
case-insensitive 18-character form. Fake ids like ``"c1"`` would hide those bugs.
"""

from __future__ import annotations

import re
import threading

__all__ = ["IdFactory", "normalize_id", "to18"]

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_SHAPE = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$")


def to18(id15: str) -> str:
    """Append the checksum that makes the id unique case-insensitively."""
    out = []
    for start in (0, 5, 10):
        flags = 0
        for bit, char in enumerate(id15[start : start + 5]):
            if "A" <= char <= "Z":
                flags |= 1 << bit
        out.append(_SUFFIX[flags])
    return id15 + "".join(out)


def normalize_id(text: str) -> str | None:
    """The 18-character form of a 15- or 18-character id, or ``None`` if it is not id-shaped."""
    if not _ID_SHAPE.match(text):
        return None
    full = to18(text[:15])
    if len(text) == 18 and full.upper() != text.upper():
        return None
    return full


def _base62(n: int, width: int) -> str:
    chars = []
    while n:
        n, rem = divmod(n, 62)
        chars.append(_ALNUM[rem])
    return "".join(reversed(chars)).rjust(width, "0")


class IdFactory:
    """Sequential ids per org: ``prefix + '5g0' + counter`` then the checksum; thread-safe."""

    def __init__(self, pod: str = "5g0") -> None:
        self._pod = pod
        self._next = 1000
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        """A fresh 18-character id with ``prefix``."""
        with self._lock:
            self._next += 1
            n = self._next
        return to18(prefix + self._pod + _base62(n * 7919, 9))

    def new15(self, prefix: str) -> str:
        """A fresh 15-character id (query locators and job ids use that form)."""
        return self.new(prefix)[:15]
