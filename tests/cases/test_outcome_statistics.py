"""Outcome statistics: the known figures of a known set of cases by month, category and
sector and by reporting quarter; small counts and amounts built from fewer than 5 cases
withheld (with the complementary cell); overdue referrals by the one rule; SQL sums
only (the number of queries does not grow with the cases)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from app.cases.deadlines import referral_overdue_clause
from app.cases.outcome_statistics import (
    AMOUNT_MIN_CASES,
    Amount,
    Figure,
    Money,
    OutcomeRow,
    outcome_statistics,
    period_figures,
    suppress_amounts,
)
from app.cases.reporting_periods import quarter
from app.cases.statistics import Count, Withheld
from app.database import Database
from app.models import Case, Referral
from app.models.vocabulary import DisciplineForm
from tests.factories import (
    case_row,
    insert_cases,
    insert_outcome,
    insert_recovery,
    insert_referral,
    unit_ids,
)

TODAY = date(2026, 12, 5)
SMALL = Count(None, Withheld.SMALL)
HIDDEN = Count(None, Withheld.COMPLEMENTARY)
AMOUNT_SMALL = Amount(None, Withheld.SMALL)
AMOUNT_HIDDEN = Amount(None, Withheld.COMPLEMENTARY)
BILLION = 1_000_000_000


def seed_outcomes(database: Database) -> dict[str, list[str]]:
    """16 cases whose figures are worked out by hand in the tests below.

    - 10 corruption / land cases of October: 6 concluded founded on 10/11 (4 + 2
      partly), 5 of them finding 1 tỷ and recommending 800 triệu; 6 people disciplined;
      5 referred on 02/11 (two prosecuted on 20/11, three pending, due 22/11); 300 triệu
      recovered from each of those 5 on 25/11, and a correction of -100 triệu on 01/12;
    - 1 waste / health case of October, founded on 12/11: 2,5 tỷ found, 2 tỷ
      recommended, 500 triệu recovered on 26/11;
    - 5 misconduct / education named denunciations of September, accepted on 01/10,
      closed unfounded on 15/11 (no outcome figures: nothing was found).
    """
    units = unit_ids(database)
    inspection = units["inspection"]
    corruption = insert_cases(
        database,
        [
            case_row(
                inspection,
                category="corruption",
                sector="land_construction",
                status="closed" if i < 6 else "routed_inspection",
                resolution=(["substantiated"] * 4 + ["partly_substantiated"] * 2 + [None] * 4)[i],
                created_day=date(2026, 10, 1 + i),
            )
            for i in range(10)
        ],
    )
    [waste] = insert_cases(
        database,
        [
            case_row(
                inspection,
                category="waste",
                sector="health",
                status="closed",
                resolution="substantiated",
                created_day=date(2026, 10, 15),
            )
        ],
    )
    misconduct = insert_cases(
        database,
        [
            case_row(
                inspection,
                category="misconduct",
                sector="education",
                status="closed",
                resolution="unsubstantiated",
                track="named",
                statutory_decision="accepted",
                statutory_decision_day=date(2026, 10, 1),
                created_day=date(2026, 9, 21 + i),
                # Unfounded: no outcome figures (app.cases.outcomes), dated by the day
                # it was closed: 15/11 in Cần Thơ.
                closed_at=datetime(2026, 11, 15, 3, 0, tzinfo=UTC),
            )
            for i in range(5)
        ],
    )
    disciplines: list[dict[str, int]] = [
        {"reprimand": 2},
        {"reprimand": 2},
        {"warning": 1},
        {"dismissal": 1},
        {},
        {},
    ]
    for i, case_id in enumerate(corruption[:6]):
        insert_outcome(
            database,
            case_id,
            date(2026, 11, 10),
            found=BILLION if i < 5 else 0,
            recommended=800_000_000 if i < 5 else 0,
            sanctions=1 if i < 5 else 0,
            disciplines=disciplines[i],
        )
    insert_outcome(
        database, waste, date(2026, 11, 12), found=2_500_000_000, recommended=2 * BILLION
    )
    entries = []
    for i, case_id in enumerate(corruption[:5]):
        prosecuted = i < 2
        insert_referral(
            database,
            case_id,
            date(2026, 11, 2),
            verification_due_day=date(2026, 11, 22),
            result="prosecuted" if prosecuted else None,
            result_day=date(2026, 11, 20) if prosecuted else None,
        )
        entries.append(insert_recovery(database, case_id, date(2026, 11, 25), 300_000_000))
    insert_recovery(
        database, corruption[0], date(2026, 12, 1), -100_000_000, corrects_id=entries[0]
    )
    insert_recovery(database, waste, date(2026, 11, 26), 500_000_000)
    return {"corruption": corruption, "waste": [waste], "misconduct": misconduct}


def row_of(rows: tuple[OutcomeRow, ...], key: str) -> OutcomeRow:
    [row] = [row for row in rows if row.key == key]
    return row


# -- pure functions ---------------------------------------------------------------------


def test_an_amount_from_fewer_than_5_cases_is_withheld_whatever_its_size() -> None:
    assert AMOUNT_MIN_CASES == 5
    assert Amount.of(7 * BILLION, 4) == AMOUNT_SMALL
    assert Amount.of(1, 5) == Amount(1)
    assert Amount.of(0, 0) == Amount(0)


def test_a_single_small_amount_takes_the_one_from_fewest_cases_with_it() -> None:
    cells = suppress_amounts(
        [("a", 9 * BILLION, 20), ("b", BILLION, 1), ("c", 0, 0), ("d", 3 * BILLION, 6)]
    )
    assert cells == {
        "a": Amount(9 * BILLION),
        "b": AMOUNT_SMALL,
        "c": Amount(0),
        "d": AMOUNT_HIDDEN,
    }
    # Two small ones already hide each other.
    assert suppress_amounts([("a", 1, 2), ("b", 1, 3), ("d", 5, 6)])["d"] == Amount(5)


# -- the dashboard's tables ---------------------------------------------------------------


@pytest.mark.both_backends
def test_known_figures_by_category_month_and_sector(database: Database) -> None:
    seed_outcomes(database)
    with database.read_session() as db:
        stats = outcome_statistics(db, TODAY)

    total = stats.by_category.total
    assert total.counts == {
        Figure.RECEIVED: Count(16),
        Figure.ACCEPTED: Count(5),
        Figure.CONCLUDED: Count(7),
        Figure.REFERRED: Count(5),
        Figure.PROSECUTED: SMALL,
        Figure.DISCIPLINED: Count(6),
    }
    assert total.amounts == {
        Money.FOUND: Amount(7_500_000_000),
        Money.RECOMMENDED: Amount(6 * BILLION),
        Money.RECOVERED: Amount(1_900_000_000),  # the correction counts, in December
    }
    assert total.rate == 31.7
    # Every table splits the same totals.
    assert stats.by_month.total == total and stats.by_sector.total == total

    corruption = row_of(stats.by_category.rows, "corruption")
    waste = row_of(stats.by_category.rows, "waste")
    misconduct = row_of(stats.by_category.rows, "misconduct")
    # One waste case: its count is small, and the smallest other (misconduct's 5) hides.
    assert waste.counts[Figure.RECEIVED] == SMALL
    assert misconduct.counts[Figure.RECEIVED] == HIDDEN
    assert corruption.counts[Figure.RECEIVED] == Count(10)
    assert corruption.counts[Figure.CONCLUDED] == HIDDEN  # waste's 1 founded is small
    assert misconduct.counts[Figure.ACCEPTED] == Count(5)
    assert corruption.counts[Figure.DISCIPLINED] == Count(6)
    assert corruption.counts[Figure.REFERRED] == Count(5)
    assert corruption.counts[Figure.PROSECUTED] == SMALL
    # Amounts: waste's from one case is withheld although 2,5 tỷ is far above 5, and
    # corruption's (five cases) with it, or subtraction would give waste's away.
    assert waste.amounts[Money.FOUND] == AMOUNT_SMALL
    assert corruption.amounts[Money.FOUND] == AMOUNT_HIDDEN
    assert waste.amounts[Money.RECOVERED] == AMOUNT_SMALL
    assert corruption.amounts[Money.RECOVERED] == AMOUNT_HIDDEN
    assert corruption.rate is None
    assert misconduct.amounts[Money.FOUND] == Amount(0)  # no amount: nothing to hide

    months = [row.key for row in stats.by_month.rows]
    assert months == ["2026-09", "2026-10", "2026-11", "2026-12"]
    september, october, november, december = stats.by_month.rows
    assert september.counts[Figure.RECEIVED] == Count(5)
    assert october.counts[Figure.RECEIVED] == Count(11)
    assert october.counts[Figure.ACCEPTED] == Count(5)
    assert november.counts[Figure.CONCLUDED] == Count(7)
    assert november.amounts[Money.FOUND] == Amount(7_500_000_000)  # six cases
    # December's ledger line is one case's correction: withheld, and November's with it.
    assert december.amounts[Money.RECOVERED] == AMOUNT_SMALL
    assert november.amounts[Money.RECOVERED] == AMOUNT_HIDDEN

    education = row_of(stats.by_sector.rows, "education")
    assert education.counts[Figure.ACCEPTED] == Count(5)
    assert row_of(stats.by_sector.rows, "health").counts[Figure.RECEIVED] == SMALL


@pytest.mark.both_backends
def test_overdue_referrals_follow_the_one_rule(database: Database) -> None:
    seed_outcomes(database)
    # The seed's three referrals without a result belong to closed cases, whose
    # deadlines are all met (app.cases.deadlines). One more, of an open case:
    [open_case] = insert_cases(
        database,
        [case_row(unit_ids(database)["investigation"], status="routed_investigation")],
    )
    insert_referral(database, open_case, date(2026, 11, 2), verification_due_day=date(2026, 11, 22))

    def overdue(day: date) -> int:
        with database.read_session() as db:
            return int(
                db.scalar(
                    select(func.count())
                    .select_from(Referral)
                    .join(Case, Case.id == Referral.case_id)
                    .where(referral_overdue_clause(day))
                )
                or 0
            )

    assert (overdue(date(2026, 11, 22)), overdue(date(2026, 11, 23))) == (0, 1)
    with database.read_session() as db:
        assert outcome_statistics(db, date(2026, 11, 22)).referrals_overdue == Count(0)
        assert outcome_statistics(db, date(2026, 11, 23)).referrals_overdue == SMALL


def test_an_empty_installation_has_zeros_and_no_months(database: Database) -> None:
    with database.read_session() as db:
        stats = outcome_statistics(db, TODAY)
    assert stats.by_month.rows == ()
    assert stats.by_category.total.counts[Figure.RECEIVED] == Count(0)
    assert stats.by_category.total.amounts[Money.RECOVERED] == Amount(0)
    assert stats.by_category.total.rate is None


# -- quarters ---------------------------------------------------------------------------


@pytest.mark.both_backends
def test_quarter_figures_use_the_circulars_data_periods(database: Database) -> None:
    ids = seed_outcomes(database)
    # A case of 15/12 belongs to the next quarter (Q1 2027 starts on 15/12/2026).
    intake = unit_ids(database)["intake"]
    insert_cases(database, [case_row(intake, created_day=date(2026, 12, 15 + i)) for i in range(5)])
    # Closed unfounded at 18:00 UTC on 14/12: already 15/12 in Cần Thơ, so quarter I/2027.
    insert_cases(
        database,
        [
            case_row(
                intake,
                status="closed",
                resolution="unsubstantiated",
                created_day=date(2026, 12, 15),
                closed_at=datetime(2026, 12, 14, 18, 0, tzinfo=UTC),
            )
        ],
    )
    q3, q4, q1 = quarter(2026, 3), quarter(2026, 4), quarter(2027, 1)
    with database.read_session() as db:
        third, fourth, first = period_figures(db, [q3, q4, q1])
    assert fourth.counts == {
        Figure.RECEIVED: Count(16),
        Figure.ACCEPTED: Count(5),
        Figure.CONCLUDED: Count(7),
        Figure.HANDLED: Count(12),
        Figure.REFERRED: Count(5),
        Figure.PROSECUTED: SMALL,
        Figure.DISCIPLINED: Count(6),
        Figure.SANCTIONS: Count(5),
    }
    assert fourth.amounts == {
        Money.FOUND: Amount(7_500_000_000),
        Money.RECOMMENDED: Amount(6 * BILLION),
        Money.RECOVERED: Amount(1_900_000_000),
    }
    assert fourth.rate == 31.7
    assert fourth.disciplined_by_form[DisciplineForm.REPRIMAND] == SMALL  # 2 + 2 people
    assert fourth.disciplined_by_form[DisciplineForm.DEMOTION] == Count(0)
    assert third.counts[Figure.RECEIVED] == Count(0)
    assert first.counts[Figure.RECEIVED] == Count(6)
    assert first.counts[Figure.HANDLED] == SMALL  # the local day of the closing
    assert fourth.counts[Figure.HANDLED] == Count(12)
    assert len(ids["corruption"]) == 10


def test_the_number_of_queries_does_not_grow_with_the_cases(database: Database) -> None:
    def queries_for(extra: int) -> int:
        inspection = unit_ids(database)["inspection"]
        new = insert_cases(
            database,
            [case_row(inspection, created_day=TODAY - timedelta(days=i)) for i in range(extra)],
        )
        for case_id in new:
            insert_outcome(database, case_id, TODAY, found=BILLION)
            insert_recovery(database, case_id, TODAY, 1000)
        seen: list[Any] = []
        engine = database.engine
        listener = lambda *args: seen.append(args)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            with database.read_session() as db:
                outcome_statistics(db, TODAY)
                period_figures(db, [quarter(2026, 4)])
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    assert queries_for(1) == queries_for(30)
