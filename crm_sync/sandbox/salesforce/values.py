"""Field values: JSON in, typed Python in the org, JSON out, with the real validation errors.

Why strict: the sandbox must refuse what a real org refuses (issue #3), so a date written as
``"01/02/2024"``, a 300-character Title or an unknown tag on a restricted multi-select picklist
fails here exactly as it would in production (facts §3.4, Gotcha 9).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from crm_sync.sandbox.salesforce.errors import SfError
from crm_sync.sandbox.salesforce.schema import TEXT_TYPES, FieldDef

__all__ = [
    "coerce",
    "format_datetime",
    "parse_date",
    "parse_datetime",
    "render",
]

_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_datetime(text: str) -> dt.datetime | None:
    """An ISO-8601 datetime with an explicit zone (SOQL and REST both demand one), in UTC."""
    m = _DATETIME.match(text)
    if m is None:
        return None
    y, mo, d, h, mi, s, frac, zone = m.groups()
    if zone == "Z":
        tz = dt.UTC
    else:
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        tz = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    micro = int((frac or "0").ljust(6, "0")[:6])
    try:
        value = dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro, tzinfo=tz)
    except ValueError:
        return None
    return value.astimezone(dt.UTC)


def parse_date(text: str) -> dt.date | None:
    """``YYYY-MM-DD`` or ``None``."""
    if not _DATE.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def format_datetime(value: dt.datetime) -> str:
    """How the REST API writes datetimes: millisecond precision, ``+0000`` offset."""
    utc = value.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def render(f: FieldDef, value: Any) -> Any:
    """The JSON form of a stored value."""
    if value is None:
        return None
    if f.type == "datetime":
        return format_datetime(value)
    if f.type == "date":
        return value.isoformat()
    return value


def _parser_error(f: FieldDef, kind: str, value: Any) -> SfError:
    # The real JSON deserializer's wording (it names the Java type and the JSON token).
    token = "VALUE_STRING" if isinstance(value, str) else "VALUE_NUMBER_INT"
    if isinstance(value, bool):
        token = "VALUE_TRUE" if value else "VALUE_FALSE"
    return SfError(
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {kind} from {token} value {value} or request may be "
        f"missing a required field",
    )


def _text(f: FieldDef, value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float, str)):
        text = str(value)
    else:
        raise _parser_error(f, "string", value)
    return text


def _check_picklist(f: FieldDef, text: str) -> str:
    values = list(text.split(";")) if f.type == "multipicklist" else [text]
    if f.restricted:
        allowed = set(f.picklist)
        for v in values:
            if v not in allowed:
                # facts §3.4: one unknown value fails the whole record.
                raise SfError(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{f.label}: bad value for restricted picklist field: {v}",
                    fields=[f.name],
                )
    return text


def coerce(f: FieldDef, value: Any) -> Any:
    """Validate and convert one JSON value for ``f``; raise the org's error when it would."""
    if value is None:
        return None
    t = f.type
    if t in TEXT_TYPES or t in ("id", "reference"):
        text = _text(f, value)
        if t in ("picklist", "multipicklist"):
            return _check_picklist(f, text) if text else None
        if text == "":
            return None  # an empty string stores null, as the API does
        if f.length and len(text) > f.length:
            raise SfError(
                "STRING_TOO_LONG",
                f"{f.label}: data value too large: {text[:50]} (max length={f.length})",
                fields=[f.name],
            )
        if t == "email" and not _EMAIL.match(text):
            raise SfError(
                "INVALID_EMAIL_ADDRESS",
                f"{f.label}: invalid email address: {text}",
                fields=[f.name],
            )
        return text
    if t == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _parser_error(f, "boolean", value)
    if t in ("double", "currency", "percent", "int"):
        if isinstance(value, bool):
            raise _parser_error(f, "double", value)
        try:
            number = float(value) if not isinstance(value, (int, float)) else value
        except ValueError:
            raise _parser_error(f, "double", value) from None
        if t == "int":
            if float(number) != int(number):
                raise _parser_error(f, "int", value)
            return int(number)
        return float(number)
    if t == "date":
        parsed = parse_date(value) if isinstance(value, str) else None
        if parsed is None:
            raise _parser_error(f, "date", value)
        return parsed
    if t == "datetime":
        moment = parse_datetime(value) if isinstance(value, str) else None
        if moment is None:
            raise _parser_error(f, "datetime", value)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    raise _parser_error(f, t, value)
