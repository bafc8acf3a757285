"""``deadlines``: the statutory dates of a named denunciation, so an inspector can check
a date by hand (issue 13 §3).

Prints one ``NAME YYYY-MM-DD`` line per period: ``acceptance`` first and, with
``--accepted``, ``resolution`` second, then the other periods that the given dates
allow. The periods and their citations are in ``config/legal_periods.toml``; the
calendar is the ``holidays`` package's plus ``config/holidays.toml``
(app.cases.legal_periods, app.cases.workdays). Nothing is read from or written to the
database.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import click

from app.cases import legal_periods, legal_process
from app.cases.legal_periods import LegalPeriodError, SuspendedSpan
from app.cases.workdays import CalendarFileError, WorkCalendar, load_overrides
from app.cli.errors import fail
from app.models.vocabulary import Track

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _parse_day(value: str) -> date | None:
    # Only the one spelling the help shows: date.fromisoformat also takes 20270201 and
    # 2027-W05-1, which an inspector typing a date by hand never means.
    if not _ISO_DAY.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


class DayType(click.ParamType[date, object]):
    """A calendar day written YYYY-MM-DD; a bad one is refused in Vietnamese and English."""

    name = "YYYY-MM-DD"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> date:
        if isinstance(value, date):
            return value
        day = _parse_day(str(value))
        if day is None:
            self.fail(
                f"ngày không hợp lệ {value!r}, cần dạng YYYY-MM-DD / "
                f"not a valid date {value!r}, expected YYYY-MM-DD",
                param,
                ctx,
            )
        return day


class SpanType(click.ParamType[SuspendedSpan, object]):
    """A suspension, FROM..TO (both YYYY-MM-DD): suspended on FROM, resumed on TO."""

    name = "YYYY-MM-DD..YYYY-MM-DD"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> SuspendedSpan:
        if isinstance(value, SuspendedSpan):
            return value
        start, sep, end = str(value).partition("..")
        first, last = _parse_day(start), _parse_day(end)
        if not sep or first is None or last is None:
            self.fail(
                f"khoảng tạm đình chỉ không hợp lệ {value!r}, cần dạng "
                f"YYYY-MM-DD..YYYY-MM-DD / not a valid suspension {value!r}, expected "
                "YYYY-MM-DD..YYYY-MM-DD",
                param,
                ctx,
            )
        try:
            return SuspendedSpan(first, last)
        except LegalPeriodError as exc:
            self.fail(str(exc), param, ctx)


@click.command("deadlines")
@click.option("--received", type=DayType(), required=True, help="Day the denunciation arrived.")
@click.option("--accepted", type=DayType(), help="Day of the acceptance decision (thụ lý).")
@click.option(
    "--extensions",
    type=int,
    default=0,
    show_default=True,
    help="Extensions of the resolution granted (art. 30: 0 to 2), each the full 30 days.",
)
@click.option(
    "--suspended",
    "suspensions",
    type=SpanType(),
    multiple=True,
    help="A suspension of the resolution, FROM..TO (art. 34(2)); repeatable.",
)
@click.option(
    "--concluded", type=DayType(), help="Day of the conclusion (kết luận); needs --accepted."
)
@click.option(
    "--holidays-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    show_default="LIEMCHINH_HOLIDAYS_FILE, else config/holidays.toml",
    help="Announced days off and make-up working days.",
)
@click.option(
    "--periods-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    show_default="LIEMCHINH_LEGAL_PERIODS_FILE, else config/legal_periods.toml",
    help="The statutory periods, with their citations.",
)
def deadlines_command(
    received: date,
    accepted: date | None,
    extensions: int,
    suspensions: tuple[SuspendedSpan, ...],
    concluded: date | None,
    holidays_file: Path | None,
    periods_file: Path | None,
) -> None:
    """Print the statutory deadlines of a named denunciation (Luật Tố cáo 2018): the
    acceptance decision and, with --accepted, the resolution; then the other periods."""
    try:
        # The installation's files (its settings, read when the app started) unless the
        # command names others.
        periods = (
            legal_periods.load_legal_periods(periods_file).denunciation
            if periods_file is not None
            else legal_process.denunciation_periods()
        )
        calendar = (
            WorkCalendar(load_overrides(holidays_file))
            if holidays_file is not None
            else legal_process.work_calendar()
        )
        # Every date is worked out before the first line is printed, so a refusal never
        # leaves half an answer on the terminal.
        clocks = legal_periods.statutory_clocks(
            Track.NAMED,
            received,
            calendar,
            periods,
            accepted=accepted,
            extensions=extensions,
            suspended_spans=suspensions,
            concluded=concluded,
        )
    except (LegalPeriodError, CalendarFileError) as exc:
        fail(str(exc))
    assert clocks is not None  # a named denunciation always has its clocks
    lines = (
        ("acceptance", clocks.acceptance),
        ("resolution", clocks.resolution),
        ("acceptance-checked-elsewhere", clocks.acceptance_checked_elsewhere),
        ("transfer", clocks.transfer),
        ("acceptance-notice", clocks.acceptance_notice),
        ("conclusion-notice", clocks.conclusion_notice),
    )
    for name, day in lines:
        if day is not None:
            click.echo(f"{name} {day.isoformat()}")
