"""The audit anchor: a head written down outside catches what the chain alone cannot.

Whoever can write to the database can cut off the newest events, or rewrite one and
recompute every hash after it: ``audit verify`` still says OK (each test checks that
first, as the positive control). ``audit verify --head "SEQ HASH"`` with a head taken
earlier fails on both, and passes on an honest log that has grown since.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import delete, select

from app import audit
from app.database import Database
from app.models import AuditEvent

pytestmark = pytest.mark.both_backends
HEAD_LINE = re.compile(r"^(\d+) ([0-9a-f]{64})\n$")


def _fill(database: Database, n: int = 5) -> None:
    with database.session() as db:
        for i in range(n):
            audit.record(db, actor=f"reviewer:{i}", action="case.viewed", case_id=f"{i:032x}")


def _head(cli: Any) -> str:
    result = cli.invoke(args=["audit", "head"])
    assert result.exit_code == 0, result.output
    assert HEAD_LINE.match(result.output), result.output
    return str(result.output.strip())


def _verify(cli: Any, head: str | None = None) -> Any:
    return cli.invoke(args=["audit", "verify", *(["--head", head] if head else [])])


def test_head_is_one_line_and_an_honest_log_still_contains_it(cli: Any, database: Database) -> None:
    _fill(database)
    head = _head(cli)
    with database.read_session() as db:
        last = db.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert head == f"{last.seq} {last.hash}"
    _fill(database, 3)  # the log grows: the old head is still in it
    result = _verify(cli, head)
    assert result.exit_code == 0, result.output
    assert f"still contains the head {last.seq}" in result.output
    assert _verify(cli, _head(cli)).exit_code == 0


def test_cutting_off_the_newest_events_is_caught(cli: Any, database: Database) -> None:
    _fill(database)
    head = _head(cli)
    seq = int(head.split()[0])
    with database.session() as db:
        db.execute(delete(AuditEvent).where(AuditEvent.seq > seq - 2))
    assert _verify(cli).exit_code == 0  # the chain alone cannot tell
    result = _verify(cli, head)
    assert result.exit_code == 1
    assert "cut off" in result.output and f"head {seq}" in result.output


def test_rewriting_and_rehashing_is_caught(cli: Any, database: Database) -> None:
    _fill(database)
    head = _head(cli)
    seq = int(head.split()[0])
    with database.session() as db:
        events = db.scalars(
            select(AuditEvent).where(AuditEvent.seq >= seq - 3).order_by(AuditEvent.seq)
        ).all()
        prev = db.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq - 4))
        events[0].actor = "reviewer:999"  # the forger changes who did it ...
        for event in events:  # ... and recomputes every hash after it
            event.prev_hash = str(prev)
            event.hash = audit._event_hash(event)
            prev = event.hash
            db.flush()
    assert _verify(cli).exit_code == 0  # the chain alone cannot tell
    result = _verify(cli, head)
    assert result.exit_code == 1
    assert "rewritten" in result.output and f"event {seq}" in result.output


def test_a_malformed_head_is_a_usage_error(cli: Any, database: Database) -> None:
    for bad in ("12", "x " + "0" * 64, "12 " + "G" * 64, "12 abc"):
        result = _verify(cli, bad)
        assert result.exit_code == 2 and "SEQ HASH" in result.output, (bad, result.output)
