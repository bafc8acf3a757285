"""The statutory clocks of a named denunciation, and of a crime report handed to the police.

Which periods, in which unit, from which event - each cited beside its number below and
in ``config/legal_periods.toml``; the sources that were read are in docs/legal.md §2-§4
and §8. Two corrections to the issue text, following the law (docs/legal.md):

- the acceptance decision is due within the **initial-handling** period of Luật Tố cáo
  2018 art. 24(1) (7 working days from receipt, at most 10 when the denouncer's
  identity or the conditions are checked at several places); art. 29 says what the
  decision contains, not when it is due;
- the protection-request period has no statutory number (art. 51(1): "kịp thời"); the
  default of 3 working days is by analogy with Thông tư 145/2020/TT-BCA art. 5(3).

Anonymous information (art. 25) has **no** statutory clock: it keeps the city's own
service targets (``config.settings.Deadlines``), which this module does not touch.

Units, as the statutes write them:

- *working days* (ngày làm việc, arts. 24, 29, 35): :meth:`WorkCalendar.add_working_days`;
- *days* (ngày, art. 30): calendar days, and a last day that is a rest day moves to the
  next working day (Civil Code art. 148, :meth:`WorkCalendar.add_days`);
- criminal procedure (Bộ luật Tố tụng hình sự 2015, BLTTHS) has its own rule, art. 134:
  a period in days ends at 24:00 of its last day, rest day or not; a period in months
  ends on the same day of the later month (or that month's last day), moved to the next
  working day if it is a rest day.

Pure: no database, no Flask. The values are data (a frozen dataclass read from a TOML
file), so an amendment (Law 136/2025/QH15, in force 01/07/2026, docs/legal.md §11) is a
config change, not a code change.
"""

from __future__ import annotations

import calendar as month_lengths
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from app.cases.workdays import WorkCalendar
from app.models.vocabulary import Track

# The shipped values, with their citations (the dataclass defaults below are the same).
SHIPPED_PERIODS = Path(__file__).resolve().parents[2] / "config" / "legal_periods.toml"


class LegalPeriodError(ValueError):
    """A bad period value or a bad date for a clock: the message in Vietnamese (the
    default language) and English, so an operator and a view can both show it."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(f"{vi} / {en}")
        self.vi = vi
        self.en = en

    def message(self, locale: str) -> str:
        return self.en if locale.startswith("en") else self.vi


@dataclass(frozen=True)
class Bounds:
    """What a period value may be: a whole number in [minimum, maximum]."""

    minimum: int
    maximum: int


def _period(default: int, minimum: int, maximum: int) -> Any:
    # The bounds stop a typo (300 for 30) from silently moving every deadline; they are
    # wide enough for any amendment seen so far.
    return field(default=default, metadata={"bounds": Bounds(minimum, maximum)})


@dataclass(frozen=True)
class DenunciationPeriods:
    """Luật Tố cáo 2018 (Law 25/2018/QH14, as amended), for a named denunciation."""

    # art. 24(1): log, classify, check the denouncer and the conditions, and decide
    # whether to accept - within 7 working days of receipt.
    acceptance_working_days: int = _period(7, 1, 30)
    # art. 24(1): at most 10 working days when the check is made at several places or
    # delegated.
    acceptance_checked_elsewhere_working_days: int = _period(10, 1, 30)
    # art. 24(2): not competent - transfer to the competent body, and tell the
    # denouncer, within 5 working days of receipt.
    transfer_working_days: int = _period(5, 1, 30)
    # art. 29(3): tell the denouncer (Mẫu 05) and the person denounced (Mẫu 06) within
    # 5 working days of the acceptance decision (Decree 31/2019 art. 9).
    acceptance_notice_working_days: int = _period(5, 1, 30)
    # art. 30(1): resolve within 30 days (calendar days) of the acceptance.
    resolution_days: int = _period(30, 1, 365)
    # art. 30(2)-(3): each extension is at most 30 days.
    extension_days: int = _period(30, 1, 365)
    # art. 30(3): two extensions for an especially complex case (one for a complex
    # one); Decree 31/2019 art. 3(2)-(3) says which cases are which.
    max_extensions: int = _period(2, 0, 5)
    # art. 35(3): tell the denouncer of the conclusion within 5 working days of it.
    conclusion_notice_working_days: int = _period(5, 1, 30)

    def __post_init__(self) -> None:
        if self.acceptance_checked_elsewhere_working_days < self.acceptance_working_days:
            raise LegalPeriodError(
                "thời hạn thụ lý khi xác minh nhiều nơi không được ngắn hơn thời hạn thụ lý",
                "the acceptance period when checking at several places cannot be shorter "
                "than the acceptance period",
            )


@dataclass(frozen=True)
class ProtectionPeriods:
    """A request for protection of the denouncer (Luật Tố cáo 2018 arts. 47-51).

    The Law sets no number: art. 51(1) says "kịp thời" (promptly). The only numeric rule
    found is Thông tư 145/2020/TT-BCA art. 5(3), for the police protecting people who
    denounce corruption or waste: decide within 3 working days, at most 5 if complex.
    Used here by analogy, configurable (docs/legal.md §4).
    """

    decision_working_days: int = _period(3, 0, 30)
    complex_decision_working_days: int = _period(5, 0, 30)

    def __post_init__(self) -> None:
        if self.complex_decision_working_days < self.decision_working_days:
            raise LegalPeriodError(
                "thời hạn bảo vệ khi phức tạp không được ngắn hơn thời hạn thường",
                "the complex protection period cannot be shorter than the ordinary one",
            )


@dataclass(frozen=True)
class CriminalReportPeriods:
    """A crime report (tố giác) forwarded to the investigation body (BLTTHS 2015).

    For display beside a referral: the investigation body runs this clock, not the
    city (docs/legal.md §8, §12).
    """

    # art. 147(1): verify and decide within 20 days of receipt.
    verification_days: int = _period(20, 1, 120)
    # art. 147(2): complex or at several places - up to 2 months.
    complex_verification_months: int = _period(2, 1, 12)
    # art. 147(2): the procuracy may extend once, by up to 2 more months.
    procuracy_extension_months: int = _period(2, 0, 12)
    # art. 146(5): tell the procuracy of the receipt within 3 days.
    procuracy_notice_days: int = _period(3, 1, 30)


@dataclass(frozen=True)
class LegalPeriods:
    denunciation: DenunciationPeriods = field(default_factory=DenunciationPeriods)
    protection: ProtectionPeriods = field(default_factory=ProtectionPeriods)
    criminal_report: CriminalReportPeriods = field(default_factory=CriminalReportPeriods)


_SECTIONS: dict[str, type[Any]] = {
    "denunciation": DenunciationPeriods,
    "protection": ProtectionPeriods,
    "criminal_report": CriminalReportPeriods,
}


def _section(path: Path, name: str, raw: object) -> Any:
    owner = _SECTIONS[name]
    if not isinstance(raw, dict):
        raise LegalPeriodError(
            f"{path}: [{name}] phải là một bảng", f"{path}: [{name}] must be a table"
        )
    known = {item.name: item for item in fields(owner)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        listed = ", ".join(f"{name}.{key}" for key in unknown)
        raise LegalPeriodError(
            f"{path}: khoá không xác định {listed}", f"{path}: unknown keys {listed}"
        )
    values: dict[str, int] = {}
    for key, value in raw.items():
        bounds: Bounds = known[key].metadata["bounds"]
        # bool is an int in Python: "true" is not a number of days.
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not bounds.minimum <= value <= bounds.maximum
        ):
            raise LegalPeriodError(
                f"{path}: {name}.{key} phải là số nguyên từ {bounds.minimum} đến "
                f"{bounds.maximum}, nhận được {value!r}",
                f"{path}: {name}.{key} must be a whole number from {bounds.minimum} to "
                f"{bounds.maximum}, got {value!r}",
            )
        values[key] = value
    try:
        return owner(**values)
    except LegalPeriodError as exc:
        raise LegalPeriodError(f"{path}: {exc.vi}", f"{path}: {exc.en}") from None


def load_legal_periods(path: Path | None = SHIPPED_PERIODS) -> LegalPeriods:
    """Read the periods from a TOML file (sections ``denunciation``, ``protection``,
    ``criminal_report``); a key left out keeps the statutory value, no file means the
    statutory values. Every error names the file and the key."""
    if path is None:
        return LegalPeriods()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LegalPeriodError(
            f"không đọc được {path}: {exc}", f"cannot read {path}: {exc}"
        ) from None
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        listed = ", ".join(unknown)
        raise LegalPeriodError(
            f"{path}: mục không xác định {listed}", f"{path}: unknown sections {listed}"
        )
    return LegalPeriods(
        **{name: _section(path, name, data[name]) for name in _SECTIONS if name in data}
    )


# --- Luật Tố cáo: the denunciation's clocks ----------------------------------------


def acceptance_due(
    received: date,
    calendar: WorkCalendar,
    periods: DenunciationPeriods | None = None,
    *,
    checked_elsewhere: bool = False,
) -> date:
    """Last day to decide whether to accept (thụ lý) a denunciation received on
    ``received``: the 7th working day after it (art. 24(1); the day of receipt is not
    counted, Civil Code art. 147), or the 10th when the check is made at several places
    or delegated."""
    periods = periods or DenunciationPeriods()
    count = (
        periods.acceptance_checked_elsewhere_working_days
        if checked_elsewhere
        else periods.acceptance_working_days
    )
    return calendar.add_working_days(received, count)


def transfer_due(
    received: date, calendar: WorkCalendar, periods: DenunciationPeriods | None = None
) -> date:
    """Last day to transfer a denunciation outside the unit's competence, and tell the
    denouncer (art. 24(2): 5 working days from receipt)."""
    periods = periods or DenunciationPeriods()
    return calendar.add_working_days(received, periods.transfer_working_days)


def acceptance_notice_due(
    accepted: date, calendar: WorkCalendar, periods: DenunciationPeriods | None = None
) -> date:
    """Last day to send the acceptance notices (art. 29(3): 5 working days from the
    decision)."""
    periods = periods or DenunciationPeriods()
    return calendar.add_working_days(accepted, periods.acceptance_notice_working_days)


def conclusion_notice_due(
    concluded: date, calendar: WorkCalendar, periods: DenunciationPeriods | None = None
) -> date:
    """Last day to tell the denouncer of the conclusion (art. 35(3): 5 working days)."""
    periods = periods or DenunciationPeriods()
    return calendar.add_working_days(concluded, periods.conclusion_notice_working_days)


@dataclass(frozen=True)
class SuspendedSpan:
    """A suspension of the resolution (tạm đình chỉ, art. 34): decided on ``suspended``,
    resumed on ``resumed``. The ``resumed - suspended`` days between are not counted
    (art. 34(2)). While a suspension is still open the period has no last day; a caller
    shows the suspension instead of a date."""

    suspended: date
    resumed: date

    def __post_init__(self) -> None:
        if self.resumed < self.suspended:
            raise LegalPeriodError(
                f"ngày tiếp tục {self.resumed:%d/%m/%Y} trước ngày tạm đình chỉ "
                f"{self.suspended:%d/%m/%Y}",
                f"resumed on {self.resumed.isoformat()}, before the suspension on "
                f"{self.suspended.isoformat()}",
            )

    @property
    def days(self) -> int:
        return (self.resumed - self.suspended).days


def _full_extensions(extensions: int | Sequence[int], periods: DenunciationPeriods) -> list[int]:
    if isinstance(extensions, int):
        if not 0 <= extensions <= periods.max_extensions:
            raise LegalPeriodError(
                f"số lần gia hạn phải từ 0 đến {periods.max_extensions}, nhận được {extensions}",
                f"the number of extensions must be from 0 to {periods.max_extensions}, "
                f"got {extensions}",
            )
        return [periods.extension_days] * extensions
    granted = list(extensions)
    if len(granted) > periods.max_extensions:
        raise LegalPeriodError(
            f"tối đa {periods.max_extensions} lần gia hạn (Điều 30), nhận được {len(granted)}",
            f"at most {periods.max_extensions} extensions (art. 30), got {len(granted)}",
        )
    for days in granted:
        if not 1 <= days <= periods.extension_days:
            raise LegalPeriodError(
                f"mỗi lần gia hạn từ 1 đến {periods.extension_days} ngày, nhận được {days}",
                f"each extension is 1 to {periods.extension_days} days, got {days}",
            )
    return granted


def resolution_due(
    accepted: date,
    extensions: int | Sequence[int],
    suspended_spans: Iterable[SuspendedSpan],
    calendar: WorkCalendar,
    periods: DenunciationPeriods | None = None,
) -> date:
    """Last day to resolve a denunciation accepted on ``accepted``.

    30 days from the acceptance (art. 30(1)), plus each extension (art. 30(2)-(3)):
    ``extensions`` is either how many extensions of the full 30 days were granted, or
    the days each extension granted ("không quá 30 ngày" - an extension may be
    shorter). Suspended spans add the days they lasted (art. 34(2)). The count is in
    calendar days from the day after the acceptance (Civil Code art. 147); only the
    final last day moves to the next working day if it is a rest day (art. 148) - an
    extension continues the period, it does not start a new one.

    A suspension must begin on or after the acceptance and no later than the last day
    of the period (with its extensions and the earlier suspensions), and suspensions may
    not overlap.
    """
    periods = periods or DenunciationPeriods()
    raw_end = accepted + timedelta(
        days=periods.resolution_days + sum(_full_extensions(extensions, periods))
    )
    previous: SuspendedSpan | None = None
    for span in sorted(suspended_spans, key=lambda s: s.suspended):
        if span.suspended < accepted:
            raise LegalPeriodError(
                f"tạm đình chỉ ngày {span.suspended:%d/%m/%Y}, trước khi thụ lý "
                f"{accepted:%d/%m/%Y}",
                f"suspended on {span.suspended.isoformat()}, before the acceptance on "
                f"{accepted.isoformat()}",
            )
        if previous is not None and span.suspended < previous.resumed:
            raise LegalPeriodError(
                f"hai lần tạm đình chỉ chồng lên nhau ({previous.suspended:%d/%m/%Y} và "
                f"{span.suspended:%d/%m/%Y})",
                f"two suspensions overlap ({previous.suspended.isoformat()} and "
                f"{span.suspended.isoformat()})",
            )
        if span.suspended > calendar.next_working_day(raw_end):
            raise LegalPeriodError(
                f"tạm đình chỉ ngày {span.suspended:%d/%m/%Y}, sau khi thời hạn giải quyết đã hết",
                f"suspended on {span.suspended.isoformat()}, after the resolution period had ended",
            )
        raw_end += timedelta(days=span.days)
        previous = span
    return calendar.next_working_day(raw_end)


@dataclass(frozen=True)
class DenunciationClocks:
    """The statutory last days of one named denunciation, as far as its events allow:
    the periods that run from the acceptance or the conclusion are None until then."""

    acceptance: date
    acceptance_checked_elsewhere: date
    transfer: date
    resolution: date | None = None
    acceptance_notice: date | None = None
    conclusion_notice: date | None = None


def statutory_clocks(
    track: Track,
    received: date,
    calendar: WorkCalendar,
    periods: DenunciationPeriods | None = None,
    *,
    accepted: date | None = None,
    extensions: int | Sequence[int] = 0,
    suspended_spans: Iterable[SuspendedSpan] = (),
    concluded: date | None = None,
) -> DenunciationClocks | None:
    """Every statutory clock of a case, or None for anonymous information: art. 25 does
    not handle it as a denunciation, so no period of the Law runs (the city's own
    service targets, ``config.settings.Deadlines``, apply instead).

    The events must come in the law's order (received, accepted, concluded); extensions
    and suspensions need an acceptance. Raises :class:`LegalPeriodError` otherwise.
    """
    if track != Track.NAMED:
        return None
    periods = periods or DenunciationPeriods()
    spans = tuple(suspended_spans)
    if accepted is None and (extensions or spans):
        raise LegalPeriodError(
            "gia hạn và tạm đình chỉ chỉ có sau khi thụ lý",
            "extensions and suspensions come only after the acceptance",
        )
    if accepted is not None and accepted < received:
        raise LegalPeriodError(
            f"ngày thụ lý {accepted:%d/%m/%Y} trước ngày nhận {received:%d/%m/%Y}",
            f"accepted on {accepted.isoformat()}, before it was received on {received.isoformat()}",
        )
    if concluded is not None and (accepted is None or concluded < accepted):
        raise LegalPeriodError(
            f"ngày kết luận {concluded:%d/%m/%Y} không sau ngày thụ lý",
            f"concluded on {concluded.isoformat()}, without an earlier acceptance",
        )
    return DenunciationClocks(
        acceptance=acceptance_due(received, calendar, periods),
        acceptance_checked_elsewhere=acceptance_due(
            received, calendar, periods, checked_elsewhere=True
        ),
        transfer=transfer_due(received, calendar, periods),
        resolution=None
        if accepted is None
        else resolution_due(accepted, extensions, spans, calendar, periods),
        acceptance_notice=None
        if accepted is None
        else acceptance_notice_due(accepted, calendar, periods),
        conclusion_notice=None
        if concluded is None
        else conclusion_notice_due(concluded, calendar, periods),
    )


# --- Người tố cáo: protection -------------------------------------------------------


def protection_due(
    requested: date,
    calendar: WorkCalendar,
    periods: ProtectionPeriods | None = None,
    *,
    complex_case: bool = False,
) -> date:
    """Last day to decide on a protection request received on ``requested`` (3 working
    days, 5 if complex: by analogy with TT 145/2020/TT-BCA art. 5(3); Luật Tố cáo art.
    51(1) asks for "kịp thời"). A configured 0 means the same day."""
    periods = periods or ProtectionPeriods()
    count = periods.complex_decision_working_days if complex_case else periods.decision_working_days
    return calendar.add_working_days(requested, count)


# --- BLTTHS: a crime report forwarded to the investigation body ---------------------


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day if it has no such day
    (BLTTHS art. 134(1); Civil Code art. 148(2) says the same)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, month_lengths.monthrange(year, month)[1]))


def procuracy_notice_due(received: date, periods: CriminalReportPeriods | None = None) -> date:
    """Last day for the investigation body to tell the procuracy of a crime report
    (BLTTHS art. 146(5): 3 days; a period in days ends at 24:00 of its last day, rest day
    or not, art. 134)."""
    periods = periods or CriminalReportPeriods()
    return received + timedelta(days=periods.procuracy_notice_days)


def verification_due(
    received: date,
    calendar: WorkCalendar,
    periods: CriminalReportPeriods | None = None,
    *,
    stage: int = 0,
) -> date:
    """Last day to verify a crime report (BLTTHS art. 147).

    ``stage`` 0: 20 days from receipt (art. 147(1); a period in days, not moved off a
    rest day, art. 134). 1: complex, up to 2 months (art. 147(2)). 2: extended once by
    the procuracy, 2 more months (art. 147(2)). The months stages end on the same day of
    the later month, moved to the next working day if it is a rest day (art. 134); the
    extension continues the 2 months, so it is counted from the receipt too.
    """
    periods = periods or CriminalReportPeriods()
    if stage == 0:
        return received + timedelta(days=periods.verification_days)
    if stage == 1:
        months = periods.complex_verification_months
    elif stage == 2:
        months = periods.complex_verification_months + periods.procuracy_extension_months
    else:
        raise LegalPeriodError(
            f"giai đoạn xác minh phải là 0, 1 hoặc 2, nhận được {stage}",
            f"the verification stage must be 0, 1 or 2, got {stage}",
        )
    return calendar.next_working_day(add_months(received, months))
