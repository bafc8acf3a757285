"""Working days and legal periods, checked against the `holidays` package's calendar."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.cases.workdays import (
    CalendarFileError,
    CalendarOverrides,
    DayChange,
    WorkCalendar,
    load_overrides,
)

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "holidays.toml"
PLAIN = WorkCalendar()
SHIPPED_CALENDAR = WorkCalendar(load_overrides(SHIPPED))
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
PACKAGE = holidays.country_holidays("VN", years=range(2023, 2030))


def test_without_overrides_the_calendar_is_the_packages() -> None:
    package = PACKAGE
    day = date(2024, 1, 1)
    while day <= date(2028, 12, 31):
        assert PLAIN.is_working_day(day) == package.is_working_day(day), day
        day += timedelta(days=1)


def test_the_shipped_overrides_change_only_their_own_days() -> None:
    changed = {c.day for c in SHIPPED_CALENDAR.overrides.days_off} | {
        c.day for c in SHIPPED_CALENDAR.overrides.working_days
    }
    assert changed  # positive control: the file does say something
    day = date(2026, 1, 1)
    while day <= date(2026, 12, 31):
        if day not in changed:
            assert SHIPPED_CALENDAR.is_working_day(day) == PLAIN.is_working_day(day), day
        day += timedelta(days=1)
    assert not SHIPPED_CALENDAR.is_working_day(date(2026, 1, 2))  # Friday off
    assert SHIPPED_CALENDAR.is_working_day(date(2026, 1, 10))  # Saturday worked
    assert PLAIN.is_working_day(date(2026, 1, 2)) and not PLAIN.is_working_day(date(2026, 1, 10))


def test_seven_working_days_across_tet() -> None:
    # Received Thursday 12/02/2026; Tết Bính Ngọ: 16-20/02 off, with the weekends around.
    assert PLAIN.add_working_days(date(2026, 2, 12), 7) == date(2026, 3, 2)
    assert [d for d in range(14, 23) if PLAIN.is_working_day(date(2026, 2, d))] == []


def test_seven_working_days_across_the_year_end() -> None:
    # Received Monday 28/12/2026: 29, 30, 31 Dec, (1 Jan 2027 Tết Dương lịch), 4-7 Jan.
    assert PLAIN.add_working_days(date(2026, 12, 28), 7) == date(2027, 1, 7)


def test_the_day_of_the_event_is_not_counted() -> None:
    monday = date(2026, 3, 9)
    assert PLAIN.add_working_days(monday, 1) == date(2026, 3, 10)
    assert PLAIN.add_working_days(date(2026, 3, 13), 1) == date(2026, 3, 16)  # Fri -> Mon
    assert PLAIN.add_days(monday, 0) == monday


def test_a_period_in_days_ending_on_a_rest_day_ends_on_the_next_working_day() -> None:
    # Civil Code art. 148: 30 days after 02/08/2026 is Tue 01/09 (Quốc khánh); 31/08-02/09
    # are off, so the period ends on Thursday 03/09/2026.
    assert PLAIN.add_days(date(2026, 8, 2), 30) == date(2026, 9, 3)
    # Ending on a Sunday moves to Monday.
    assert PLAIN.add_days(date(2026, 2, 28), 29) == date(2026, 3, 30)
    # Ending on a working day stays.
    assert PLAIN.add_days(date(2026, 3, 2), 30) == date(2026, 4, 1)


def test_a_worked_saturday_counts() -> None:
    assert SHIPPED_CALENDAR.add_working_days(date(2026, 1, 9), 1) == date(2026, 1, 10)
    assert PLAIN.add_working_days(date(2026, 1, 9), 1) == date(2026, 1, 12)
    # The package's own swap: Saturday 22/08/2026 is worked for Monday 31/08/2026.
    assert PLAIN.is_working_day(date(2026, 8, 22))


@given(days, st.integers(min_value=0, max_value=40))
def test_working_day_periods_agree_with_the_package(start: date, count: int) -> None:
    package = PACKAGE
    end = PLAIN.add_working_days(start, count)
    between = [start + timedelta(n) for n in range(1, (end - start).days + 1)]
    assert sum(1 for d in between if package.is_working_day(d)) == count
    if count:
        assert package.is_working_day(end)
    assert PLAIN.working_days_between(start, end) == count


@given(days, st.integers(min_value=0, max_value=120))
def test_day_periods_end_on_the_first_working_day_from_their_last_day(
    start: date, count: int
) -> None:
    package = PACKAGE
    end = PLAIN.add_days(start, count)
    last = start + timedelta(days=count)
    assert end >= last and package.is_working_day(end)
    assert all(not package.is_working_day(last + timedelta(n)) for n in range((end - last).days))


def test_holiday_names() -> None:
    assert PLAIN.holiday_name(date(2026, 9, 2))
    assert PLAIN.holiday_name(date(2026, 3, 10)) is None
    assert SHIPPED_CALENDAR.holiday_name(date(2026, 1, 2)).startswith("Nghỉ Tết Dương lịch")


def test_overrides_file_errors_name_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "holidays.toml"
    bad.write_text('[[day_off]]\ndate = "2026-01-02"\n', encoding="utf-8")
    with pytest.raises(CalendarFileError, match="day_off #1 needs a date"):
        load_overrides(bad)
    bad.write_text("[[holiday]]\ndate = 2026-01-02\n", encoding="utf-8")
    with pytest.raises(CalendarFileError, match="unknown keys holiday"):
        load_overrides(bad)
    bad.write_text("[[day_off\n", encoding="utf-8")
    with pytest.raises(CalendarFileError, match=str(bad)):
        load_overrides(bad)
    with pytest.raises(CalendarFileError, match="both off and a working day"):
        CalendarOverrides(
            days_off=(DayChange(date(2026, 1, 3), ""),),
            working_days=(DayChange(date(2026, 1, 3), ""),),
        )
    assert load_overrides(None) == CalendarOverrides()
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    assert load_overrides(empty) == CalendarOverrides()
