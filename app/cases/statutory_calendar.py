"""The calendar and periods the statutory clocks count with, built once per process:
Vietnam's working days with the shipped overrides (config/holidays.toml) and the
denunciation periods of config/legal_periods.toml (their citations are there).

Its own small module so that the rules that only count (app.cases.deadlines, the
statistics) reach the clocks without importing the statutory actions, which hold keys
(app.cases.legal_process)."""

from __future__ import annotations

from functools import cache

from app.cases import legal_periods
from app.cases.legal_periods import DenunciationPeriods
from app.cases.workdays import SHIPPED_OVERRIDES, WorkCalendar, load_overrides


@cache
def work_calendar() -> WorkCalendar:
    """Vietnam's working days with the shipped overrides (config/holidays.toml)."""
    return WorkCalendar(load_overrides(SHIPPED_OVERRIDES))


@cache
def denunciation_periods() -> DenunciationPeriods:
    """The periods of config/legal_periods.toml, with their citations there."""
    return legal_periods.load_legal_periods().denunciation
