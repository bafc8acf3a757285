"""The statutory clocks of a named denunciation (app.cases.legal_periods).

Expected dates are worked out by hand from the calendar (the reasoning is in each
comment), and the properties are checked against the ``holidays`` package directly, not
through WorkCalendar, so a bug in the counting code cannot hide in the expectation.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.cases.legal_periods import (
    SHIPPED_PERIODS,
    CriminalReportPeriods,
    DenunciationClocks,
    DenunciationPeriods,
    LegalPeriodError,
    LegalPeriods,
    ProtectionPeriods,
    SuspendedSpan,
    acceptance_due,
    acceptance_notice_due,
    add_months,
    conclusion_notice_due,
    load_legal_periods,
    procuracy_notice_due,
    protection_due,
    resolution_due,
    statutory_clocks,
    transfer_due,
    verification_due,
)
from app.cases.workdays import SHIPPED_OVERRIDES, WorkCalendar, load_overrides
from app.models.vocabulary import Track

PLAIN = WorkCalendar()
SHIPPED = WorkCalendar(load_overrides(SHIPPED_OVERRIDES))
PACKAGE = holidays.country_holidays("VN", years=range(2024, 2032))
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2029, 12, 31))


def package_working_day(day: date) -> bool:
    return bool(PACKAGE.is_working_day(day))


# --- the package knows the holidays these cases rely on (positive controls) ---------


def test_the_package_has_tet_2027_and_the_other_holidays_used_below() -> None:
    # Tết Đinh Mùi: mùng 1 is Saturday 06/02/2027; the package gives 29 Tết to mùng 5.
    tet = [date(2027, 2, d) for d in range(4, 11)]
    assert all(day in PACKAGE for day in tet)
    assert "Lunar New Year" in str(PACKAGE.get(date(2027, 2, 6)))
    assert date(2027, 2, 3) not in PACKAGE and date(2027, 2, 11) not in PACKAGE
    # 30/4 is a Friday, 1/5 a Saturday with its day off on Monday 03/05/2027.
    assert {date(2027, 4, 30), date(2027, 5, 1), date(2027, 5, 3)} <= set(PACKAGE)
    # Quốc khánh 2027: Thursday 2/9 and Friday 3/9.
    assert {date(2027, 9, 2), date(2027, 9, 3)} <= set(PACKAGE)
    # 1/1/2028 is a Saturday, off on Monday 03/01/2028.
    assert date(2028, 1, 3) in PACKAGE


# --- acceptance, transfer, notices (working days) -----------------------------------


def test_acceptance_across_tet_2027() -> None:
    # Received Wednesday 03/02/2027; 04-10/02 are off (Tết with its weekend). Working days
    # after it: 11, 12, 15, 16, 17, 18, 19/02 - the 7th is Friday 19/02.
    assert acceptance_due(date(2027, 2, 3), PLAIN) == date(2027, 2, 19)
    # ... the 10th (checked at several places): 22, 23, 24/02.
    assert acceptance_due(date(2027, 2, 3), PLAIN, checked_elsewhere=True) == date(2027, 2, 24)
    # Transfer, 5 working days: 11, 12, 15, 16, 17/02.
    assert transfer_due(date(2027, 2, 3), PLAIN) == date(2027, 2, 17)


def test_acceptance_across_a_weekend() -> None:
    # Received Friday 12/03/2027: 15-19/03 are five, 22 and 23/03 the 6th and 7th.
    assert acceptance_due(date(2027, 3, 12), PLAIN) == date(2027, 3, 23)
    # Received on a Saturday: the count starts on Monday all the same.
    assert acceptance_due(date(2027, 3, 13), PLAIN) == date(2027, 3, 23)


def test_acceptance_across_30_april_and_1_may_2027() -> None:
    # Received Thursday 29/04/2027; 30/04 (Fri), 01-02/05 (weekend), 03/05 (1/5 in lieu)
    # are off: 4, 5, 6, 7, 10, 11, 12/05.
    assert acceptance_due(date(2027, 4, 29), PLAIN) == date(2027, 5, 12)


def test_acceptance_across_national_day_2027() -> None:
    # Received Tuesday 31/08/2027: 01/09 is the 1st; 02-05/09 are off; 6-10/09, 13/09.
    assert acceptance_due(date(2027, 8, 31), PLAIN) == date(2027, 9, 13)


def test_acceptance_across_the_year_end_2027() -> None:
    # Received Thursday 30/12/2027: 31/12 is the 1st; 01/01/2028 is a Saturday, so
    # Monday 03/01 is off; then 4, 5, 6, 7, 10, 11/01.
    assert acceptance_due(date(2027, 12, 30), PLAIN) == date(2028, 1, 11)


def test_notices_after_acceptance_and_conclusion() -> None:
    # Accepted Friday 29/01/2027: 1, 2, 3/02, then Tết until 10/02, then 11 and 12/02.
    assert acceptance_notice_due(date(2027, 1, 29), PLAIN) == date(2027, 2, 12)
    # Concluded Wednesday 28/04/2027: 29/04, then 04, 05, 06, 07/05.
    assert conclusion_notice_due(date(2027, 4, 28), PLAIN) == date(2027, 5, 7)


def test_the_shipped_overrides_move_a_working_day_period() -> None:
    # Received Wednesday 31/12/2025. The package alone: 02/01/2026 (Fri) is a working day:
    # 2, 5, 6, 7, 8/01 -> transfer due Thursday 08/01. With config/holidays.toml, 02/01 is
    # off and Saturday 10/01 is worked: 5, 6, 7, 8, 9/01 -> Friday 09/01.
    assert transfer_due(date(2025, 12, 31), PLAIN) == date(2026, 1, 8)
    assert transfer_due(date(2025, 12, 31), SHIPPED) == date(2026, 1, 9)
    # 7 working days: 12/01 either way (the lost Friday is made up on the Saturday).
    assert acceptance_due(date(2025, 12, 31), PLAIN) == date(2026, 1, 12)
    assert acceptance_due(date(2025, 12, 31), SHIPPED) == date(2026, 1, 12)


def test_an_announced_extra_day_off_and_a_worked_saturday(tmp_path: Path) -> None:
    # Suppose the Prime Minister gives Monday 15/02/2027 off after Tết, made up on
    # Saturday 20/02/2027. Received 03/02/2027: 11, 12, 16, 17, 18, 19, 20/02.
    overrides = tmp_path / "holidays.toml"
    overrides.write_text(
        '[[day_off]]\ndate = 2027-02-15\nreason = "Nghỉ thêm sau Tết Đinh Mùi"\n'
        '[[working_day]]\ndate = 2027-02-20\nreason = "Làm bù cho ngày 15/02/2027"\n',
        encoding="utf-8",
    )
    calendar = WorkCalendar(load_overrides(overrides))
    assert acceptance_due(date(2027, 2, 3), calendar) == date(2027, 2, 20)
    assert acceptance_due(date(2027, 2, 3), PLAIN) == date(2027, 2, 19)


# --- resolution (calendar days, art. 30; Civil Code art. 148) -----------------------


def test_resolution_ending_in_tet_moves_past_it() -> None:
    # Accepted Tuesday 05/01/2027: 30 days later is Thursday 04/02/2027 (29 Tết, off);
    # off until Wednesday 10/02 -> Thursday 11/02/2027.
    assert resolution_due(date(2027, 1, 5), 0, (), PLAIN) == date(2027, 2, 11)


def test_resolution_with_extensions() -> None:
    # One extension: 60 days after 05/01/2027 is Saturday 06/03 -> Monday 08/03/2027.
    assert resolution_due(date(2027, 1, 5), 1, (), PLAIN) == date(2027, 3, 8)
    # Two: 90 days is Monday 05/04/2027, a working day.
    assert resolution_due(date(2027, 1, 5), 2, (), PLAIN) == date(2027, 4, 5)
    # An extension shorter than 30 days (art. 30: "không quá 30 ngày"): 30 + 10 days is
    # Sunday 14/02/2027 -> Monday 15/02/2027.
    assert resolution_due(date(2027, 1, 5), [10], (), PLAIN) == date(2027, 2, 15)


def test_resolution_ending_on_30_april_national_day_and_new_year() -> None:
    # 30 days after 31/03/2027 is Friday 30/04 (holiday); 01-03/05 off -> Tuesday 04/05.
    assert resolution_due(date(2027, 3, 31), 0, (), PLAIN) == date(2027, 5, 4)
    # 30 days after 03/08/2027 is Thursday 02/09 (Quốc khánh); 03-05/09 off -> Monday 06/09.
    assert resolution_due(date(2027, 8, 3), 0, (), PLAIN) == date(2027, 9, 6)
    # 30 days after 02/12/2027 is Saturday 01/01/2028; 02/01 Sunday, 03/01 off in lieu
    # -> Tuesday 04/01/2028.
    assert resolution_due(date(2027, 12, 2), 0, (), PLAIN) == date(2028, 1, 4)


def test_resolution_ending_on_a_worked_saturday_stays_there() -> None:
    # 30 days after 11/12/2025 is Saturday 10/01/2026: a rest day for the package (ends
    # Monday 12/01), a make-up working day in config/holidays.toml (ends that Saturday).
    assert resolution_due(date(2025, 12, 11), 0, (), PLAIN) == date(2026, 1, 12)
    assert resolution_due(date(2025, 12, 11), 0, (), SHIPPED) == date(2026, 1, 10)


def test_suspension_pauses_the_resolution_clock() -> None:
    # Accepted 05/01/2027, suspended 20/01 and resumed 01/02 (12 days not counted,
    # art. 34(2)): 04/02 + 12 days is Tuesday 16/02/2027, a working day.
    span = SuspendedSpan(date(2027, 1, 20), date(2027, 2, 1))
    assert span.days == 12
    assert resolution_due(date(2027, 1, 5), 0, [span], PLAIN) == date(2027, 2, 16)
    # Two suspensions add up, in any order: 12 + 5 days -> Sunday 21/02 -> Monday 22/02.
    later = SuspendedSpan(date(2027, 2, 2), date(2027, 2, 7))
    assert resolution_due(date(2027, 1, 5), 0, [later, span], PLAIN) == date(2027, 2, 22)
    # Suspended and resumed on the same day: nothing lost.
    same_day = SuspendedSpan(date(2027, 1, 20), date(2027, 1, 20))
    assert resolution_due(date(2027, 1, 5), 0, [same_day], PLAIN) == date(2027, 2, 11)


def test_suspension_on_the_last_day_still_counts() -> None:
    # The period ends on 11/02/2027 (04/02 moved off Tết); suspended that very day and
    # resumed 10 days later: 04/02 + 10 days is Sunday 14/02 -> Monday 15/02/2027.
    assert resolution_due(
        date(2027, 1, 5), 0, [SuspendedSpan(date(2027, 2, 11), date(2027, 2, 21))], PLAIN
    ) == date(2027, 2, 15)


@pytest.mark.parametrize(
    ("spans", "message"),
    [
        ([SuspendedSpan(date(2027, 1, 1), date(2027, 1, 10))], "before the acceptance"),
        (
            [
                SuspendedSpan(date(2027, 1, 10), date(2027, 1, 20)),
                SuspendedSpan(date(2027, 1, 15), date(2027, 1, 25)),
            ],
            "two suspensions overlap",
        ),
        ([SuspendedSpan(date(2027, 2, 12), date(2027, 2, 20))], "after the resolution period"),
    ],
)
def test_impossible_suspensions_are_refused(spans: list[SuspendedSpan], message: str) -> None:
    with pytest.raises(LegalPeriodError, match=message) as caught:
        resolution_due(date(2027, 1, 5), 0, spans, PLAIN)
    assert caught.value.vi and caught.value.vi != caught.value.en


def test_a_suspension_cannot_end_before_it_starts() -> None:
    with pytest.raises(LegalPeriodError, match="tạm đình chỉ") as caught:
        SuspendedSpan(date(2027, 2, 1), date(2027, 1, 20))
    assert caught.value.message("en").startswith("resumed on 2027-01-20")
    assert caught.value.message("vi").startswith("ngày tiếp tục 20/01/2027")


@pytest.mark.parametrize(
    ("extensions", "message"),
    [
        (3, "from 0 to 2, got 3"),
        (-1, "from 0 to 2, got -1"),
        ([30, 30, 30], "at most 2 extensions"),
        ([31], "1 to 30 days, got 31"),
        ([0], "1 to 30 days, got 0"),
    ],
)
def test_extensions_beyond_the_law_are_refused(extensions: int | list[int], message: str) -> None:
    with pytest.raises(LegalPeriodError, match=message):
        resolution_due(date(2027, 1, 5), extensions, (), PLAIN)


# --- a case's clocks, by track -------------------------------------------------------


def test_anonymous_information_has_no_statutory_clock() -> None:
    # Art. 25: not handled as a denunciation, so no period of the Law runs.
    assert statutory_clocks(Track.ANONYMOUS, date(2027, 2, 3), PLAIN) is None
    # Positive control: the same day on the named track has its clocks.
    assert statutory_clocks(Track.NAMED, date(2027, 2, 3), PLAIN) == DenunciationClocks(
        acceptance=date(2027, 2, 19),
        acceptance_checked_elsewhere=date(2027, 2, 24),
        transfer=date(2027, 2, 17),
    )


def test_a_named_denunciation_s_clocks_follow_its_events() -> None:
    clocks = statutory_clocks(
        Track.NAMED,
        date(2026, 12, 30),
        PLAIN,
        accepted=date(2027, 1, 5),
        extensions=1,
        suspended_spans=[SuspendedSpan(date(2027, 1, 20), date(2027, 2, 1))],
        concluded=date(2027, 4, 28),
    )
    assert clocks is not None
    # 30/12/2026 + 7 working days, 01/01/2027 off: 31/12, 04-08/01, 11/01.
    assert clocks.acceptance == date(2027, 1, 11)
    # 60 days + 12 suspended after 05/01/2027: Thursday 18/03/2027.
    assert clocks.resolution == date(2027, 3, 18)
    assert clocks.acceptance_notice == date(2027, 1, 12)
    assert clocks.conclusion_notice == date(2027, 5, 7)


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ({"extensions": 1}, "only after the acceptance"),
        (
            {"suspended_spans": [SuspendedSpan(date(2027, 2, 20), date(2027, 2, 21))]},
            "only after the acceptance",
        ),
        ({"accepted": date(2027, 2, 2)}, "before it was received on 2027-02-03"),
        ({"concluded": date(2027, 3, 1)}, "without an earlier acceptance"),
        (
            {"accepted": date(2027, 2, 10), "concluded": date(2027, 2, 9)},
            "without an earlier acceptance",
        ),
    ],
)
def test_events_out_of_order_are_refused(events: dict[str, Any], message: str) -> None:
    with pytest.raises(LegalPeriodError, match=message):
        statutory_clocks(Track.NAMED, date(2027, 2, 3), PLAIN, **events)


# --- protection, crime reports ------------------------------------------------------


def test_protection_request() -> None:
    # Requested Thursday 29/04/2027: 04, 05, 06/05 (3); complex: 07, 10/05 (5).
    assert protection_due(date(2027, 4, 29), PLAIN) == date(2027, 5, 6)
    assert protection_due(date(2027, 4, 29), PLAIN, complex_case=True) == date(2027, 5, 10)
    # Configured 0: the same day (an urgent request).
    urgent = ProtectionPeriods(decision_working_days=0)
    assert protection_due(date(2027, 4, 29), PLAIN, urgent) == date(2027, 4, 29)


def test_crime_report_periods_follow_the_criminal_procedure_code() -> None:
    # Received Sunday 10/01/2027. Art. 146(5): procuracy told within 3 days -> 13/01.
    assert procuracy_notice_due(date(2027, 1, 10)) == date(2027, 1, 13)
    # Art. 147(1): 20 days -> Saturday 30/01/2027, NOT moved (BLTTHS art. 134: a period
    # in days ends at 24:00 of its last day).
    assert verification_due(date(2027, 1, 10), PLAIN) == date(2027, 1, 30)
    # Months stages end on the same day, moved off a rest day (art. 134). From
    # 31/12/2026: 2 months -> 28/02/2027 (no 31/02), a Sunday -> Monday 01/03/2027;
    # 4 months (with the procuracy's extension) -> 30/04/2027 (no 31/04), a holiday,
    # and 01-03/05 are off -> Tuesday 04/05/2027.
    assert verification_due(date(2026, 12, 31), PLAIN, stage=1) == date(2027, 3, 1)
    assert verification_due(date(2026, 12, 31), PLAIN, stage=2) == date(2027, 5, 4)
    with pytest.raises(LegalPeriodError, match="stage must be 0, 1 or 2"):
        verification_due(date(2026, 12, 31), PLAIN, stage=3)


def test_add_months_clamps_to_the_month_end() -> None:
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2027, 11, 15), 2) == date(2028, 1, 15)
    assert add_months(date(2027, 3, 10), 0) == date(2027, 3, 10)


# --- properties, against the package --------------------------------------------------


@given(days)
def test_acceptance_is_a_working_day_strictly_after_receipt(received: date) -> None:
    due = acceptance_due(received, PLAIN)
    assert due > received
    assert package_working_day(due)
    between = [received + timedelta(n) for n in range(1, (due - received).days + 1)]
    assert sum(1 for day in between if package_working_day(day)) == 7


@given(days, st.integers(min_value=0, max_value=2), st.integers(min_value=0, max_value=40))
def test_resolution_is_the_first_working_day_from_the_last_calendar_day(
    accepted: date, extensions: int, paused: int
) -> None:
    span = SuspendedSpan(accepted + timedelta(days=3), accepted + timedelta(days=3 + paused))
    due = resolution_due(accepted, extensions, [span], PLAIN)
    last = accepted + timedelta(days=30 * (1 + extensions) + paused)
    assert due >= last and package_working_day(due)
    assert not any(package_working_day(last + timedelta(n)) for n in range((due - last).days))


# --- the config file ----------------------------------------------------------------


def test_the_shipped_file_has_the_statutory_values() -> None:
    periods = load_legal_periods(SHIPPED_PERIODS)
    assert periods == LegalPeriods()
    text = SHIPPED_PERIODS.read_text(encoding="utf-8")
    # Every value is written out (not left to the code's default) next to its source.
    for key in (
        "acceptance_working_days = 7",
        "acceptance_checked_elsewhere_working_days = 10",
        "transfer_working_days = 5",
        "acceptance_notice_working_days = 5",
        "resolution_days = 30",
        "extension_days = 30",
        "max_extensions = 2",
        "conclusion_notice_working_days = 5",
        "decision_working_days = 3",
        "complex_decision_working_days = 5",
        "verification_days = 20",
        "complex_verification_months = 2",
        "procuracy_extension_months = 2",
        "procuracy_notice_days = 3",
    ):
        assert f"\n{key}\n" in text, key
    for citation in ("art. 24(1)", "art. 24(2)", "art. 29(3)", "art. 30(1)", "art. 35(3)"):
        assert citation in text
    assert "145/2020/TT-BCA art. 5(3)" in text and "art. 147(1)" in text
    assert "art. 146(5)" in text


def test_a_partial_file_keeps_the_other_values(tmp_path: Path) -> None:
    path = tmp_path / "periods.toml"
    path.write_text("[denunciation]\nresolution_days = 45\n", encoding="utf-8")
    periods = load_legal_periods(path)
    assert periods.denunciation == DenunciationPeriods(resolution_days=45)
    assert periods.protection == ProtectionPeriods()
    assert periods.criminal_report == CriminalReportPeriods()
    # The configured value is the one counted: 45 days after 05/01/2027 is 19/02/2027.
    assert resolution_due(date(2027, 1, 5), 0, (), PLAIN, periods.denunciation) == date(2027, 2, 19)
    assert load_legal_periods(None) == LegalPeriods()


@pytest.mark.parametrize(
    ("text", "english", "vietnamese"),
    [
        (
            "[denunciation]\nresolution_days = 0\n",
            "denunciation.resolution_days must be a whole number from 1 to 365, got 0",
            "denunciation.resolution_days phải là số nguyên từ 1 đến 365, nhận được 0",
        ),
        (
            '[denunciation]\nresolution_days = "30"\n',
            "must be a whole number from 1 to 365, got '30'",
            "phải là số nguyên",
        ),
        (
            "[protection]\ndecision_working_days = true\n",
            "protection.decision_working_days must be a whole number",
            "phải là số nguyên",
        ),
        (
            "[criminal_report]\nverification_days = 20.5\n",
            "got 20.5",
            "nhận được 20.5",
        ),
        (
            "[denunciation]\nresolution_day = 30\n",
            "unknown keys denunciation.resolution_day",
            "khoá không xác định denunciation.resolution_day",
        ),
        ("[denunciaton]\n", "unknown sections denunciaton", "mục không xác định"),
        ("denunciation = 5\n", "[denunciation] must be a table", "phải là một bảng"),
        ("[denunciation\n", "cannot read", "không đọc được"),
        (
            "[denunciation]\nacceptance_working_days = 12\n",
            "cannot be shorter than the acceptance period",
            "không được ngắn hơn",
        ),
        (
            "[protection]\ndecision_working_days = 6\n",
            "cannot be shorter than the ordinary one",
            "không được ngắn hơn",
        ),
    ],
)
def test_bad_files_are_refused_naming_the_file_and_key(
    tmp_path: Path, text: str, english: str, vietnamese: str
) -> None:
    path = tmp_path / "periods.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LegalPeriodError) as caught:
        load_legal_periods(path)
    assert english in caught.value.en and str(path) in caught.value.en
    assert vietnamese in caught.value.vi and str(path) in caught.value.vi


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LegalPeriodError, match="cannot read"):
        load_legal_periods(tmp_path / "absent.toml")
