"""Oversight statistics: known numbers from a known set of cases, small-count
suppression (1-4 → "< 5", 5 stays 5, 0 stays 0), complementary suppression, medians,
overdue counts, and SQL aggregates only (the number of queries does not grow with
the number of cases)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from app import audit, clock
from app.cases.statistics import (
    Count,
    Median,
    Row,
    Withheld,
    export_rows,
    median_of_histogram,
    oversight_statistics,
    suppress_partition,
)
from app.database import Database
from config import Settings
from tests.factories import case_row, insert_cases, submit_case, unit_ids

TODAY = date(2026, 6, 15)
SMALL = Count(None, Withheld.SMALL)
HIDDEN = Count(None, Withheld.COMPLEMENTARY)


def at(day: date, plus_days: int) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC) + timedelta(days=plus_days)


def seed_known_cases(database: Database) -> dict[str, list[str]]:
    """15 cases whose every statistic is worked out by hand (see the expectations in
    ``test_known_numbers``)."""
    units = unit_ids(database)
    intake, inspection = units["intake"], units["inspection"]
    later = {"decision_due": date(2026, 7, 1), "feedback_due": date(2026, 9, 1)}
    new = [
        case_row(intake, created_day=d, acknowledge_due=due, **later)
        for d, due in (
            (date(2026, 6, 1), date(2026, 6, 8)),
            (date(2026, 6, 2), date(2026, 6, 8)),
            (date(2026, 6, 3), date(2026, 6, 8)),
            (date(2026, 6, 10), date(2026, 6, 17)),  # not yet due
            (date(2026, 5, 20), date(2026, 5, 27)),
        )
    ]
    triage = [
        case_row(
            intake,
            status="triage",
            category="corruption" if i < 2 else "waste",
            created_day=date(2026, 5, 1 + i),
            acknowledge_due=date(2026, 5, 8 + i),
            acknowledged_at=at(date(2026, 5, 1 + i), i + 1),  # 1..5 days
            decision_due=date(2026, 6, 1),  # overdue: not decided
            feedback_due=date(2026, 9, 1),
        )
        for i in range(5)
    ]
    routed = [
        case_row(
            inspection,
            status="routed_inspection",
            category="waste",
            sector="education",
            created_day=date(2026, 4, 1 + i),
            acknowledged_at=at(date(2026, 4, 1 + i), 1),
            decided_at=at(date(2026, 4, 1 + i), 10 * (i + 1)),  # 10, 20, 30 days
            acknowledge_due=date(2026, 4, 8),
            decision_due=date(2026, 5, 1),
            feedback_due=date(2026, 6, 10),  # overdue: no feedback yet
        )
        for i in range(3)
    ]
    closed = [
        case_row(
            inspection,
            status="closed",
            resolution="substantiated",
            category="misconduct",
            sector="education",
            created_day=date(2026, 4, 4 + i),
            acknowledged_at=at(date(2026, 4, 4 + i), 3 + i),  # 3, 4 days
            decided_at=at(date(2026, 4, 4 + i), 40 + 10 * i),  # 40, 50 days
            closed_at=at(date(2026, 4, 4 + i), 60),
            acknowledge_due=date(2026, 4, 1),  # all past, but a closed case is never late
            decision_due=date(2026, 4, 1),
            feedback_due=date(2026, 4, 1),
        )
        for i in range(2)
    ]
    ids = {
        "new": insert_cases(database, new),
        "triage": insert_cases(database, triage),
        "routed": insert_cases(database, routed),
        "closed": insert_cases(database, closed),
    }
    with database.session() as db:
        for case_id in ids["routed"] + ids["closed"]:
            route_event(db, case_id, "routed_inspection")
        # Routed twice to inspection: still one case. Once to investigation before.
        route_event(db, ids["routed"][0], "routed_inspection")
        route_event(db, ids["closed"][0], "routed_investigation")
        # A purged case leaves its events behind; it is no longer counted anywhere.
        route_event(db, "f" * 32, "routed_investigation")
    return ids


def route_event(db: Any, case_id: str, to: str) -> None:
    audit.record(
        db,
        actor="reviewer:1",
        action="case.routed",
        case_id=case_id,
        details={"from_unit": "intake", "to_unit": to.split("_")[1], "from": "triage", "to": to},
    )


def stats_of(database: Database, today: date = TODAY) -> Any:
    with database.read_session() as db:
        return oversight_statistics(db, today)


def table(rows: tuple[Row, ...]) -> dict[str, Count]:
    return {row.key: row.count for row in rows}


# -- pure functions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, Count(0)), (1, SMALL), (4, SMALL), (5, Count(5)), (12345, Count(12345))],
)
def test_counts_from_1_to_4_are_withheld(value: int, expected: Count) -> None:
    assert Count.of(value) == expected
    assert Count.of(value).label == ("< 5" if expected.withheld else str(value))


def test_a_single_small_cell_takes_the_smallest_other_with_it() -> None:
    rows = suppress_partition([("a", 20), ("b", 2), ("c", 0), ("d", 6), ("e", 9)])
    assert table(rows) == {"a": Count(20), "b": SMALL, "c": Count(0), "d": HIDDEN, "e": Count(9)}
    assert [row.count.label for row in rows] == ["20", "< 5", "0", "withheld", "9"]


def test_two_small_cells_need_no_complement() -> None:
    rows = suppress_partition([("a", 20), ("b", 2), ("c", 3), ("d", 6)])
    assert table(rows) == {"a": Count(20), "b": SMALL, "c": SMALL, "d": Count(6)}


def test_no_complement_without_a_larger_cell() -> None:
    assert table(suppress_partition([("a", 3), ("b", 0)])) == {"a": SMALL, "b": Count(0)}


def test_ties_for_the_complement_are_broken_by_order() -> None:
    rows = suppress_partition([("a", 7), ("b", 1), ("c", 7)])
    assert table(rows) == {"a": HIDDEN, "b": SMALL, "c": Count(7)}


@pytest.mark.parametrize(
    ("histogram", "expected"),
    [
        ([], (None, 0)),
        ([(3, 1)], (3, 1)),
        ([(1, 1), (9, 1)], (5, 2)),
        ([(5, 1), (1, 4), (2, 1), (3, 2), (4, 2)], (2.5, 10)),
        ([(5, 1), (1, 4), (2, 2), (3, 2), (4, 1)], (2, 10)),
        ([(0, 3), (7, 1), (100, 1)], (0, 5)),
    ],
)
def test_median_of_a_histogram(
    histogram: list[tuple[int, int]], expected: tuple[float | None, int]
) -> None:
    assert median_of_histogram(histogram) == expected


# -- from the database ------------------------------------------------------------------


@pytest.mark.both_backends
def test_known_numbers(database: Database) -> None:
    seed_known_cases(database)
    stats = stats_of(database)
    assert stats.total == Count(15)
    assert table(stats.by_category) == {
        "corruption": Count(7),
        "waste": HIDDEN,  # misconduct (2) could be had as 15 - 7 - 6 otherwise
        "misconduct": SMALL,
        "harassment": Count(0),
        "conflict_of_interest": Count(0),
        "asset_declaration": Count(0),
        "other": Count(0),
    }
    sectors = table(stats.by_sector)
    assert sectors["health"] == Count(10) and sectors["education"] == Count(5)
    assert {k for k, v in sectors.items() if v != Count(0)} == {"health", "education"}
    assert table(stats.by_status) == {
        "new": Count(5),
        "triage": Count(5),
        "needs_info": Count(0),
        "routed_inspection": SMALL,
        "routed_investigation": Count(0),
        "closed": SMALL,
    }
    assert table(stats.by_unit) == {
        "intake": Count(10),
        "inspection": Count(5),
        "investigation": Count(0),
        "oversight": Count(0),
    }
    assert stats.unit_names["inspection"].name("en") == "City Inspectorate"
    # April (5) goes with June (4): the smaller of the two other months.
    assert [(r.key, r.count) for r in stats.by_month] == [
        ("2026-04", HIDDEN),
        ("2026-05", Count(6)),
        ("2026-06", SMALL),
    ]
    assert table(stats.routed_now) == {"inspection": SMALL, "investigation": Count(0)}
    assert table(stats.routed_ever) == {"inspection": Count(5), "investigation": SMALL}
    # Acknowledged after 1,2,3,4,5 (triage), 1,1,1 (routed), 3,4 (closed) days: the
    # middle two of 1,1,1,1,2,3,3,4,4,5 are 2 and 3.
    assert stats.days_to_acknowledge == Median(2.5, Count(10))
    # Decided after 10, 20, 30 (routed), 40, 50 (closed): exactly five cases is enough.
    assert stats.days_to_decide == Median(30, Count(5))
    assert table(stats.overdue) == {
        "acknowledge": SMALL,  # four new cases past their date, one not yet due
        "decision": Count(5),  # the triage cases
        "feedback": SMALL,  # the routed cases; closed ones are never late
        "any": Count(12),
    }


@pytest.mark.both_backends
def test_export_rows_carry_the_same_numbers(database: Database) -> None:
    seed_known_cases(database)
    rows = export_rows(stats_of(database))
    assert ("total", "cases", "15") in rows
    assert ("category", "misconduct", "< 5") in rows
    assert ("category", "waste", "withheld") in rows
    assert ("sector", "education", "5") in rows
    assert ("holding_unit", "inspection", "5") in rows
    assert ("month", "2026-06", "< 5") in rows
    assert ("routed_ever", "investigation", "< 5") in rows
    assert ("overdue", "any", "12") in rows
    assert ("median_days_to_acknowledge", "days", "2.5") in rows
    assert ("median_days_to_decide", "cases", "5") in rows
    # No number between 1 and 4 is ever written out.
    assert not [r for r in rows if r[2] in {"1", "2", "3", "4"} and r[1] != "days"]


@pytest.mark.both_backends
def test_medians_over_fewer_than_five_cases_are_withheld(database: Database) -> None:
    intake = unit_ids(database)["intake"]
    insert_cases(
        database,
        [
            case_row(intake, status="triage", acknowledged_at=at(TODAY, d), created_day=TODAY)
            for d in (1, 2, 3)
        ],
    )
    stats = stats_of(database, TODAY + timedelta(days=10))
    assert stats.days_to_acknowledge == Median(None, SMALL)
    assert stats.days_to_decide == Median(None, Count(0))
    rows = export_rows(stats)
    assert ("median_days_to_acknowledge", "days", "") in rows
    assert ("median_days_to_acknowledge", "cases", "< 5") in rows
    assert ("median_days_to_decide", "cases", "0") in rows
    assert stats.total == SMALL


@pytest.mark.both_backends
def test_an_empty_installation(database: Database) -> None:
    stats = stats_of(database)
    assert stats.total == Count(0)
    assert stats.by_month == ()
    assert all(row.count == Count(0) for row in stats.by_category + stats.overdue)
    assert stats.days_to_acknowledge == Median(None, Count(0))


@pytest.mark.both_backends
def test_submitted_cases_are_counted(database: Database, settings: Settings) -> None:
    for _ in range(5):
        submit_case(database, settings, category="waste")
    for category in ("harassment", "other"):  # two small cells: no complement needed
        submit_case(database, settings, category=category)
    today = clock.today()  # the local day the cases were received on
    stats = stats_of(database, today)
    assert stats.total == Count(7)
    categories = table(stats.by_category)
    assert categories["waste"] == Count(5)
    assert categories["harassment"] == categories["other"] == SMALL
    assert table(stats.by_status)["new"] == Count(7)
    assert table(stats.by_unit)["intake"] == Count(7)
    assert stats.by_month[-1].key == today.strftime("%Y-%m")
    # Acknowledgment is due in a week: nothing is late yet, and a week later all are.
    assert table(stats.overdue)["acknowledge"] == Count(0)
    later = stats_of(database, today + timedelta(days=settings.deadlines.acknowledge_days + 1))
    assert table(later.overdue)["acknowledge"] == Count(7)


@pytest.mark.both_backends
def test_the_number_of_queries_does_not_grow_with_the_cases(database: Database) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    intake = unit_ids(database)["intake"]
    months = [date(2025, m, 1) for m in range(1, 13)]

    def queries() -> int:
        statements.clear()
        event.listen(database.engine, "before_cursor_execute", count)
        try:
            stats_of(database)
        finally:
            event.remove(database.engine, "before_cursor_execute", count)
        return len(statements)

    insert_cases(database, [case_row(intake, created_day=months[i % 12]) for i in range(20)])
    few = queries()
    insert_cases(database, [case_row(intake, created_day=months[i % 12]) for i in range(400)])
    many = queries()
    assert few == many
    # Aggregates only: no statement fetches a case's row (its keys, its receipt lookup).
    assert not [s for s in statements if "receipt_lookup_key" in s or "case_recipient" in s]
