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

from datetime import date, datetime

from babel import Locale, UnknownLocaleError
from babel.dates import format_date

from app import clock

VIETNAMESE_PATTERN = "dd/MM/yyyy"
# What a missing day (no deadline yet, a clock paused) shows as.
NO_DAY = "—"


def _locale(locale: str | Locale) -> Locale:
    try:
        return locale if isinstance(locale, Locale) else Locale.parse(locale)
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown locale {locale!r}") from exc


def format_moment(at: datetime | None, locale: str | Locale) -> str:
    """A staff action's instant, in the installation's time zone (app.clock): the
    database keeps UTC, and an inspector in Cần Thơ who wrote a note at 09:42 must not
    read 02:42 beside it. Only staff actions have a time of day: a reporter's carry a
    day (DESIGN.md promise 7), shown with :func:`format_day`. Naive datetimes are a
    programming error (ValueError)."""
    if at is None:
        return NO_DAY
    if at.tzinfo is None:
        raise ValueError("naive datetime given to format_moment")
    local = at.astimezone(clock.zone())
    return f"{format_day(local.date(), _locale(locale))} {local:%H:%M}"


def format_hour(at: datetime, locale: str | Locale) -> str:
    """The local hour and minute of a staff action (the end of a run of repeats)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime given to format_hour")
    return f"{at.astimezone(clock.zone()):%H:%M}"


def format_day(day: date | None, locale: str | Locale) -> str:
    """``day`` for a reader of ``locale`` (a Babel locale or its name, e.g. "vi",
    "en"); :data:`NO_DAY` for None. An unknown locale is a programming error
    (ValueError)."""
    parsed = _locale(locale)
    if day is None:
        return NO_DAY
    if parsed.language == "vi":
        return format_date(day, VIETNAMESE_PATTERN, locale=parsed)
    return format_date(day, "medium", locale=parsed)


# The two ways a day reaches a form: a date input sends yyyy-mm-dd, a person typing by
# hand writes dd/mm/yyyy.
FORM_DAY_PATTERNS = ("%Y-%m-%d", "%d/%m/%Y")


def parse_form_day(value: str) -> date | None:
    """A day typed in a form; empty is None. Raises ValueError for anything else (the
    view turns it into its domain's "bad day" error)."""
    text = value.strip()
    if not text:
        return None
    for pattern in FORM_DAY_PATTERNS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"not a day: {text!r}")
