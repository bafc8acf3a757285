"""Vietnam's working days, and the two ways the law counts a period on them.

The base layer is the ``holidays`` package's Vietnam calendar, which follows the Labour
Code 2019 (Bộ luật Lao động 45/2019/QH14) art. 112: Tết Dương lịch, five days of Tết Âm
lịch, Giỗ Tổ Hùng Vương (10/3 lunar), 30/4, 1/5 and Quốc khánh with its adjacent day,
plus the days off in lieu (art. 111(3)) and the swaps it knows. Each year the Prime
Minister also moves days off for public employees (art. 112(3)): the days the package
does not know yet come from a small file of overrides (``config/holidays.toml``, setting
``LIEMCHINH_HOLIDAYS_FILE``) - extra days off and make-up working Saturdays. With no
overrides the calendar is exactly the package's.

Counting, as the statutes say (citations beside each function):

- a period in **working days** (ngày làm việc: Luật Tố cáo 2018 arts. 24, 29, 35) skips
  weekends and holidays; the day of the event is not counted (Civil Code 2015 art. 147);
- a period in **days** (ngày: Luật Tố cáo art. 30) counts every calendar day from the day
  after the event, and when its last day is a rest day it ends on the next working day
  (Civil Code 2015, Bộ luật Dân sự 91/2015/QH13, art. 148).

Pure: no database, no Flask. Legal sources: docs/legal.md.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import holidays

COUNTRY = "VN"
# The overrides shipped with the code (the announcements known when it was released).
SHIPPED_OVERRIDES = Path(__file__).resolve().parents[2] / "config" / "holidays.toml"
# A period never needs to look further than this for the next working day (the longest
# run of days off in Vietnam's calendar is Tết: nine days with the weekends).
_MAX_RUN_OF_DAYS_OFF = 31


class CalendarFileError(ValueError):
    """The overrides file cannot be read; the message names the file and the entry."""


@dataclass(frozen=True)
class DayChange:
    day: date
    reason: str


@dataclass(frozen=True)
class CalendarOverrides:
    """Announced changes the package does not know: days off and make-up working days."""

    days_off: tuple[DayChange, ...] = ()
    working_days: tuple[DayChange, ...] = ()

    def __post_init__(self) -> None:
        both = {c.day for c in self.days_off} & {c.day for c in self.working_days}
        if both:
            listed = ", ".join(sorted(d.isoformat() for d in both))
            raise CalendarFileError(f"a day cannot be both off and a working day: {listed}")


def _changes(path: Path, entries: object, key: str) -> tuple[DayChange, ...]:
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise CalendarFileError(f"{path}: '{key}' must be a list of tables")
    changes = []
    for index, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("date"), date):
            raise CalendarFileError(f"{path}: {key} #{index} needs a date = YYYY-MM-DD")
        reason = entry.get("reason", "")
        if not isinstance(reason, str):
            raise CalendarFileError(f"{path}: {key} #{index}: reason must be text")
        changes.append(DayChange(entry["date"], reason))
    return tuple(changes)


def load_overrides(path: Path | None) -> CalendarOverrides:
    """Read ``[[day_off]]`` and ``[[working_day]]`` tables (``date``, ``reason``) from a
    TOML file; no file means no overrides."""
    if path is None:
        return CalendarOverrides()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CalendarFileError(f"{path}: {exc}") from None
    unknown = set(data) - {"day_off", "working_day"}
    if unknown:
        raise CalendarFileError(f"{path}: unknown keys {', '.join(sorted(unknown))}")
    return CalendarOverrides(
        _changes(path, data.get("day_off"), "day_off"),
        _changes(path, data.get("working_day"), "working_day"),
    )


@cache
def _vietnam(year: int) -> holidays.HolidayBase:
    # One year's calendar from the package, built once per process (it is pure data).
    return holidays.country_holidays(COUNTRY, years=year)


@dataclass(frozen=True)
class WorkCalendar:
    """Working days in Vietnam for public employees: the package's calendar plus the
    installation's announced overrides."""

    overrides: CalendarOverrides = field(default_factory=CalendarOverrides)
    _off: frozenset[date] = field(init=False, repr=False, compare=False)
    _on: frozenset[date] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_off", frozenset(c.day for c in self.overrides.days_off))
        object.__setattr__(self, "_on", frozenset(c.day for c in self.overrides.working_days))

    def is_working_day(self, day: date) -> bool:
        if day in self._on:
            return True
        if day in self._off:
            return False
        # The package knows weekends, holidays, days in lieu and the swaps it has been
        # told of (e.g. Saturday 22/08/2026 worked for Monday 31/08/2026).
        return bool(_vietnam(day.year).is_working_day(day))

    def holiday_name(self, day: date) -> str | None:
        """Why ``day`` is off, if it is a holiday or an announced day off."""
        for change in self.overrides.days_off:
            if change.day == day:
                return change.reason or "day off"
        name = _vietnam(day.year).get(day)
        return str(name) if name else None

    def next_working_day(self, day: date) -> date:
        """``day`` itself if it is a working day, else the first working day after it."""
        for offset in range(_MAX_RUN_OF_DAYS_OFF + 1):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise CalendarFileError(f"no working day within a month of {day.isoformat()}")

    def add_working_days(self, event: date, count: int) -> date:
        """The last day of a period of ``count`` working days after ``event``.

        The event's own day is not counted (Civil Code 2015 art. 147(1)); the count runs
        over working days only (Luật Tố cáo 2018 arts. 24, 29, 35: "ngày làm việc").
        """
        if count < 0:
            raise ValueError("a period cannot be negative")
        day = event
        remaining = count
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def add_days(self, event: date, count: int) -> date:
        """The last day of a period of ``count`` calendar days after ``event``.

        Counting starts the day after the event (Civil Code 2015 art. 147(1)); if the last
        day is a weekly rest day or a holiday, the period ends on the next working day
        (art. 148(5)). Luật Tố cáo 2018 art. 30 counts its resolution periods this way.
        """
        if count < 0:
            raise ValueError("a period cannot be negative")
        return self.next_working_day(event + timedelta(days=count))

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
        days = (end - start).days
        return sum(
            1 for offset in range(1, days + 1) if self.is_working_day(start + timedelta(offset))
        )
