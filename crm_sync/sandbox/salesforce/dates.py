"""SOQL date keywords (``TODAY``, ``LAST_N_DAYS:7`` ...) as half-open UTC ranges.

Why ranges: a keyword names a span, and SOQL compares against it by position — ``= TODAY``
means inside it, ``> TODAY`` after its end, ``< TODAY`` before its start. The integration user's
time zone is GMT here, so spans start at UTC midnight; weeks start on Sunday (en_US locale).
"""

from __future__ import annotations

import datetime as dt

__all__ = ["date_range"]

_FIXED_DAYS = {"YESTERDAY": (-1, 0), "TODAY": (0, 1), "TOMORROW": (1, 2)}


def _month_start(day: dt.date, shift: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + shift
    return dt.date(index // 12, index % 12 + 1, 1)


def _quarter_start(day: dt.date, shift: int) -> dt.date:
    first = dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return _month_start(first, shift * 3)


def date_range(name: str, n: int | None, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """``[start, end)`` in days for keyword ``name`` (with ``n`` for the ``_N_`` forms), or ``None``."""
    if name in _FIXED_DAYS and n is None:
        a, b = _FIXED_DAYS[name]
        return today + dt.timedelta(days=a), today + dt.timedelta(days=b)
    week = today - dt.timedelta(days=(today.weekday() + 1) % 7)  # Sunday
    month = _month_start(today, 0)
    quarter = _quarter_start(today, 0)
    year = dt.date(today.year, 1, 1)
    simple: dict[str, tuple[dt.date, dt.date]] = {
        "LAST_WEEK": (week - dt.timedelta(days=7), week),
        "THIS_WEEK": (week, week + dt.timedelta(days=7)),
        "NEXT_WEEK": (week + dt.timedelta(days=7), week + dt.timedelta(days=14)),
        "LAST_MONTH": (_month_start(today, -1), month),
        "THIS_MONTH": (month, _month_start(today, 1)),
        "NEXT_MONTH": (_month_start(today, 1), _month_start(today, 2)),
        "LAST_QUARTER": (_quarter_start(today, -1), quarter),
        "THIS_QUARTER": (quarter, _quarter_start(today, 1)),
        "NEXT_QUARTER": (_quarter_start(today, 1), _quarter_start(today, 2)),
        "LAST_YEAR": (dt.date(today.year - 1, 1, 1), year),
        "THIS_YEAR": (year, dt.date(today.year + 1, 1, 1)),
        "NEXT_YEAR": (dt.date(today.year + 1, 1, 1), dt.date(today.year + 2, 1, 1)),
        "LAST_90_DAYS": (today - dt.timedelta(days=90), today + dt.timedelta(days=1)),
        "NEXT_90_DAYS": (today + dt.timedelta(days=1), today + dt.timedelta(days=91)),
    }
    if name in simple and n is None:
        return simple[name]
    if n is None or n < 0:
        return None
    tomorrow = today + dt.timedelta(days=1)
    days = dt.timedelta(days=n)
    weeks = dt.timedelta(days=7 * n)
    ranged: dict[str, tuple[dt.date, dt.date]] = {
        "LAST_N_DAYS": (today - days, tomorrow),
        "NEXT_N_DAYS": (tomorrow, tomorrow + days),
        "N_DAYS_AGO": (today - days, today - days + dt.timedelta(days=1)),
        "LAST_N_WEEKS": (week - weeks, week),
        "NEXT_N_WEEKS": (week + dt.timedelta(days=7), week + dt.timedelta(days=7) + weeks),
        "N_WEEKS_AGO": (week - weeks, week - weeks + dt.timedelta(days=7)),
        "LAST_N_MONTHS": (_month_start(today, -n), month),
        "NEXT_N_MONTHS": (_month_start(today, 1), _month_start(today, 1 + n)),
        "N_MONTHS_AGO": (_month_start(today, -n), _month_start(today, 1 - n)),
        "LAST_N_YEARS": (dt.date(today.year - n, 1, 1), year),
        "NEXT_N_YEARS": (dt.date(today.year + 1, 1, 1), dt.date(today.year + 1 + n, 1, 1)),
        "N_YEARS_AGO": (dt.date(today.year - n, 1, 1), dt.date(today.year - n + 1, 1, 1)),
    }
    return ranged.get(name)
