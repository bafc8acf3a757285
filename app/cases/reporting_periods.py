"""Reporting quarters: the data periods of the inspection sector's periodic reports.

Thông tư 01/2024/TT-TTCP (Thanh tra Chính phủ, 20/01/2024: "Quy định chế độ báo cáo
công tác thanh tra, tiếp công dân, giải quyết khiếu nại, tố cáo và phòng, chống tham
nhũng, tiêu cực", which replaced Thông tư 02/2021/TT-TTCP) closes the figures of a
quarterly report on the 14th of the quarter's last month: quarter I runs from 15
December of the previous year to 14 March, quarters II-IV from the 15th of the previous
quarter's last month to the 14th of the quarter's last month (the "thời gian chốt số
liệu" of its periodic reports; docs/legal.md §9). The quarterly report
(``flask report``) and the public statistics page both use these periods, so the two
show the same figures for "quý IV/2026".

A quarter is *completed* once its last day has passed in the installation's local
calendar (app.clock): the public page publishes completed quarters only, so nothing of
the running quarter - a report that arrived this week - can show on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# The last day of a quarter's data period, in the quarter's last month (Thông tư
# 01/2024/TT-TTCP; the 2013 circular used the 15th). A named constant so that a new
# circular changes one line.
PERIOD_LAST_DAY = 14
QUARTERS = (1, 2, 3, 4)
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


class PeriodError(ValueError):
    """A year or quarter number outside what a report can be made for."""


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @property
    def first_day(self) -> date:
        # The day after the previous quarter's last day.
        return self.previous().last_day + timedelta(days=1)

    @property
    def last_day(self) -> date:
        return date(self.year, 3 * self.number, PERIOD_LAST_DAY)

    def previous(self) -> Quarter:
        if self.number == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.number - 1)

    def following(self) -> Quarter:
        if self.number == 4:
            return Quarter(self.year + 1, 1)
        return Quarter(self.year, self.number + 1)

    @property
    def key(self) -> str:
        """``2026-Q4``: for the CSV and element ids."""
        return f"{self.year}-Q{self.number}"

    @property
    def label_vi(self) -> str:
        return f"Quý {ROMAN[self.number]}/{self.year}"

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


def quarter(year: int, number: int) -> Quarter:
    """The reporting quarter ``number`` of ``year``; :class:`PeriodError` if out of range."""
    if number not in QUARTERS:
        raise PeriodError("the quarter is 1, 2, 3 or 4")
    if not 2000 <= year <= 2100:
        raise PeriodError("the year must be between 2000 and 2100")
    return Quarter(year, number)


def quarter_of(day: date) -> Quarter:
    """The reporting quarter whose data period contains ``day``."""
    candidate = Quarter(day.year, (day.month - 1) // 3 + 1)
    if day > candidate.last_day:
        return candidate.following()
    return candidate


def completed_quarters(today: date, count: int) -> list[Quarter]:
    """The ``count`` latest quarters whose last day is before ``today``, oldest first.
    The quarter containing ``today`` is never among them."""
    latest = quarter_of(today).previous()
    found = [latest]
    while len(found) < count:
        found.append(found[-1].previous())
    return sorted(found)


def is_completed(period: Quarter, today: date) -> bool:
    return period.last_day < today
