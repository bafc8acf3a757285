"""Queueing notifications: who is told, when, and what the admins see of it.

Every function takes the caller's session and never commits, so a notification is
written in the same transaction as the event it announces (app.cases.submission's
``_store_case``, app.cases.messages' ``_add``) and exists exactly when the event does.
Callers guard with the settings (``if settings.smtp is not None``): with notifications
off nothing is queued, so no table of case and reviewer ids grows for nobody, and
switching e-mail on later does not send a burst of stale notices.

Who is told: the members of the holding unit who may read the case, by the rule of
app.cases.access.reader_conditions (active, reviewer or admin, not in a unit the
reporter excluded, not recused) and holding a key, as for the key wraps
(app.cases.keys.unit_reader_recipients), who have an e-mail address.

When: a notice a reporter's action calls for (a new case, a reporter message) is not
written during the reporter's request. The request writes a :class:`HeldNotification`
(case, kind, day: no time, no sequence; :func:`hold_new_case`,
:func:`hold_reporter_message`); once the day is over, :func:`release_held` (run by
``notify send``, ``audit release`` and ``purge``) turns the held rows of finished days
into outbox rows at system time, for the readers of that moment. So neither the outbox
(its times, its autoincrement ids) nor the time an e-mail leaves (which mail servers
log) tells when the reporter acted more precisely than the day: reviewers get a
next-day digest. The trade-off: a new case or message is e-mailed the next day, not
within the hour. Reviewers still see new cases and messages in the inbox at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, delete, exists, not_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app import audit, clock
from app.cases.access import reader_conditions
from app.cases.custodians import custodian_ids
from app.cases.deadlines import missed_deadlines, overdue_clause
from app.models import (
    Case,
    HeldNotification,
    Membership,
    Notification,
    Reviewer,
    Unit,
    utcnow,
)
from app.models.notifications import NotificationKind
from app.models.vocabulary import UnitKind

# Sent rows are kept this long for the admin page's sake, then deleted; an overdue
# notice is kept while its case exists, because it is what stops a second notice.
KEEP_SENT = timedelta(days=30)
# After this many failed attempts a row is no longer tried (see app.notifications.mailer).
MAX_ATTEMPTS = 8


def _may_read(
    case_id: SQLColumnExpression[str] | str, unit_id: SQLColumnExpression[int] | int
) -> list[ColumnElement[bool]]:
    """Conditions on ``Reviewer``: may read the case and holds a key, as for the wraps."""
    return [Reviewer.public_key.is_not(None), *reader_conditions(unit_id, case_id=case_id)]


def readers_to_notify(session: Session, case: Case) -> list[int]:
    """Ids of the reviewers who may read ``case`` and have an e-mail address."""
    return list(
        session.scalars(
            select(Reviewer.id)
            .where(Reviewer.email.is_not(None), *_may_read(case.id, case.holding_unit_id))
            .order_by(Reviewer.id)
        )
    )


def may_still_read(session: Session, reviewer_id: int, case_id: str) -> bool:
    """At send time: the case still exists and the reviewer may still read it (it may have
    been routed away, purged, or the reviewer recused or left the unit since)."""
    return (
        session.scalar(
            select(Reviewer.id)
            .join(Case, Case.id == case_id)
            .where(Reviewer.id == reviewer_id, *_may_read(Case.id, Case.holding_unit_id))
        )
        is not None
    )


def _queue_reporter_event(
    session: Session, case: Case, kind: NotificationKind, now: datetime | None
) -> int:
    moment = now or utcnow()
    readers = readers_to_notify(session, case)
    if not readers:
        return 0
    # One waiting notice per reviewer and case is enough: three messages in a day
    # make one e-mail, not three.
    waiting = set(
        session.scalars(
            select(Notification.reviewer_id).where(
                Notification.case_id == case.id,
                Notification.reviewer_id.in_(readers),
                Notification.sent_at.is_(None),
                Notification.attempts == 0,
                Notification.kind != NotificationKind.OVERDUE.value,
            )
        )
    )
    rows = [
        Notification(
            kind=kind.value,
            reviewer_id=reviewer_id,
            case_id=case.id,
            created_at=moment,
            not_before=moment,
        )
        for reviewer_id in readers
        if reviewer_id not in waiting
    ]
    session.add_all(rows)
    session.flush()
    return len(rows)


def queue_new_case(session: Session, case: Case, *, now: datetime | None = None) -> int:
    """Queue a notice of a new case to its readers now. Returns how many rows were
    written. Never called during a reporter's request (see :func:`hold_new_case`)."""
    return _queue_reporter_event(session, case, NotificationKind.NEW_CASE, now)


def queue_reporter_message(session: Session, case: Case, *, now: datetime | None = None) -> int:
    """Queue a notice of a reporter's message to the case's readers now."""
    return _queue_reporter_event(session, case, NotificationKind.REPORTER_MESSAGE, now)


def _hold(session: Session, case: Case, kind: NotificationKind, day: date) -> None:
    # One row per case, kind and day: a second message that day changes nothing (an
    # upsert that ignores the conflict, so no row is rewritten either).
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(HeldNotification)
        .values(case_id=case.id, kind=kind.value, day=day)
        .on_conflict_do_nothing()
    )


def hold_new_case(session: Session, case: Case, day: date) -> None:
    """During a reporter's submission: a notice of the new case, to queue once ``day``
    is over (:func:`release_held`). The caller's transaction; writes no time."""
    _hold(session, case, NotificationKind.NEW_CASE, day)


def hold_reporter_message(session: Session, case: Case, day: date) -> None:
    """During a reporter's request: a notice of their message, held like
    :func:`hold_new_case`."""
    _hold(session, case, NotificationKind.REPORTER_MESSAGE, day)


def release_held(
    session: Session, today: date | None = None, *, now: datetime | None = None
) -> int:
    """Queue the held notices of every day before ``today`` (the local day now), in
    random order, for the case's readers at this moment; delete the held rows. Notices
    of a case purged meanwhile are dropped. The caller commits. Returns the rows queued.
    """
    before = today or clock.today()
    held = list(session.scalars(select(HeldNotification).where(HeldNotification.day < before)))
    # New cases first within a case, so a case's first notice names it as new.
    secrets.SystemRandom().shuffle(held)
    held.sort(key=lambda row: row.kind != NotificationKind.NEW_CASE.value)
    queued = 0
    for row in held:
        case = session.get(Case, row.case_id)
        if case is not None:
            queued += _queue_reporter_event(session, case, NotificationKind(row.kind), now)
        session.delete(row)
    session.flush()
    return queued


def _overdue_cases(session: Session, today: date) -> Iterable[Case]:
    return session.scalars(select(Case).where(overdue_clause(today)).order_by(Case.id))


def queue_overdue(session: Session, today: date, *, now: datetime | None = None) -> int:
    """Queue one notice per overdue case, reader and missed deadline, once: a notice
    already written (sent or not) is what stops the next day's run from repeating it."""
    moment = now or utcnow()
    written = 0
    for case in _overdue_cases(session, today):
        missed = missed_deadlines(case, today)
        readers = readers_to_notify(session, case)
        if not missed or not readers:
            continue
        known = {
            (reviewer_id, deadline)
            for reviewer_id, deadline in session.execute(
                select(Notification.reviewer_id, Notification.deadline).where(
                    Notification.case_id == case.id, Notification.deadline.is_not(None)
                )
            )
        }
        for deadline in missed:
            for reviewer_id in readers:
                if (reviewer_id, deadline.value) in known:
                    continue
                session.add(
                    Notification(
                        kind=NotificationKind.OVERDUE.value,
                        reviewer_id=reviewer_id,
                        case_id=case.id,
                        deadline=deadline.value,
                        created_at=moment,
                        not_before=moment,
                    )
                )
                written += 1
    session.flush()
    return written


MAX_DETAIL_CHARS = 200


def queue_access_change(
    session: Session,
    reviewer_ids: Iterable[int],
    *,
    state: str,
    unit_slugs: Iterable[str],
    now: datetime | None = None,
) -> int:
    """Tell these reviewers that an access change to these units (none listed: every
    unit) is ``pending`` or ``approved`` (app.accounts.approvals). Staff events keep
    their exact time; the e-mail names the units and nothing else."""
    moment = now or utcnow()
    detail = f"{state}:{','.join(unit_slugs)}"[:MAX_DETAIL_CHARS]
    rows = [
        Notification(
            kind=NotificationKind.ACCESS_CHANGE.value,
            reviewer_id=reviewer_id,
            detail=detail,
            created_at=moment,
            not_before=moment,
        )
        for reviewer_id in dict.fromkeys(reviewer_ids)
    ]
    session.add_all(rows)
    session.flush()
    return len(rows)


def queue_unseal_request(
    session: Session, case: Case, requester_id: int, *, now: datetime | None = None
) -> int:
    """Tell the holding unit's identity custodians (app.cases.custodians, except the
    requester, who may not approve their own request) that an unsealing request waits
    on ``case``. A staff event: exact time. The e-mail links to the case and says
    nothing else - not the reason, not who asked."""
    moment = now or utcnow()
    with_address = set(session.scalars(select(Reviewer.id).where(Reviewer.email.is_not(None))))
    rows = [
        Notification(
            kind=NotificationKind.UNSEAL_REQUEST.value,
            reviewer_id=reviewer_id,
            case_id=case.id,
            created_at=moment,
            not_before=moment,
        )
        for reviewer_id in custodian_ids(session, case.holding_unit_id)
        if reviewer_id != requester_id and reviewer_id in with_address
    ]
    session.add_all(rows)
    session.flush()
    return len(rows)


def oversight_members(session: Session) -> list[int]:
    """Active members of an active oversight unit who have an e-mail address."""
    return list(
        session.scalars(
            select(Reviewer.id)
            .join(Membership, Membership.reviewer_id == Reviewer.id)
            .join(Unit, Unit.id == Membership.unit_id)
            .where(
                Unit.kind == UnitKind.OVERSIGHT.value,
                Unit.active.is_(True),
                Reviewer.active.is_(True),
                Reviewer.email.is_not(None),
            )
            .distinct()
            .order_by(Reviewer.id)
        )
    )


@dataclass(frozen=True)
class PublishedHead:
    head: audit.Head
    readers: int  # oversight members with an address
    queued: int  # notices written now (none on a second run the same day)


def publish_audit_head(session: Session, *, actor: str) -> PublishedHead:
    """Queue today's audit head for the oversight unit's members, audited as
    "audit.head_published" when anything was queued. The caller commits."""
    head = audit.head(session)
    when = head.created_at.strftime("%Y-%m-%dT%H:%M:%SZ") if head.created_at else "-"
    readers = oversight_members(session)
    queued = queue_audit_head(session, readers, f"{head.line()} {when}")
    if queued:
        audit.record(
            session,
            actor=actor,
            action="audit.head_published",
            details={"seq": head.seq, "hash": head.hash, "recipients": queued},
        )
    return PublishedHead(head, len(readers), queued)


def queue_audit_head(
    session: Session, reviewer_ids: Iterable[int], head_line: str, *, now: datetime | None = None
) -> int:
    """Queue the audit chain's head (``SEQ HASH TIME``) for these reviewers, at most once
    per reviewer and local calendar day: a second run the same day queues nothing."""
    moment = now or utcnow()
    today = clock.start_of_day(clock.local_day(moment))
    ids = list(dict.fromkeys(reviewer_ids))
    done = set(
        session.scalars(
            select(Notification.reviewer_id).where(
                Notification.kind == NotificationKind.AUDIT_HEAD.value,
                Notification.reviewer_id.in_(ids),
                Notification.created_at >= today,
                Notification.created_at < today + timedelta(days=1),
            )
        )
    )
    rows = [
        Notification(
            kind=NotificationKind.AUDIT_HEAD.value,
            reviewer_id=reviewer_id,
            detail=head_line[:MAX_DETAIL_CHARS],
            created_at=moment,
            not_before=moment,
        )
        for reviewer_id in ids
        if reviewer_id not in done
    ]
    session.add_all(rows)
    session.flush()
    return len(rows)


def forget_case(session: Session, case_id: str) -> int:
    """Delete every notification row of a case, held ones too (for the retention purge)."""
    session.execute(
        delete(HeldNotification)
        .where(HeldNotification.case_id == case_id)
        .execution_options(synchronize_session=False)
    )
    result = session.execute(
        delete(Notification)
        .where(Notification.case_id == case_id)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def prune(session: Session, now: datetime) -> int:
    """Delete sent rows older than :data:`KEEP_SENT`, except overdue notices of cases that
    still exist (they stop a repeat), and every row of a case that no longer exists."""
    old_sent = and_(Notification.sent_at.is_not(None), Notification.sent_at < now - KEEP_SENT)
    case_exists = exists().where(Case.id == Notification.case_id)
    result = session.execute(
        delete(Notification)
        .where(
            or_(
                and_(old_sent, Notification.kind != NotificationKind.OVERDUE.value),
                and_(Notification.case_id.is_not(None), not_(case_exists)),
            )
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class OutboxEntry:
    """One unsent notification as the admin page lists it (no address, no case data)."""

    id: int
    kind: str
    reviewer_id: int
    username: str
    attempts: int
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    not_before: datetime
    gave_up: bool


def failed_notifications(session: Session, limit: int = 200) -> list[OutboxEntry]:
    """Unsent notifications, failed ones first (those given up before those still being
    retried), then those waiting for their first attempt; newest first within each."""
    rows = session.execute(
        select(Notification, Reviewer.username)
        .join(Reviewer, Reviewer.id == Notification.reviewer_id)
        .where(Notification.sent_at.is_(None))
        .order_by(
            (Notification.attempts >= MAX_ATTEMPTS).desc(),
            (Notification.attempts > 0).desc(),
            Notification.id.desc(),
        )
        .limit(limit)
    ).all()
    return [
        OutboxEntry(
            id=row.id,
            kind=row.kind,
            reviewer_id=row.reviewer_id,
            username=username,
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at,
            last_attempt_at=row.last_attempt_at,
            not_before=row.not_before,
            gave_up=row.attempts >= MAX_ATTEMPTS,
        )
        for row, username in rows
    ]


def retry_failed(session: Session, now: datetime | None = None) -> int:
    """Give every notification that was given up a fresh set of attempts (an admin fixed
    the SMTP settings or an address); the next ``notify send`` tries them again."""
    rows = session.scalars(
        select(Notification).where(
            Notification.sent_at.is_(None), Notification.attempts >= MAX_ATTEMPTS
        )
    ).all()
    for row in rows:
        row.attempts = 0
        row.not_before = now or utcnow()
    session.flush()
    return len(rows)
