"""The inbox (app.cases.inbox): which cases a filter keeps, in which order each sort
puts them, how pages split them, and how many reporter messages are unread.

Cases are rows straight in the table (tests.factories.case_row): the inbox reads
columns only, never the encrypted content. Every filter is checked against a positive
control - the same cases without the filter - so a filter that kept nothing, or
everything, would fail.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from app.cases.access import Actor, load_actor
from app.cases.deadlines import DeadlineState
from app.cases.inbox import PAGE_SIZE, InboxFilters, InboxPage, InboxSort, inbox_page
from app.cases.legal_process import statutory_state
from app.database import Database
from app.models import Case, Message, Recusal
from app.models.vocabulary import ReferralResult, Role
from tests.factories import (
    ReviewerKeys,
    case_row,
    insert_cases,
    insert_protection_request,
    insert_referral,
    make_reviewer,
    unit_ids,
)

pytestmark = pytest.mark.both_backends

TODAY = date(2026, 6, 15)


def _page(database: Database, who: ReviewerKeys, **filters: object) -> InboxPage:
    with database.read_session() as db:
        actor: Actor = load_actor(db, who.id)
        return inbox_page(db, actor, InboxFilters(**filters), TODAY)  # type: ignore[arg-type]


def _refs(page: InboxPage) -> list[str]:
    return [row.reference for row in page.rows]


def _day(days_ago: int) -> date:
    return TODAY - timedelta(days=days_ago)


@pytest.fixture
def member(database: Database) -> ReviewerKeys:
    return make_reviewer(database, "intake", username="dang.thi.uy")


@pytest.fixture
def colleague(database: Database) -> ReviewerKeys:
    return make_reviewer(database, "intake", username="truong.van.duoc")


@pytest.fixture
def world(database: Database, member: ReviewerKeys, colleague: ReviewerKeys) -> dict[str, str]:
    """Five cases of the intake unit, one of inspection; the reference of each by name."""
    units = unit_ids(database)
    intake = units["intake"]
    rows = {
        "fresh": case_row(intake, created_day=_day(0), priority="normal"),
        "urgent_old": case_row(
            intake,
            created_day=_day(20),
            priority="urgent",
            category="waste",
            acknowledge_due=_day(10),  # never acknowledged: overdue
            decision_due=_day(-30),
        ),
        "mine": case_row(
            intake,
            created_day=_day(5),
            priority="high",
            status="triage",
            assignee_id=member.id,
            acknowledged_at=datetime(2026, 6, 11, 9, tzinfo=UTC),
            acknowledge_due=_day(3),
            decision_due=_day(-10),
        ),
        "colleague": case_row(
            intake,
            created_day=_day(8),
            priority="low",
            sector="education",
            status="triage",
            assignee_id=colleague.id,
            decision_due=_day(-2),
        ),
        "closed_late": case_row(
            intake,
            created_day=_day(40),
            status="closed",
            resolution="duplicate",
            closed_at=datetime(2026, 5, 20, 9, tzinfo=UTC),
            acknowledge_due=_day(30),  # late, but a closed case is never overdue
        ),
        "elsewhere": case_row(units["inspection"], created_day=_day(1)),
    }
    insert_cases(database, list(rows.values()))
    return {name: row["reference"] for name, row in rows.items()}


def test_a_member_sees_the_cases_of_their_unit_only(
    database: Database, member: ReviewerKeys, world: dict[str, str]
) -> None:
    page = _page(database, member)
    assert page.total == 5 and page.pages == 1
    assert world["elsewhere"] not in _refs(page)
    inspector = make_reviewer(database, "inspection")
    assert _refs(_page(database, inspector)) == [world["elsewhere"]]
    observer = make_reviewer(database, "intake", role=Role.OBSERVER)
    assert _page(database, observer).total == 0  # observers never read cases


def test_a_recusal_takes_the_case_out_of_the_inbox(
    database: Database, member: ReviewerKeys, world: dict[str, str]
) -> None:
    assert world["fresh"] in _refs(_page(database, member))
    case_id = _id_of(database, world["fresh"])
    with database.session() as db:
        db.add(Recusal(case_id=case_id, reviewer_id=member.id))
    assert world["fresh"] not in _refs(_page(database, member))
    assert _page(database, member).total == 4


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "triage"}, {"mine", "colleague"}),
        ({"status": "closed"}, {"closed_late"}),
        ({"category": "waste"}, {"urgent_old"}),
        ({"sector": "education"}, {"colleague"}),
        ({"assignee": "me"}, {"mine"}),
        ({"assignee": "none"}, {"fresh", "urgent_old", "closed_late"}),
        ({"overdue": True}, {"urgent_old"}),
        ({"status": "triage", "assignee": "me"}, {"mine"}),
        ({"status": "new", "category": "waste", "overdue": True}, {"urgent_old"}),
        ({"status": "new", "sector": "education"}, set()),
    ],
    # Sorted, so the ids do not depend on the set's hash order (parallel workers must
    # collect the same tests).
    ids=lambda value: str(sorted(value)) if isinstance(value, set) else str(value),
)
def test_filters(
    database: Database,
    member: ReviewerKeys,
    world: dict[str, str],
    filters: dict[str, object],
    expected: set[str],
) -> None:
    everything = set(_refs(_page(database, member)))
    assert len(everything) == 5  # positive control: the filter has cases to drop
    page = _page(database, member, **filters)
    assert set(_refs(page)) == {world[name] for name in expected}
    assert page.total == len(expected)


@pytest.fixture
def late_world(database: Database, member: ReviewerKeys) -> dict[str, str]:
    """Per kind of clock other than the city's targets, a case that missed it and its
    twin that did not; none of them has a service target due. References by name."""
    intake = unit_ids(database)["intake"]
    rows = {
        # A named denunciation without an acceptance decision: its last day comes from
        # the work calendar (app.cases.legal_process), long past for a case 60 days old.
        "named_late": case_row(intake, track="named", created_day=_day(60)),
        "named_in_time": case_row(intake, track="named", created_day=TODAY),
        "referral_late": case_row(intake, status="routed_investigation", created_day=_day(50)),
        "referral_answered": case_row(intake, status="routed_investigation", created_day=_day(50)),
        "protection_late": case_row(intake, created_day=_day(30)),
        "protection_answered": case_row(intake, created_day=_day(30)),
    }
    ids = dict(zip(rows, insert_cases(database, list(rows.values())), strict=True))
    # Both dispatched 40 days ago, 20 days to verify: due 20 days ago.
    insert_referral(database, ids["referral_late"], _day(40))
    insert_referral(
        database,
        ids["referral_answered"],
        _day(40),
        result=ReferralResult.NOT_PROSECUTED.value,
        result_day=_day(25),
    )
    for name in ("protection_late", "protection_answered"):
        insert_protection_request(
            database,
            ids[name],
            _day(20),
            _day(5),
            answered_day=_day(3) if name == "protection_answered" else None,
        )
    return {name: row["reference"] for name, row in rows.items()}


def test_the_statutory_twins_straddle_their_acceptance_day(
    database: Database, late_world: dict[str, str]
) -> None:
    """The premise of the "named" rows below, by the calendar itself: one case is past
    its acceptance day, the other not yet."""
    with database.read_session() as db:
        cases = {
            c.reference: c
            for c in db.scalars(
                select(Case).where(
                    Case.reference.in_([late_world["named_late"], late_world["named_in_time"]])
                )
            )
        }
        late = statutory_state(cases[late_world["named_late"]], TODAY)
        in_time = statutory_state(cases[late_world["named_in_time"]], TODAY)
    assert late is not None and late.acceptance_due < TODAY and late.acceptance_overdue
    assert in_time is not None and in_time.acceptance_due >= TODAY
    assert not in_time.overdue


@pytest.mark.parametrize(
    ("late", "in_time"),
    [
        pytest.param("named_late", "named_in_time", id="statutory-acceptance"),
        pytest.param("referral_late", "referral_answered", id="referral-verification"),
        pytest.param("protection_late", "protection_answered", id="protection-answer"),
    ],
)
def test_overdue_only_selects_every_missed_clock(
    database: Database,
    member: ReviewerKeys,
    late_world: dict[str, str],
    late: str,
    in_time: str,
) -> None:
    everything = {row.reference: row for row in _page(database, member).rows}
    # Positive control: both twins are in the inbox; only one of them is overdue.
    assert {late_world[late], late_world[in_time]} <= set(everything)
    assert everything[late_world[late]].deadline is DeadlineState.OVERDUE
    assert everything[late_world[in_time]].deadline is not DeadlineState.OVERDUE
    overdue = set(_refs(_page(database, member, overdue=True)))
    assert late_world[late] in overdue
    assert late_world[in_time] not in overdue


def test_overdue_only_counts_each_kind_of_late_case_once(
    database: Database, member: ReviewerKeys, world: dict[str, str], late_world: dict[str, str]
) -> None:
    page = _page(database, member, overdue=True)
    expected = {world["urgent_old"]} | {
        late_world[name] for name in ("named_late", "referral_late", "protection_late")
    }
    assert set(_refs(page)) == expected
    assert page.total == len(expected)
    assert [row.protection_overdue for row in page.rows].count(True) == 1
    # The other filters still narrow it: only the named one is on the named track.
    named = _page(database, member, overdue=True, track="named")
    assert _refs(named) == [late_world["named_late"]]


def test_an_assignee_given_by_id(
    database: Database, member: ReviewerKeys, colleague: ReviewerKeys, world: dict[str, str]
) -> None:
    page = _page(database, member, assignee=str(colleague.id))
    assert _refs(page) == [world["colleague"]]
    assert page.rows[0].assignee == "truong.van.duoc"
    assert _page(database, member, assignee="999999").total == 0


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        (InboxSort.NEWEST, ["fresh", "mine", "colleague", "urgent_old", "closed_late"]),
        (InboxSort.OLDEST, ["closed_late", "urgent_old", "colleague", "mine", "fresh"]),
        # urgent, high, normal (two: newest first), low
        (InboxSort.PRIORITY, ["urgent_old", "mine", "fresh", "closed_late", "colleague"]),
    ],
)
def test_sort_orders(
    database: Database,
    member: ReviewerKeys,
    world: dict[str, str],
    sort: InboxSort,
    order: list[str],
) -> None:
    assert _refs(_page(database, member, sort=sort)) == [world[name] for name in order]


def test_deadline_sort_puts_the_nearest_decision_first(
    database: Database, member: ReviewerKeys, world: dict[str, str]
) -> None:
    refs = _refs(_page(database, member, sort=InboxSort.DEADLINE))
    with_deadline = ["colleague", "mine", "urgent_old"]  # due in 2, 10 and 30 days
    assert refs[:3] == [world[name] for name in with_deadline]
    assert set(refs[3:]) == {world["fresh"], world["closed_late"]}


def test_rows_say_how_old_and_how_pressing(
    database: Database, member: ReviewerKeys, world: dict[str, str]
) -> None:
    rows = {row.reference: row for row in _page(database, member).rows}
    urgent = rows[world["urgent_old"]]
    assert urgent.age_days == 20
    assert urgent.next_due == _day(10) and urgent.deadline.value == "overdue"
    mine = rows[world["mine"]]
    assert mine.next_due == _day(-10)  # acknowledged: the decision is what is next
    assert mine.assignee == "dang.thi.uy"
    closed = rows[world["closed_late"]]
    assert closed.next_due is None and closed.deadline.value == "met"


def test_paging(database: Database, member: ReviewerKeys) -> None:
    intake = unit_ids(database)["intake"]
    total = PAGE_SIZE + 7
    insert_cases(database, [case_row(intake, created_day=_day(i % 30)) for i in range(total)])
    first = _page(database, member)
    second = _page(database, member, page=2)
    assert (first.total, first.pages, first.page) == (total, 2, 1)
    assert len(first.rows) == PAGE_SIZE and len(second.rows) == 7 and second.page == 2
    # The pages split one order: together they are every case once, newest first.
    both = first.rows + second.rows
    assert len({row.id for row in both}) == total
    days = [row.created_day for row in both]
    assert days == sorted(days, reverse=True)
    # A page past the end shows the last page rather than nothing.
    beyond = _page(database, member, page=99)
    assert beyond.page == 2 and [r.id for r in beyond.rows] == [r.id for r in second.rows]


def test_an_empty_inbox_has_one_empty_page(database: Database, member: ReviewerKeys) -> None:
    page = _page(database, member)
    assert (page.rows, page.total, page.page, page.pages) == ([], 0, 1, 1)


def test_unread_counts_only_the_reporters_unread_messages(
    database: Database, member: ReviewerKeys, world: dict[str, str]
) -> None:
    fresh, mine = _id_of(database, world["fresh"]), _id_of(database, world["mine"])
    read = datetime(2026, 6, 14, 9, tzinfo=UTC)
    stamp = datetime(2026, 6, 14, tzinfo=UTC)
    with database.session() as db:
        db.execute(
            insert(Message),
            [
                # fresh: two unread from the reporter, one read, one from a reviewer
                {"case_id": fresh, "author_side": "reporter", "created_at": stamp},
                {"case_id": fresh, "author_side": "reporter", "created_at": stamp},
                {"case_id": fresh, "author_side": "reporter", "created_at": stamp, "read_at": read},
                {"case_id": fresh, "author_side": "reviewer", "author_id": member.id},
                # mine: everything read
                {"case_id": mine, "author_side": "reporter", "created_at": stamp, "read_at": read},
            ],
        )
    unread = {row.reference: row.unread for row in _page(database, member).rows}
    assert unread[world["fresh"]] == 2
    assert unread[world["mine"]] == 0
    assert set(unread.values()) == {0, 2}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, InboxFilters()),
        (
            {"status": "closed", "category": "waste", "sector": "education", "sort": "oldest"},
            InboxFilters(
                status="closed", category="waste", sector="education", sort=InboxSort.OLDEST
            ),
        ),
        (
            {"assignee": "me", "overdue": "1", "page": "3"},
            InboxFilters(assignee="me", overdue=True, page=3),
        ),
        ({"assignee": "42"}, InboxFilters(assignee="42")),
        # Unknown values are ignored, not an error: a hand-edited URL shows the inbox.
        ({"status": "đã xong", "category": "x", "sort": "random"}, InboxFilters()),
        ({"assignee": "someone", "overdue": "yes"}, InboxFilters()),
        ({"page": "-4"}, InboxFilters(page=1)),
        ({"page": "hai"}, InboxFilters(page=1)),
        ({"page": "10000000"}, InboxFilters(page=100000)),
    ],
    ids=str,
)
def test_parse(args: dict[str, str], expected: InboxFilters) -> None:
    assert InboxFilters.parse(args) == expected


def test_parse_keeps_every_known_value() -> None:
    base = InboxFilters.parse({"sort": "priority"})
    assert base == replace(InboxFilters(), sort=InboxSort.PRIORITY)


def _id_of(database: Database, reference: str) -> str:
    from sqlalchemy import select

    from app.models import Case

    with database.read_session() as db:
        return db.scalars(select(Case.id).where(Case.reference == reference)).one()


def test_unit_track_and_received_day_filters(database: Database) -> None:
    """Issue 15's filters, each against its positive control (the same cases without it)."""
    units = unit_ids(database)
    both = make_reviewer(database, "intake", "inspection", username="la.thi.hoa")
    rows = {
        "named_intake": case_row(units["intake"], created_day=_day(2), track="named"),
        "anonymous_intake": case_row(units["intake"], created_day=_day(12)),
        "inspection": case_row(units["inspection"], created_day=_day(6)),
    }
    insert_cases(database, list(rows.values()))
    refs = {name: row["reference"] for name, row in rows.items()}

    def names(**filters: object) -> set[str]:
        found = set(_refs(_page(database, both, **filters)))
        return {name for name, ref in refs.items() if ref in found}

    assert names() == set(refs)  # positive control
    assert names(unit=units["inspection"]) == {"inspection"}
    assert names(unit=units["investigation"]) == set()  # not theirs: nothing, never more
    assert names(track="named") == {"named_intake"}
    assert names(received_from=_day(6)) == {"named_intake", "inspection"}
    assert names(received_to=_day(6)) == {"anonymous_intake", "inspection"}
    assert names(received_from=_day(6), received_to=_day(6)) == {"inspection"}


def test_the_new_filters_parse_and_round_trip() -> None:
    args = {
        "unit": "3",
        "track": "named",
        "from": "2026-06-01",
        "to": "2026-06-30",
        "assignee": "me",
        "overdue": "1",
        "sort": "deadline",
    }
    filters = InboxFilters.parse(args)
    assert (filters.unit, filters.track) == (3, "named")
    assert (filters.received_from, filters.received_to) == (date(2026, 6, 1), date(2026, 6, 30))
    assert filters.query() == args
    # Hand-edited values are ignored, not errors.
    odd = InboxFilters.parse({"unit": "ba", "track": "bí-mật", "from": "31/06/2026", "to": "x"})
    assert (odd.unit, odd.track, odd.received_from, odd.received_to) == (None, None, None, None)
    assert odd.query() == {}
