"""Showing a calendar day to a person: dd/mm/yyyy in Vietnamese, the locale's own
format otherwise.

Vietnamese administrative documents and the issue's screens write days as 12/02/2027
(two-digit day and month, four-digit year); Babel's Vietnamese short format (12/2/27)
is not that, so the pattern is explicit. Other languages get Babel's medium format
("Feb 12, 2027" in English): spelled-out months cannot be misread as 2 December by a
reader used to day-first dates. Only the day is ever shown - deadlines and the days
stored for a report carry no time of day (DESIGN.md promise 7).
"""

from __future__ import annotations

from datetime import date

from babel import Locale, UnknownLocaleError
from babel.dates import format_date

VIETNAMESE_PATTERN = "dd/MM/yyyy"
# What a missing day (no deadline yet, a clock paused) shows as.
NO_DAY = "—"


def format_day(day: date | None, locale: str | Locale) -> str:
    """``day`` for a reader of ``locale`` (a Babel locale or its name, e.g. "vi",
    "en"); :data:`NO_DAY` for None. An unknown locale is a programming error
    (ValueError)."""
    try:
        parsed = locale if isinstance(locale, Locale) else Locale.parse(locale)
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown locale {locale!r}") from exc
    if day is None:
        return NO_DAY
    if parsed.language == "vi":
        return format_date(day, VIETNAMESE_PATTERN, locale=parsed)
    return format_date(day, "medium", locale=parsed)
