"""Oversight statistics: counts and timings for the steering committee, never content.

Everything here is computed with SQL aggregates (``GROUP BY``, ``COUNT``, ``SUM``) over
the columns that are in clear: category, sector, status, holding unit, the day a case
arrived, its deadlines and the times it was acknowledged and decided. Nothing is
decrypted: four scans of ``cases`` (the one-way counts with the overdue sums, the
months, the two timing histograms), one of the routing events and one of the protection
requests, whatever the number of cases. At 100,000 cases that is about half a second on
SQLite and on PostgreSQL (a busy development machine, cold planner). One exception
loads rows: the statutory overdue counts read the open named denunciations, whose last
days come from the work calendar (:func:`_statutory_overdue`).

Small-count suppression
-----------------------
A count of 1 to 4 is never published: it is a :class:`Count` whose ``value`` is None
and whose ``withheld`` is :attr:`Withheld.SMALL`, shown as "< 5". 0 stays 0 (an empty
category tells nobody anything about a reporter). A median computed over fewer than 5
cases is withheld the same way ("< 5 cases"), and so is the number of cases behind it.
The exact value of a withheld count never leaves this module, so no template or export
can print it by mistake.

What is also protected (complementary suppression). The tables by category, sector,
status, holding unit and month each split *all* cases, and the total is published, so a
single withheld cell could be recovered by subtraction (total minus the other cells).
When a table has exactly one small cell, the smallest other non-zero cell is withheld
too (:attr:`Withheld.COMPLEMENTARY`, shown as "withheld"). The routing table by current
status reuses the status table's counts, so both show the same cells withheld.

What is NOT protected, knowingly:

- Differencing over time: two dashboards a day apart show which counts moved, so a
  reader who watches daily learns that, say, one more health case arrived on Tuesday.
  Only coarsening (months, not days, is all we group by) and the threshold limit this.
- Differencing between tables that are not partitions: "ever routed to inspection"
  minus "now routed to inspection", or overdue counts against status counts, can give
  a small exact difference.
- A reader who knows the complementary rule learns that the second withheld cell is at
  least 5 and so bounds the small one (with the pair's sum 6, it is exactly 1). A
  rule that closes this (and every bound) needs a full cell-suppression solver; the
  tables are one-dimensional, with no cross-tabulation, which keeps the real risk low.
- Unique matters (duplicate groups counted once) is published beside the total; their
  difference, the number of cases merged into another as duplicates, can be small and
  exact. It says how often staff found a report duplicated, nothing about who reported.
- Zero cells are exact on purpose: with the total under 5, they show in which few
  categories the handful of cases fall (but not how many in each).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    cast,
    distinct,
    extract,
    func,
    select,
    type_coerce,
)
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON, Date

from app import audit
from app.actors import reviewer_actor
from app.cases.deadlines import missed_clauses, overdue_clause, protection_missed_clause
from app.cases.legal_process import open_named_states
from app.cases.unique_matters import unique_matters
from app.models import AuditEvent, Case, ProtectionRequest, Unit
from app.models.vocabulary import CaseStatus, Category, Sector

THRESHOLD = 5
SMALL_LABEL = "< 5"
WITHHELD_LABEL = "withheld"
ROUTE_KINDS = {
    "inspection": CaseStatus.ROUTED_INSPECTION.value,
    "investigation": CaseStatus.ROUTED_INVESTIGATION.value,
}


class Withheld(StrEnum):
    SMALL = "small"  # 1 to 4: shown as "< 5"
    COMPLEMENTARY = "complementary"  # would give a small cell away by subtraction


@dataclass(frozen=True)
class Count:
    """A count as published: its value, or None and the reason it is withheld."""

    value: int | None
    withheld: Withheld | None = None

    @classmethod
    def of(cls, value: int) -> Count:
        if 0 < value < THRESHOLD:
            return cls(None, Withheld.SMALL)
        return cls(value)

    @property
    def label(self) -> str:
        """For the CSV and the charts: the number, "< 5" or "withheld"."""
        if self.withheld is Withheld.SMALL:
            return SMALL_LABEL
        if self.withheld is Withheld.COMPLEMENTARY:
            return WITHHELD_LABEL
        return str(self.value)


@dataclass(frozen=True)
class Row:
    key: str
    count: Count


@dataclass(frozen=True)
class Median:
    """Median days over ``cases`` cases; ``days`` is None when they are fewer than 5."""

    days: float | None
    cases: Count

    @property
    def label(self) -> str:
        """Days for the CSV: empty when withheld or when there is no case yet."""
        return "" if self.days is None else f"{self.days:g}"


@dataclass(frozen=True)
class UnitName:
    vi: str
    en: str

    def name(self, locale: str) -> str:
        return self.en if locale == "en" else self.vi


@dataclass(frozen=True)
class OversightStats:
    today: date
    total: Count
    # Cases with every group of duplicates counted once (app.cases.unique_matters).
    unique_matters: Count
    by_category: tuple[Row, ...]
    by_sector: tuple[Row, ...]
    by_status: tuple[Row, ...]
    by_unit: tuple[Row, ...]  # keys are unit slugs; names in ``unit_names``
    by_month: tuple[Row, ...]  # keys "YYYY-MM", every month from the first case to today
    routed_now: tuple[Row, ...]  # keys "inspection", "investigation"
    routed_ever: tuple[Row, ...]
    days_to_acknowledge: Median
    days_to_decide: Median
    overdue: tuple[Row, ...]  # keys "acknowledge", "decision", "feedback", "any"
    unit_names: Mapping[str, UnitName]
    # Named denunciations past a statutory last day: keys "acceptance", "resolution".
    statutory_overdue: tuple[Row, ...] = ()
    # Whistleblower protection requests not answered: keys "open", "overdue".
    protection: tuple[Row, ...] = ()


def suppress_partition(values: Sequence[tuple[str, int]]) -> tuple[Row, ...]:
    """Rows of a table whose cells add up to the published total: small cells withheld,
    and, when that leaves exactly one withheld, the smallest other non-zero cell too."""
    small = [key for key, value in values if 0 < value < THRESHOLD]
    complementary: set[str] = set()
    if len(small) == 1:
        # Ties are broken by the table's own order, so the choice is stable.
        others = [(value, i, key) for i, (key, value) in enumerate(values) if value >= THRESHOLD]
        if others:
            complementary.add(min(others)[2])
    return tuple(
        Row(key, Count(None, Withheld.COMPLEMENTARY) if key in complementary else Count.of(v))
        for key, v in values
    )


@dataclass(frozen=True)
class _Tallies:
    """Exact counts, before suppression; they never leave this module."""

    total: int
    category: Counter[str]
    sector: Counter[str]
    status: Counter[str]
    unit: Counter[int]
    overdue: Counter[str]


def _late(today: date) -> dict[str, ColumnElement[bool]]:
    # Overdue is app.cases.deadlines' rule, per deadline and for any of them.
    late: dict[str, ColumnElement[bool]] = {
        kind.value: clause for kind, clause in missed_clauses(today).items()
    }
    late["any"] = overdue_clause(today)
    return late


def _tallies(session: Session, today: date) -> _Tallies:
    """One scan of ``cases``: counts per (category, sector, status, unit) combination,
    with the overdue sums, added up here into the one-way tables. The combinations are
    at most 7 × 9 × 6 × units rows, whatever the number of cases; they are an
    intermediate result and are never published (a cross-tabulation would defeat the
    suppression)."""
    late = _late(today)
    groups = (Case.category, Case.sector, Case.status, Case.holding_unit_id)
    sums = [func.sum(sql_case((condition, 1), else_=0)) for condition in late.values()]
    category: Counter[str] = Counter()
    sector: Counter[str] = Counter()
    status: Counter[str] = Counter()
    unit: Counter[int] = Counter()
    overdue: Counter[str] = Counter()
    for cat, sec, stat, unit_id, n, *late_sums in session.execute(
        select(*groups, func.count(), *sums).group_by(*groups)
    ):
        category[cat] += int(n)
        sector[sec] += int(n)
        status[stat] += int(n)
        unit[unit_id] += int(n)
        for kind, value in zip(late, late_sums, strict=True):
            overdue[kind] += int(value or 0)
    return _Tallies(category.total(), category, sector, status, unit, overdue)


def _days_between(session: Session, moment: Any) -> ColumnElement[int]:
    """Whole days from the day a case arrived to the (UTC) day of ``moment``."""
    if session.get_bind().dialect.name == "sqlite":
        # The instant's julian day minus the arrival day's (a midnight), truncated: the
        # same whole days as date(moment) - created_day, with one date parse fewer.
        return cast(func.julianday(moment) - func.julianday(Case.created_day), Integer)
    return cast(cast(moment, Date) - Case.created_day, Integer)


def median_of_histogram(histogram: Iterable[tuple[int, int]]) -> tuple[float | None, int]:
    """Median of values given as (value, how many); (None, 0) when there are none."""
    ordered = sorted(histogram)
    n = sum(count for _, count in ordered)
    if n == 0:
        return None, 0
    # The two middle positions (equal when n is odd), 0-based.
    wanted = [(n - 1) // 2, n // 2]
    found: list[int] = []
    seen = 0
    for value, count in ordered:
        while wanted and wanted[0] < seen + count:
            found.append(value)
            wanted.pop(0)
        seen += count
    return (found[0] + found[1]) / 2, n


def _median_days(session: Session, moment: Any) -> Median:
    # A histogram of whole days (a few hundred rows at most), not one row per case.
    days = _days_between(session, moment).label("days")
    histogram = session.execute(
        select(days, func.count()).where(moment.is_not(None)).group_by(days)
    ).all()
    value, n = median_of_histogram((int(d), int(c)) for d, c in histogram)
    if n < THRESHOLD:
        return Median(None, Count.of(n))
    return Median(value, Count(n))


def months_between(first: date, today: date) -> list[str]:
    months = []
    year, month = first.year, first.month
    while (year, month) <= (today.year, today.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _by_month(session: Session, today: date) -> tuple[Row, ...]:
    year = extract("year", Case.created_day)
    month = extract("month", Case.created_day)
    counts = {
        f"{int(y):04d}-{int(m):02d}": int(n)
        for y, m, n in session.execute(select(year, month, func.count()).group_by(year, month))
    }
    if not counts:
        return ()
    first_year, first_month = (int(part) for part in min(counts).split("-"))
    keys = months_between(date(first_year, first_month, 1), today)
    # A case dated after ``today`` (clock skew between machines) still counts.
    keys += sorted(k for k in counts if k not in keys)
    return suppress_partition([(k, counts.get(k, 0)) for k in keys])


def _routed_ever(session: Session) -> tuple[Row, ...]:
    """Cases with at least one "case.routed" event to each kind of unit. The event's
    ``to`` detail is the status the routing set, which names the kind. Only cases that
    still exist are counted (purged ones left the other tables too), so these numbers
    never exceed the total."""
    # The details are JSON in a text column: PostgreSQL needs a CAST to read into it,
    # while on SQLite a CAST to an unknown type name would turn the text into 0.
    details: ColumnElement[Any]
    if session.get_bind().dialect.name == "sqlite":
        details = type_coerce(AuditEvent.details, JSON)
    else:
        details = cast(AuditEvent.details, JSON)
    target = details["to"].as_string()
    rows = session.execute(
        select(target, func.count(distinct(AuditEvent.case_id)))
        .join(Case, Case.id == AuditEvent.case_id)
        .where(AuditEvent.action == "case.routed")
        .group_by(target)
    ).all()
    counts = {status: int(n) for status, n in rows}
    return tuple(Row(kind, Count.of(counts.get(status, 0))) for kind, status in ROUTE_KINDS.items())


def _statutory_overdue(session: Session, today: date) -> tuple[Row, ...]:
    """Open named denunciations past their acceptance or resolution day. The days come
    from the work calendar (holidays, announced days off) and are not stored - a stored
    day would go stale when the calendar file gains a day - so the open named cases are
    loaded, one row each, and judged in Python (app.cases.legal_process.open_named_states,
    whose overdue rule is app.cases.deadlines.statutory_missed). Nothing is decrypted."""
    acceptance = resolution = 0
    for _case_id, state in open_named_states(session, today):
        acceptance += state.acceptance_overdue
        resolution += state.resolution_overdue
    return (
        Row("acceptance", Count.of(acceptance)),
        Row("resolution", Count.of(resolution)),
    )


def _protection(session: Session, today: date) -> tuple[Row, ...]:
    """Unanswered protection requests, and those of them past their due day
    (app.cases.deadlines.protection_missed_clause), in one aggregate."""
    open_count, overdue = session.execute(
        select(
            func.count(),
            func.sum(sql_case((protection_missed_clause(today), 1), else_=0)),
        ).where(ProtectionRequest.answered_at.is_(None))
    ).one()
    return (
        Row("open", Count.of(int(open_count or 0))),
        Row("overdue", Count.of(int(overdue or 0))),
    )


def oversight_statistics(session: Session, today: date) -> OversightStats:
    """Every number of the oversight dashboard, already suppressed."""
    counted = _tallies(session, today)
    units = session.scalars(select(Unit).order_by(Unit.id)).all()
    by_status = suppress_partition([(s.value, counted.status[s.value]) for s in CaseStatus])
    status_count = {row.key: row.count for row in by_status}
    return OversightStats(
        today=today,
        total=Count.of(counted.total),
        unique_matters=Count.of(unique_matters(session)),
        by_category=suppress_partition([(c.value, counted.category[c.value]) for c in Category]),
        by_sector=suppress_partition([(s.value, counted.sector[s.value]) for s in Sector]),
        by_status=by_status,
        by_unit=suppress_partition([(u.slug, counted.unit[u.id]) for u in units]),
        by_month=_by_month(session, today),
        routed_now=tuple(Row(kind, status_count[s]) for kind, s in ROUTE_KINDS.items()),
        routed_ever=_routed_ever(session),
        days_to_acknowledge=_median_days(session, Case.acknowledged_at),
        days_to_decide=_median_days(session, Case.decided_at),
        overdue=tuple(Row(kind, Count.of(counted.overdue[kind])) for kind in _late(today)),
        unit_names={u.slug: UnitName(u.name_vi, u.name_en) for u in units},
        statutory_overdue=_statutory_overdue(session, today),
        protection=_protection(session, today),
    )


def record_dashboard_use(session: Session, reviewer_id: int, *, exported: bool) -> None:
    """Every view and CSV download of the dashboard is audited (the caller commits)."""
    action = "dashboard.exported" if exported else "dashboard.viewed"
    audit.record(session, actor=reviewer_actor(reviewer_id), action=action)


def export_rows(stats: OversightStats) -> list[tuple[str, str, str]]:
    """(table, key, value) for the CSV download: the same numbers as the page, with
    "< 5" and "withheld" where the page shows them."""
    rows: list[tuple[str, str, str]] = [
        ("total", "cases", stats.total.label),
        ("total", "unique_matters", stats.unique_matters.label),
    ]
    tables = (
        ("category", stats.by_category),
        ("sector", stats.by_sector),
        ("status", stats.by_status),
        ("holding_unit", stats.by_unit),
        ("month", stats.by_month),
        ("routed_now", stats.routed_now),
        ("routed_ever", stats.routed_ever),
        ("overdue", stats.overdue),
        ("statutory_overdue", stats.statutory_overdue),
        ("protection_requests", stats.protection),
    )
    for table, table_rows in tables:
        rows.extend((table, row.key, row.count.label) for row in table_rows)
    for table, median in (
        ("median_days_to_acknowledge", stats.days_to_acknowledge),
        ("median_days_to_decide", stats.days_to_decide),
    ):
        rows.append((table, "days", median.label))
        rows.append((table, "cases", median.cases.label))
    return rows
