"""Case deadlines from the installation's rules (config.settings.Deadlines).

Due dates are days, not instants: cases keep only the day they arrived, and a deadline
is met or missed by the day.

The one rule of "overdue", for SQL and for a loaded case alike: a deadline is missed
when the case is not closed, its step was never done, and its due day is past. The
inbox's filter, the overdue e-mails (app.notifications.outbox) and the oversight
statistics all use :func:`overdue_clause` / :func:`missed_clauses`, and the case page
and the e-mails :func:`missed_deadlines` / :func:`case_deadline`. The inbox's "overdue
only" keeps a case that missed any clock below as well (app.cases.inbox, composing
these clauses).

The same rule for the other clocks: a whistleblower protection request is missed when
it is not answered and its due day is past (:func:`protection_missed_clause`,
:func:`protection_state`); a named denunciation's statutory step when it was not taken,
the case is open and its last day is past (:func:`statutory_missed`).

A referral to the investigation agency (app.cases.referrals) has its own due day, the
verification period of BLTTHS 2015 art. 147, and the same rule: it is overdue when the
agency's result is not recorded and the due day (the extended one, if any) is past -
:func:`referral_deadline` for a loaded referral, :func:`referral_overdue_clause` in SQL.
The case's own service deadlines are not changed by a referral.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, func, or_

from app.models import Case, ProtectionRequest, Referral
from app.models.notifications import DeadlineKind
from app.models.vocabulary import CaseStatus
from config.settings import Deadlines

DUE_SOON_DAYS = 2


class DeadlineState(StrEnum):
    MET = "met"
    OPEN = "open"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class InitialDeadlines:
    acknowledge: date
    decision: date
    feedback: date


def initial_deadlines(created: date, rules: Deadlines) -> InitialDeadlines:
    return InitialDeadlines(
        acknowledge=created + timedelta(days=rules.acknowledge_days),
        decision=created + timedelta(days=rules.decision_days),
        feedback=created + timedelta(days=rules.feedback_days),
    )


def deadline_state(due: date | None, done: bool, today: date) -> DeadlineState:
    if done or due is None:
        return DeadlineState.MET
    if today > due:
        return DeadlineState.OVERDUE
    if (due - today).days <= DUE_SOON_DAYS:
        return DeadlineState.DUE_SOON
    return DeadlineState.OPEN


@dataclass(frozen=True)
class DeadlinePair:
    """A deadline of a case: the column of its due day, and the column set when its step
    was done (``None`` while it is not)."""

    kind: DeadlineKind
    due: str
    done: str

    def due_of(self, case: Case) -> date | None:
        value: date | None = getattr(case, self.due)
        return value

    def done_of(self, case: Case) -> datetime | None:
        value: datetime | None = getattr(case, self.done)
        return value


DEADLINE_PAIRS = (
    DeadlinePair(DeadlineKind.ACKNOWLEDGE, "acknowledge_due", "acknowledged_at"),
    DeadlinePair(DeadlineKind.DECISION, "decision_due", "decided_at"),
    DeadlinePair(DeadlineKind.FEEDBACK, "feedback_due", "feedback_at"),
)


def _still_open() -> ColumnElement[bool]:
    return Case.status != CaseStatus.CLOSED.value


def missed_clauses(today: date) -> dict[DeadlineKind, ColumnElement[bool]]:
    """Per deadline, the SQL condition "this case missed it by ``today``"."""
    return {
        pair.kind: and_(
            _still_open(),
            getattr(Case, pair.done).is_(None),
            getattr(Case, pair.due) < today,
        )
        for pair in DEADLINE_PAIRS
    }


def overdue_clause(today: date) -> ColumnElement[bool]:
    """The SQL condition "this case missed at least one deadline by ``today``"."""
    return or_(*missed_clauses(today).values())


def missed_deadlines(case: Case, today: date) -> list[DeadlineKind]:
    """The deadlines ``case`` missed by ``today``: :func:`missed_clauses` for a loaded row."""
    if case.status == CaseStatus.CLOSED.value:
        return []
    return [
        pair.kind
        for pair in DEADLINE_PAIRS
        if pair.done_of(case) is None and (due := pair.due_of(case)) is not None and due < today
    ]


def case_deadline(case: Case, today: date) -> tuple[DeadlineState, date | None]:
    """The most pressing open deadline of a case, and how pressing it is."""
    if case.status == CaseStatus.CLOSED.value:
        return DeadlineState.MET, None
    pending = [
        due
        for pair in DEADLINE_PAIRS
        if pair.done_of(case) is None and (due := pair.due_of(case)) is not None
    ]
    if not pending:
        return DeadlineState.MET, None
    due = min(pending)
    return deadline_state(due, False, today), due


def _missed(due: date | None, done: bool, still_open: bool, today: date) -> bool:
    """The rule itself: open, not done, and the due day is past."""
    return still_open and not done and due is not None and today > due


def protection_missed_clause(today: date) -> ColumnElement[bool]:
    """SQL: this protection request is unanswered and its due day is past. A request
    stays owed when its case is closed: retaliation can come after the conclusion."""
    return and_(ProtectionRequest.answered_at.is_(None), ProtectionRequest.due_day < today)


def protection_state(request: ProtectionRequest, today: date) -> DeadlineState:
    """:func:`protection_missed_clause` for a loaded row, with "due soon" as elsewhere."""
    return deadline_state(request.due_day, request.answered_at is not None, today)


def statutory_missed(due: date | None, done: bool, case_status: str, today: date) -> bool:
    """A statutory step of a named denunciation (acceptance decision, resolution) is
    missed when it was not taken, the case is open and its last day is past. The days
    are computed from the work calendar (app.cases.legal_process), not stored."""
    return _missed(due, done, case_status != CaseStatus.CLOSED.value, today)


def referral_due(referral: Referral) -> date:
    """The day the agency's verification period ends: the extended day if there is one."""
    return referral.extended_due_day or referral.verification_due_day


def referral_deadline(referral: Referral, case: Case, today: date) -> tuple[DeadlineState, date]:
    """How pressing a referral is, by :func:`deadline_state`: its step is done once the
    agency's result is recorded, and like every deadline it is met once the case is
    closed."""
    due = referral_due(referral)
    done = referral.result is not None or case.status == CaseStatus.CLOSED.value
    return deadline_state(due, done, today), due


def referral_overdue_clause(today: date) -> ColumnElement[bool]:
    """SQL on ``Referral`` joined with its ``Case``: the case is not closed, no result is
    recorded, and the (extended) due day is past."""
    return and_(
        _still_open(),
        Referral.result.is_(None),
        func.coalesce(Referral.extended_due_day, Referral.verification_due_day) < today,
    )
