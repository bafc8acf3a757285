"""What came of the reports (issue 14 §3, §4): acceptances, conclusions, referrals,
prosecutions, people disciplined and money, summed without a key.

Every figure is a SQL aggregate (``COUNT``, ``SUM``, ``GROUP BY``) over columns in
clear: a case's category, sector, arrival day, statutory decision and resolution, the
outcome figures and the referral and ledger rows (app.models.outcomes). No case row is
loaded into Python and nothing is decrypted; the ledger's notes are never read.

When an event counts. Each figure is dated by its own event, not by the day the report
arrived: a referral by its dispatch day, a prosecution by the day of the agency's
result, a conclusion (and the people disciplined and the amounts found and recommended
with it) by ``case_outcomes.concluded_day``, a case handled on the merits by that day or,
when unfounded (no outcome row), by the local day it was closed, a recovery by the ledger
entry's day, an acceptance by the statutory decision's day. So a closed period's figures are made of
days inside it only: what happens to an old case today shows in today's period, never
as a change to a published quarter (app.cases.public_statistics).

Suppression (app.cases.statistics explains the rule and its limits):

- counts of 1 to 4 are withheld (:data:`app.cases.statistics.THRESHOLD`), and the
  tables by month, category and sector, which split every column's total, withhold a
  second cell where a single small one could be recovered by subtraction;
- an amount built from fewer than :data:`AMOUNT_MIN_CASES` cases is withheld whatever
  its size, with the same complementary rule within a column. Counted are the cases
  that put a non-zero amount into the cell, not the rows of the table: ten conclusions
  of which one found money would otherwise publish that one case's sum exactly.
- the recovery rate (recovered over recommended) is shown only when both sums are.

What is not protected is what app.cases.statistics lists (differencing over time and
between tables that are not partitions), plus one more: the month, category and sector
tables each split the same totals, so a cell withheld in one may be bounded with
another's. There is no cross-tabulation (month x category x sector), which keeps this
to bounds on single cells.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    and_,
    cast,
    distinct,
    extract,
    func,
    literal,
    select,
)
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from app import clock
from app.cases.deadlines import referral_overdue_clause
from app.cases.referrals import current_referral_clause
from app.cases.reporting_periods import Quarter
from app.cases.statistics import (
    THRESHOLD,
    Count,
    Withheld,
    months_between,
    suppress_partition,
)
from app.models import Case, CaseOutcome, OutcomeDiscipline, RecoveryEntry, Referral
from app.models.vocabulary import (
    CaseStatus,
    Category,
    DisciplineForm,
    ReferralResult,
    Resolution,
    Sector,
    StatutoryDecision,
)

# An amount in đồng built from fewer cases than this is withheld. One or two cases'
# sums are often public or easy to guess (the press reports "1,2 tỷ đồng thất thoát"),
# and a sum that matches one case places that case in its month, category and sector -
# and, for those who know the case, narrows who could have reported it. The same
# number as the count threshold, kept as its own setting: it counts the cases behind
# a sum, not the sum.
AMOUNT_MIN_CASES = 5

FOUNDED = (Resolution.SUBSTANTIATED.value, Resolution.PARTLY_SUBSTANTIATED.value)
# Handled on the merits: founded, partly founded or unfounded. Insufficient information,
# duplicates and matters out of scope were not handled, each with that reason.
HANDLED = (*FOUNDED, Resolution.UNSUBSTANTIATED.value)


class Figure(StrEnum):
    """The counts, in the order the tables show them."""

    RECEIVED = "received"  # reports that arrived
    ACCEPTED = "accepted"  # named denunciations accepted (thụ lý, Luật Tố cáo art. 29)
    CONCLUDED = "concluded"  # concluded founded or partly founded
    HANDLED = "handled"  # concluded on the merits, founded or not
    REFERRED = "referred"  # referrals dispatched to the investigation agency
    PROSECUTED = "prosecuted"  # referrals on which the agency decided to prosecute
    DISCIPLINED = "disciplined"  # people disciplined, all forms
    SANCTIONS = "sanctions"  # administrative sanction decisions (xử phạt vi phạm hành chính)


class Money(StrEnum):
    FOUND = "found"  # damage or misappropriation found
    RECOMMENDED = "recommended"  # recovery recommended
    RECOVERED = "recovered"  # recovered: the ledger's entries, corrections included


DASHBOARD_FIGURES = (
    Figure.RECEIVED,
    Figure.ACCEPTED,
    Figure.CONCLUDED,
    Figure.REFERRED,
    Figure.PROSECUTED,
    Figure.DISCIPLINED,
)


@dataclass(frozen=True)
class Amount:
    """A sum in đồng as published: its value, or None and why it is withheld."""

    value: int | None
    withheld: Withheld | None = None

    @classmethod
    def of(cls, total: int, cases: int) -> Amount:
        if 0 < cases < AMOUNT_MIN_CASES:
            return cls(None, Withheld.SMALL)
        return cls(total)

    @property
    def count(self) -> Count:
        """The same value as a :class:`Count`, for the charts."""
        return Count(self.value, self.withheld)


def recovery_rate(recovered: Amount, recommended: Amount) -> float | None:
    """Recovered over recommended, in per cent with one decimal; None when either is
    withheld or nothing was recommended."""
    if recovered.value is None or not recommended.value:
        return None
    return round(100 * recovered.value / recommended.value, 1)


@dataclass(frozen=True)
class OutcomeRow:
    key: str  # "2026-11", a Category or Sector value, or "total"
    counts: Mapping[Figure, Count]
    amounts: Mapping[Money, Amount]

    @property
    def rate(self) -> float | None:
        return recovery_rate(self.amounts[Money.RECOVERED], self.amounts[Money.RECOMMENDED])


@dataclass(frozen=True)
class OutcomeTable:
    dimension: str  # "month", "category" or "sector"
    rows: tuple[OutcomeRow, ...]
    total: OutcomeRow


@dataclass(frozen=True)
class OutcomeStats:
    today: date
    by_month: OutcomeTable
    by_category: OutcomeTable
    by_sector: OutcomeTable
    referrals_overdue: Count


@dataclass(frozen=True)
class PeriodFigures:
    """One period's figures, each withheld on its own (periods are not a partition of a
    published total)."""

    period: Quarter
    counts: Mapping[Figure, Count]
    amounts: Mapping[Money, Amount]
    disciplined_by_form: Mapping[DisciplineForm, Count]

    @property
    def rate(self) -> float | None:
        return recovery_rate(self.amounts[Money.RECOVERED], self.amounts[Money.RECOMMENDED])


# -- the measures ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Measure:
    """One figure as SQL: the day that dates it, what a group adds up, how many cases
    are behind an amount, and where the rows come from."""

    day: Any
    value: Any
    cases: Any
    source: Callable[[Select[Any]], Select[Any]]


def _from_cases(where: Iterable[ColumnElement[bool]] = ()) -> Callable[[Select[Any]], Select[Any]]:
    return lambda q: q.select_from(Case).where(*where)


def _from_outcomes(
    where: Iterable[ColumnElement[bool]] = (),
) -> Callable[[Select[Any]], Select[Any]]:
    return lambda q: (
        q.select_from(CaseOutcome).join(Case, Case.id == CaseOutcome.case_id).where(*where)
    )


def _from_referrals(
    where: Iterable[ColumnElement[bool]] = (),
) -> Callable[[Select[Any]], Select[Any]]:
    return lambda q: q.select_from(Referral).join(Case, Case.id == Referral.case_id).where(*where)


def _cases_with(amount: Any) -> Any:
    return func.sum(sql_case((amount != 0, 1), else_=0))


def _none() -> Any:
    return literal(0)


_COMMON: dict[Figure | Money, _Measure] = {
    Figure.RECEIVED: _Measure(Case.created_day, func.count(), _none(), _from_cases()),
    Figure.ACCEPTED: _Measure(
        Case.statutory_decision_day,
        func.count(),
        _none(),
        _from_cases(
            [
                Case.statutory_decision == StatutoryDecision.ACCEPTED.value,
                Case.statutory_decision_day.is_not(None),
            ]
        ),
    ),
    Figure.CONCLUDED: _Measure(
        CaseOutcome.concluded_day,
        func.count(),
        _none(),
        _from_outcomes([Case.resolution.in_(FOUNDED)]),
    ),
    Figure.REFERRED: _Measure(Referral.dispatch_day, func.count(), _none(), _from_referrals()),
    Figure.PROSECUTED: _Measure(
        Referral.result_day,
        func.count(),
        _none(),
        _from_referrals(
            [
                Referral.result == ReferralResult.PROSECUTED.value,
                Referral.result_day.is_not(None),
            ]
        ),
    ),
    Figure.DISCIPLINED: _Measure(
        CaseOutcome.concluded_day,
        func.sum(OutcomeDiscipline.people),
        _none(),
        lambda q: (
            q.select_from(OutcomeDiscipline)
            .join(CaseOutcome, CaseOutcome.case_id == OutcomeDiscipline.case_id)
            .join(Case, Case.id == CaseOutcome.case_id)
        ),
    ),
    Figure.SANCTIONS: _Measure(
        CaseOutcome.concluded_day,
        func.sum(CaseOutcome.administrative_sanctions),
        _none(),
        _from_outcomes(),
    ),
    Money.FOUND: _Measure(
        CaseOutcome.concluded_day,
        func.sum(CaseOutcome.damage_found_vnd),
        _cases_with(CaseOutcome.damage_found_vnd),
        _from_outcomes(),
    ),
    Money.RECOMMENDED: _Measure(
        CaseOutcome.concluded_day,
        func.sum(CaseOutcome.recovery_recommended_vnd),
        _cases_with(CaseOutcome.recovery_recommended_vnd),
        _from_outcomes(),
    ),
    Money.RECOVERED: _Measure(
        RecoveryEntry.entry_day,
        func.sum(RecoveryEntry.amount_vnd),
        # Distinct cases: a case's entries and corrections are still one case.
        func.count(distinct(RecoveryEntry.case_id)),
        lambda q: q.select_from(RecoveryEntry).join(Case, Case.id == RecoveryEntry.case_id),
    ),
}


def _closing_day(dialect: str) -> Any:
    """The installation's local day a case was closed, from ``closed_at`` (naive UTC).

    Vietnam keeps one offset all year (UTC+7, no summer time), so a fixed shift by the
    zone's current offset gives the local day in SQL on both databases."""
    offset = clock.zone().utcoffset(datetime.now(UTC)) or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if dialect == "sqlite":
        return func.date(Case.closed_at, f"{minutes:+d} minutes")
    return cast(Case.closed_at + literal(timedelta(minutes=minutes)), Date)


def _measures(session: Session) -> dict[Figure | Money, _Measure]:
    """Every figure's measure. "Handled" counts closed cases concluded on the merits;
    an unfounded one has no outcome row (app.cases.outcomes records figures only for a
    founded conclusion), so it is dated by its outcome's day when there is one, else by
    the day it was closed."""
    handled = _Measure(
        func.coalesce(CaseOutcome.concluded_day, _closing_day(session.get_bind().dialect.name)),
        func.count(),
        _none(),
        lambda q: (
            q.select_from(Case)
            .outerjoin(CaseOutcome, CaseOutcome.case_id == Case.id)
            .where(
                Case.status == CaseStatus.CLOSED.value,
                Case.resolution.in_(HANDLED),
            )
        ),
    )
    return {**_COMMON, Figure.HANDLED: handled}


def _grouped(
    session: Session,
    measure: _Measure,
    keys: Sequence[Any],
    where: Sequence[ColumnElement[bool]] = (),
) -> list[tuple[tuple[Any, ...], int, int]]:
    """(key values, value, cases) per group of ``keys``."""
    query = measure.source(select(*keys, measure.value, measure.cases)).where(*where)
    if keys:
        query = query.group_by(*keys)
    return [
        (tuple(row[: len(keys)]), int(row[-2] or 0), int(row[-1] or 0))
        for row in session.execute(query)
    ]


# -- the dashboard: by month, category and sector ---------------------------------------

_Cell = tuple[str, str, str]  # ("YYYY-MM", category, sector)


def _month_keys(day: Any) -> list[Any]:
    return [extract("year", day), extract("month", day)]


def _cells(session: Session, measure: _Measure) -> tuple[Counter[_Cell], Counter[_Cell]]:
    """Value and cases per (month, category, sector): an intermediate result, never
    published (a cross-tabulation would defeat the suppression)."""
    values: Counter[_Cell] = Counter()
    cases: Counter[_Cell] = Counter()
    keys = [*_month_keys(measure.day), Case.category, Case.sector]
    for (year, month, category, sector), value, n in _grouped(
        session, measure, keys, [measure.day.is_not(None)]
    ):
        cell = (f"{int(year):04d}-{int(month):02d}", str(category), str(sector))
        values[cell] += value
        cases[cell] += n
    return values, cases


def _recovered_cases(session: Session) -> dict[str, Counter[str]]:
    """Distinct cases with ledger entries per month, category and sector, and in all:
    the (month, category, sector) cells cannot be added up for these, since one case's
    entries can fall in several months."""
    measure = _COMMON[Money.RECOVERED]
    found: dict[str, Counter[str]] = {}
    for dimension, keys in (
        ("month", _month_keys(measure.day)),
        ("category", [Case.category]),
        ("sector", [Case.sector]),
        ("total", []),
    ):
        counter: Counter[str] = Counter()
        for key, _, n in _grouped(session, measure, keys):
            if dimension == "month":
                counter[f"{int(key[0]):04d}-{int(key[1]):02d}"] = n
            else:
                counter[str(key[0]) if key else "total"] = n
        found[dimension] = counter
    return found


def suppress_amounts(values: Sequence[tuple[str, int, int]]) -> dict[str, Amount]:
    """(key, sum, cases) of a column whose cells add up to a published total: sums
    from fewer than 5 cases withheld, and when exactly one is, the other sum built
    from the fewest cases too (so it cannot be recovered by subtraction)."""
    small = [key for key, _, cases in values if 0 < cases < AMOUNT_MIN_CASES]
    complementary: set[str] = set()
    if len(small) == 1:
        others = [
            (cases, i, key) for i, (key, _, cases) in enumerate(values) if cases >= AMOUNT_MIN_CASES
        ]
        if others:
            complementary.add(min(others)[2])
    return {
        key: Amount(None, Withheld.COMPLEMENTARY) if key in complementary else Amount.of(v, n)
        for key, v, n in values
    }


def _table(
    dimension: str,
    keys: Sequence[str],
    pick: Callable[[_Cell], str],
    cells: Mapping[Figure | Money, tuple[Counter[_Cell], Counter[_Cell]]],
    recovered_cases: Mapping[str, Counter[str]],
) -> OutcomeTable:
    counts: dict[Figure, dict[str, Count]] = {}
    amounts: dict[Money, dict[str, Amount]] = {}
    totals_counts: dict[Figure, Count] = {}
    totals_amounts: dict[Money, Amount] = {}
    for figure in DASHBOARD_FIGURES:
        values, _ = cells[figure]
        per_key: Counter[str] = Counter()
        for cell, value in values.items():
            per_key[pick(cell)] += value
        column = suppress_partition([(key, per_key[key]) for key in keys])
        counts[figure] = {row.key: row.count for row in column}
        totals_counts[figure] = Count.of(per_key.total())
    for money in Money:
        values, cases = cells[money]
        sums: Counter[str] = Counter()
        behind: Counter[str] = Counter()
        for cell, value in values.items():
            sums[pick(cell)] += value
        if money is Money.RECOVERED:
            behind = recovered_cases[dimension]
            total_cases = recovered_cases["total"]["total"]
        else:
            for cell, n in cases.items():
                behind[pick(cell)] += n
            total_cases = cases.total()
        amounts[money] = suppress_amounts([(key, sums[key], behind[key]) for key in keys])
        totals_amounts[money] = Amount.of(sums.total(), total_cases)
    rows = tuple(
        OutcomeRow(
            key,
            {figure: counts[figure][key] for figure in DASHBOARD_FIGURES},
            {money: amounts[money][key] for money in Money},
        )
        for key in keys
    )
    return OutcomeTable(dimension, rows, OutcomeRow("total", totals_counts, totals_amounts))


def _referrals_overdue(session: Session, today: date) -> Count:
    # The rule is app.cases.deadlines'; a case's current referral only (an earlier one
    # came back with a result before the next was sent), of a case that still exists.
    n = session.scalar(
        select(func.count())
        .select_from(Referral)
        .join(Case, Case.id == Referral.case_id)
        .where(current_referral_clause(), referral_overdue_clause(today))
    )
    return Count.of(int(n or 0))


def outcome_statistics(session: Session, today: date) -> OutcomeStats:
    """The outcome tables of the oversight dashboard, already suppressed."""
    cells = {name: _cells(session, _COMMON[name]) for name in (*DASHBOARD_FIGURES, *Money)}
    recovered_cases = _recovered_cases(session)
    seen = {cell[0] for values, _ in cells.values() for cell in values}
    months: list[str] = []
    if seen:
        first_year, first_month = (int(part) for part in min(seen).split("-"))
        months = months_between(date(first_year, first_month, 1), today)
        # An event dated after ``today`` (a clock skew, a typo in a day) still counts.
        months += sorted(key for key in seen if key not in months)
    return OutcomeStats(
        today=today,
        by_month=_table("month", months, lambda c: c[0], cells, recovered_cases),
        by_category=_table(
            "category", [c.value for c in Category], lambda c: c[1], cells, recovered_cases
        ),
        by_sector=_table(
            "sector", [s.value for s in Sector], lambda c: c[2], cells, recovered_cases
        ),
        referrals_overdue=_referrals_overdue(session, today),
    )


# -- periods: the quarterly report and the public page -----------------------------------


def _bucket(day: Any, periods: Sequence[Quarter]) -> Any:
    """The index of the period ``day`` falls in (-1: none), as SQL."""
    return sql_case(
        *[
            (and_(day >= period.first_day, day <= period.last_day), i)
            for i, period in enumerate(periods)
        ],
        else_=-1,
    ).label("period")


def period_figures(session: Session, periods: Sequence[Quarter]) -> list[PeriodFigures]:
    """The figures of each period in ``periods``, each cell withheld on its own: one
    query per figure, grouped by period."""
    if not periods:
        return []
    first = min(p.first_day for p in periods)
    last = max(p.last_day for p in periods)
    exact: dict[Figure | Money, dict[int, tuple[int, int]]] = {}
    for name, measure in _measures(session).items():
        bucket = _bucket(measure.day, periods)
        where = [measure.day >= first, measure.day <= last]
        exact[name] = {
            int(key[0]): (value, n) for key, value, n in _grouped(session, measure, [bucket], where)
        }
    forms = _disciplined_by_form(session, periods, first, last)
    result = []
    for i, period in enumerate(periods):
        counts = {figure: Count.of(exact[figure].get(i, (0, 0))[0]) for figure in Figure}
        amounts = {money: Amount.of(*exact[money].get(i, (0, 0))) for money in Money}
        result.append(
            PeriodFigures(
                period,
                counts,
                amounts,
                {form: Count.of(forms[i][form.value]) for form in DisciplineForm},
            )
        )
    return result


def _disciplined_by_form(
    session: Session, periods: Sequence[Quarter], first: date, last: date
) -> dict[int, Counter[str]]:
    bucket = _bucket(CaseOutcome.concluded_day, periods)
    rows = session.execute(
        select(bucket, OutcomeDiscipline.form, func.sum(OutcomeDiscipline.people))
        .select_from(OutcomeDiscipline)
        .join(CaseOutcome, CaseOutcome.case_id == OutcomeDiscipline.case_id)
        .join(Case, Case.id == CaseOutcome.case_id)
        .where(CaseOutcome.concluded_day >= first, CaseOutcome.concluded_day <= last)
        .group_by(bucket, OutcomeDiscipline.form)
    )
    found: dict[int, Counter[str]] = {i: Counter() for i in range(len(periods))}
    for i, form, people in rows:
        if int(i) in found:
            found[int(i)][str(form)] += int(people or 0)
    return found


__all__ = [
    "AMOUNT_MIN_CASES",
    "THRESHOLD",
    "Amount",
    "Figure",
    "Money",
    "OutcomeRow",
    "OutcomeStats",
    "OutcomeTable",
    "PeriodFigures",
    "outcome_statistics",
    "period_figures",
    "recovery_rate",
    "suppress_amounts",
]
