"""The thread's order comes from inside the messages, not from ids or times in clear."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from app import clock
from app.cases.thread import Placement, thread_order
from app.models.cases import LEGACY_ID_LIMIT, new_message_id
from app.models.vocabulary import Side

DAY = date(2026, 3, 5)
LABEL = clock.day_stamp(DAY)


def staff(message_id: int, hour: int, minute: int = 0) -> Placement:
    # 5 March in Cần Thơ (UTC+7) runs from 4 March 17:00 to 5 March 17:00 UTC.
    return Placement(message_id, Side.REVIEWER, datetime(2026, 3, 5, hour, minute, tzinfo=UTC))


def reporter(message_id: int, after: int | None, day: date = DAY) -> Placement:
    return Placement(message_id, Side.REPORTER, clock.day_stamp(day), after)


def test_a_same_day_back_and_forth_reads_in_order_whatever_the_ids() -> None:
    # Reviewer at 02:00 UTC, reporter answers, reviewer at 03:00, reporter twice, reviewer
    # at 09:00: every id order gives the same thread.
    for ids in itertools.islice(itertools.permutations([11, 22, 33, 44, 55, 66]), 0, 720, 37):
        a, b, c, d, e, f = (LEGACY_ID_LIMIT + i for i in ids)
        messages = [
            staff(a, 2),
            reporter(b, after=a),
            staff(c, 3),
            reporter(d, after=c),
            reporter(e, after=d),
            staff(f, 9),
        ]
        assert thread_order(messages[::-1]) == [a, b, c, d, e, f]


def test_a_reporter_message_follows_what_it_answers_even_if_staff_wrote_meanwhile() -> None:
    s1, s2 = new_message_id(), new_message_id()
    r = new_message_id()
    # The reporter read s1, s2 arrived while they wrote: their answer follows s1.
    assert thread_order([staff(s2, 4), reporter(r, after=s1), staff(s1, 2)]) == [s1, r, s2]


def test_a_message_following_nothing_opens_its_day() -> None:
    r, s = new_message_id(), new_message_id()
    yesterday = staff(new_message_id(), 1)
    earlier = Placement(yesterday.id, Side.REVIEWER, datetime(2026, 3, 4, 8, 0, tzinfo=UTC))
    assert thread_order([staff(s, 9), reporter(r, after=None), earlier]) == [earlier.id, r, s]


def test_a_pointer_to_an_earlier_day_does_not_move_a_message_before_its_day() -> None:
    old, s_today, r = new_message_id(), new_message_id(), new_message_id()
    old_staff = Placement(old, Side.REVIEWER, datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    day_before = staff(new_message_id(), 0)  # 07:00 on 5 March in Cần Thơ
    order = thread_order([reporter(r, after=old), staff(s_today, 5), old_staff, day_before])
    assert order == [old, r, day_before.id, s_today]


def test_the_local_day_not_the_utc_date_decides() -> None:
    # 4 March 18:00 UTC is 5 March 01:00 in Cần Thơ: same local day as the reporter's.
    night = Placement(new_message_id(), Side.REVIEWER, datetime(2026, 3, 4, 18, 0, tzinfo=UTC))
    r = new_message_id()
    assert thread_order([night, reporter(r, after=None)]) == [r, night.id]


@pytest.mark.parametrize("pointer", ["loop", "self", "unknown"])
def test_made_up_pointers_lose_no_message(pointer: str) -> None:
    s, r1, r2 = new_message_id(), new_message_id(), new_message_id()
    if pointer == "loop":
        messages = [staff(s, 2), reporter(r1, after=r2), reporter(r2, after=r1)]
    elif pointer == "self":
        messages = [staff(s, 2), reporter(r1, after=r1), reporter(r2, after=r1)]
    else:
        messages = [staff(s, 2), reporter(r1, after=12345), reporter(r2, after=r1)]
    order = thread_order(messages)
    assert sorted(order) == sorted(m.id for m in messages)
    assert order.index(r1) < order.index(r2) or pointer == "loop"


def test_messages_from_before_random_ids_keep_their_order_and_come_first() -> None:
    legacy = [
        Placement(7, Side.REVIEWER, datetime(2026, 3, 1, 9, 0, tzinfo=UTC)),
        Placement(8, Side.REPORTER, clock.day_stamp(date(2026, 3, 1))),
        Placement(9, Side.REVIEWER, datetime(2026, 3, 1, 10, 0, tzinfo=UTC)),
    ]
    r = new_message_id()
    later = staff(new_message_id(), 6)
    assert thread_order([later, reporter(r, after=9), *legacy[::-1]]) == [7, 8, 9, r, later.id]


def test_new_ids_are_random_and_above_the_legacy_range() -> None:
    ids = [new_message_id() for _ in range(200)]
    assert all(LEGACY_ID_LIMIT <= i < 2**63 for i in ids)
    assert len(set(ids)) == 200
    assert ids != sorted(ids)
