"""Reporters' events are held with their day only and chained once the day is over:
after every event of their day, before any event of a later day, in an order that says
nothing about when each happened."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import audit, clock
from app.database import Database
from app.models import AuditEvent, HeldAuditEvent

pytestmark = pytest.mark.both_backends

D1 = date(2026, 3, 4)
D2 = date(2026, 3, 5)


@pytest.fixture
def at_day(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set the installation's clock to noon of a local day."""

    def set_day(day: date) -> None:
        noon = datetime(day.year, day.month, day.day, 5, 0, tzinfo=UTC)  # 12:00 in Cần Thơ
        monkeypatch.setattr(clock, "utcnow", lambda: noon)

    return set_day


def chain(database: Database) -> list[AuditEvent]:
    with database.read_session() as db:
        return list(db.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def held(database: Database) -> int:
    with database.read_session() as db:
        return int(db.scalar(select(func.count()).select_from(HeldAuditEvent)) or 0)


def test_held_events_wait_for_their_day_then_come_after_it(database: Database, at_day: Any) -> None:
    at_day(D1)
    with database.session() as db:
        audit.record(db, actor="reviewer:1", action="case.viewed", case_id="a" * 32)
        for n in range(12):
            audit.hold(db, action="message.from_reporter", day=D1, case_id=f"{n:032x}")
        audit.record(db, actor="reviewer:1", action="case.routed", case_id="a" * 32)
    assert held(database) == 12
    assert [e.actor for e in chain(database)][-2:] == ["reviewer:1", "reviewer:1"]

    # The next day's first reviewer event releases them first, by itself.
    at_day(D2)
    with database.session() as db:
        audit.hold(db, action="case.submitted", day=D2, case_id="b" * 32)
        audit.record(db, actor="reviewer:2", action="case.viewed", case_id="a" * 32)
    events = chain(database)
    released = [e for e in events if e.actor == "reporter"]
    assert len(released) == 12
    assert all(e.created_at == clock.day_stamp(D1) for e in released)
    seqs = [e.seq for e in released]
    assert seqs == list(range(seqs[0], seqs[0] + 12))
    day1_staff = [e.seq for e in events if e.actor == "reviewer:1"]
    day2_staff = [e.seq for e in events if e.actor == "reviewer:2"]
    assert max(day1_staff) < min(seqs) and max(seqs) < min(day2_staff)
    # Not the order they were written in (12! orders; the written one has 1 chance in
    # 479 million).
    assert [e.case_id for e in released] != [f"{n:032x}" for n in range(12)]
    assert held(database) == 1  # today's stays held
    with database.read_session() as db:
        assert audit.verify_chain(db)[1] is None


def test_release_goes_day_by_day_and_keeps_today(database: Database, at_day: Any) -> None:
    at_day(D2 + timedelta(days=1))
    with database.session() as db:
        audit.hold(db, action="case.submitted", day=D2, case_id="2" * 32)
        audit.hold(db, action="case.submitted", day=D1, case_id="1" * 32)
        audit.hold(db, action="case.submitted", day=D2 + timedelta(days=1), case_id="3" * 32)
        released = audit.release_held(db)
    assert [e.case_id for e in released] == ["1" * 32, "2" * 32]
    assert [e.created_at for e in released] == [clock.day_stamp(D1), clock.day_stamp(D2)]
    with database.read_session() as db:
        assert audit.held_days(db) == [audit.HeldDay(D2 + timedelta(days=1), 1)]


def test_cli_release_and_verify_tell_what_is_held(
    database: Database, review_app: Flask, at_day: Any
) -> None:
    at_day(D1)
    with database.session() as db:
        audit.hold(db, action="case.submitted", day=D1, case_id="c" * 32)
    runner = review_app.test_cli_runner()
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0
    assert "held: 1 reporter event(s) of 2026-03-04" in verified.output
    same_day = runner.invoke(args=["audit", "release"])
    assert "released 0 held reporter event(s)" in same_day.output
    at_day(D2)
    released = runner.invoke(args=["audit", "release"])
    assert released.exit_code == 0, released.output
    assert "released 1 held reporter event(s)" in released.output
    assert chain(database)[-1].action == "case.submitted"
    assert "held:" not in runner.invoke(args=["audit", "verify"]).output
