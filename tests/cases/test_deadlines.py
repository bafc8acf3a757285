"""One rule of "overdue" (app.cases.deadlines): the SQL clause the inbox, the e-mails and
the statistics use picks exactly the cases the row-level twin calls overdue."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import product

import pytest
from sqlalchemy import select, update

from app.cases.deadlines import (
    DEADLINE_PAIRS,
    DeadlineState,
    case_deadline,
    missed_clauses,
    missed_deadlines,
    overdue_clause,
)
from app.database import Database
from app.models import Case
from app.models.notifications import DeadlineKind
from app.models.vocabulary import CaseStatus
from config import Settings
from tests.factories import submit_case

TODAY = date(2026, 3, 10)
DONE = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

pg = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pg
def test_the_sql_clause_and_the_row_rule_agree(database: Database, settings: Settings) -> None:
    # Every combination for the acknowledgment deadline (due past / today / later / none,
    # done or not, closed or not); the other two deadlines are met.
    states = list(product((-1, 0, 1, None), (False, True), (False, True)))
    ids = [submit_case(database, settings, details=f"Vụ việc số {i}").case_id for i in states]
    with database.session() as db:
        for case_id, (offset, done, closed) in zip(ids, states, strict=True):
            db.execute(
                update(Case)
                .where(Case.id == case_id)
                .values(
                    acknowledge_due=None if offset is None else TODAY + timedelta(days=offset),
                    acknowledged_at=DONE if done else None,
                    decided_at=DONE,
                    feedback_at=DONE,
                    status=CaseStatus.CLOSED.value if closed else CaseStatus.TRIAGE.value,
                )
            )
    with database.read_session() as db:
        cases = db.scalars(select(Case).where(Case.id.in_(ids))).all()
        by_sql = set(db.scalars(select(Case.id).where(Case.id.in_(ids), overdue_clause(TODAY))))
        by_row = {case.id for case in cases if missed_deadlines(case, TODAY)}
        acknowledge = missed_clauses(TODAY)[DeadlineKind.ACKNOWLEDGE]
        late_ack = set(db.scalars(select(Case.id).where(Case.id.in_(ids), acknowledge)))
    # Only "due yesterday, never done, still open" is overdue.
    expected = {ids[states.index((-1, False, False))]}
    assert by_sql == by_row == late_ack == expected
    for case in cases:
        state, _due = case_deadline(case, TODAY)
        assert (state is DeadlineState.OVERDUE) == (case.id in expected)


def test_every_deadline_has_its_pair() -> None:
    assert [pair.kind for pair in DEADLINE_PAIRS] == list(DeadlineKind)
    for pair in DEADLINE_PAIRS:
        assert hasattr(Case, pair.due) and hasattr(Case, pair.done)
