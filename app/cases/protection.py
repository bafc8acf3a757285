"""Whistleblower protection requests: a reporter asks for protection or reports
retaliation ("yêu cầu bảo vệ / báo bị trù dập, trả thù"), staff answer.

Law. Luật Tố cáo 2018 (25/2018/QH14): art. 47 gives the denouncer (and spouse, parents,
children) protection of confidentiality, job and income, life, health, property and
honour; art. 50 is the request (in writing; by phone or in person in an emergency,
confirmed in writing later); art. 51 is its consideration - "kịp thời", with a written,
reasoned answer when refused (art. 51(3)). Read at hethongphapluat.com/luat-to-cao-2018/
chuong-6/muc-2; docs/legal.md §4. The Law sets no number of days: the default period
(3 working days) is by analogy with Thông tư 145/2020/TT-BCA art. 5(3), configured in
config/legal_periods.toml [protection] (app.cases.legal_periods.protection_due).

Either track may file one. On the anonymous track the reporter is not a denouncer in
the Law's sense (art. 25), so there is no statutory right to the measures; the unit still
hears the report of retaliation and answers it, on the same clock.

What is stored. The request is a reporter's message like any other (app.cases.messages:
encrypted to the case key, day only, audit event held until the day is over); a
:class:`~app.models.ProtectionRequest` row flags it with its filing day and due day.
The answer is a reviewer's message (encrypted to the case key, exact time) and marks the
request answered: open → answered, one answer per request, audited as
``protection.answered``. Nothing of either text is in clear anywhere.

Who sees it. The holding unit's readers see the request in the thread, flagged, and on
top of their inbox; the oversight unit's members see that a request is open, its case
reference, its holding unit and its due day - never its text (they hold no case key).
Nobody else learns it exists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app import audit, clock
from app.cases import legal_periods
from app.cases.access import Actor, readable_by, require_reader
from app.cases.deadlines import DeadlineState, protection_state
from app.cases.legal_process import protection_periods, work_calendar
from app.cases.messages import add_message_from_browser, add_message_from_server
from app.cases.payloads import AttachmentMeta
from app.cases.thread import message_day
from app.models import Case, Message, ProtectionRequest, Unit, utcnow
from app.models.vocabulary import Side, UnitKind
from app.storage import BlobStore, PendingBlob


class ProtectionError(ValueError):
    """The answer cannot be given; nothing was changed. ``code`` picks the message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _admit_all() -> None:
    """The default ``admit`` hook: no flood control."""


def _flag(session: Session, case: Case, message: Message) -> ProtectionRequest:
    filed = message_day(Side.REPORTER, message.created_at)
    request = ProtectionRequest(
        message_id=message.id,
        case_id=case.id,
        filed_day=filed,
        due_day=legal_periods.protection_due(filed, work_calendar(), protection_periods()),
    )
    session.add(request)
    # A reporter's event: the day only, chained once the day is over (app.audit.hold).
    audit.hold(session, action="protection.requested", day=filed, case_id=case.id)
    session.flush()
    return request


def file_request_from_server(
    session: Session,
    store: BlobStore,
    *,
    case: Case,
    text: str,
    attachments: Sequence[tuple[PendingBlob, AttachmentMeta]],
    notify: bool = False,
    after: int | None = None,
    admit: Callable[[], None] = _admit_all,
) -> ProtectionRequest:
    """The follow-up form without JavaScript: the server encrypts, as for a message."""
    message = add_message_from_server(
        session,
        store,
        case=case,
        side=Side.REPORTER,
        author_id=None,
        text=text,
        attachments=attachments,
        notify=notify,
        after=after,
        admit=admit,
    )
    return _flag(session, case, message)


def file_request_from_browser(
    session: Session,
    *,
    case: Case,
    body: PendingBlob,
    attachments: Sequence[PendingBlob],
    max_file_bytes: int,
    notify: bool = False,
    admit: Callable[[], None] = _admit_all,
) -> ProtectionRequest:
    """The follow-up page with JavaScript: the browser encrypted it to the case key."""
    message = add_message_from_browser(
        session,
        case=case,
        body=body,
        attachments=attachments,
        max_file_bytes=max_file_bytes,
        notify=notify,
        admit=admit,
    )
    return _flag(session, case, message)


def answer_request(
    session: Session,
    store: BlobStore,
    actor: Actor,
    case: Case,
    request_id: int | None,
    text: str,
) -> ProtectionRequest:
    """A reader of the case answers an open request: the answer goes into the thread
    (encrypted to the case key) and the request is answered. Raises
    :class:`ProtectionError` (``not_found``, ``already_answered``) or
    :class:`app.cases.messages.MessageError` (empty or too long); nothing is kept then."""
    require_reader(session, actor, case)
    request = session.get(ProtectionRequest, request_id) if request_id is not None else None
    if request is None or request.case_id != case.id:
        raise ProtectionError("not_found")
    if request.answered_at is not None:
        raise ProtectionError("already_answered")
    answer = add_message_from_server(
        session,
        store,
        case=case,
        side=Side.REVIEWER,
        author_id=actor.reviewer_id,
        text=text,
        attachments=[],
    )
    request.answered_at = utcnow()
    request.answered_by_id = actor.reviewer_id
    request.answer_message_id = answer.id
    audit.record(
        session,
        actor=actor.label,
        action="protection.answered",
        case_id=case.id,
        details={"late": clock.today() > request.due_day},
    )
    session.flush()
    return request


@dataclass(frozen=True)
class CaseProtection:
    """One request of a case, as the case page and the reporter's page show it."""

    message_id: int
    filed_day: date
    due_day: date
    state: DeadlineState  # MET once answered
    answered_day: date | None
    answer_message_id: int | None

    @property
    def answered(self) -> bool:
        return self.answered_day is not None


def case_requests(session: Session, case_id: str, today: date) -> list[CaseProtection]:
    """The requests of one case, oldest due first. The caller has checked who reads."""
    rows = session.scalars(
        select(ProtectionRequest)
        .where(ProtectionRequest.case_id == case_id)
        .order_by(ProtectionRequest.due_day, ProtectionRequest.message_id)
    ).all()
    return [
        CaseProtection(
            message_id=row.message_id,
            filed_day=row.filed_day,
            due_day=row.due_day,
            state=protection_state(row, today),
            answered_day=clock.local_day(row.answered_at) if row.answered_at else None,
            answer_message_id=row.answer_message_id,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class OpenRequest:
    """An open request on top of an inbox. ``readable``: the viewer holds the case
    (a link to it); otherwise they see it as the oversight unit does, without a link."""

    message_id: int
    case_id: str
    reference: str
    holding_unit: Unit | None
    filed_day: date
    due_day: date
    state: DeadlineState
    readable: bool


def oversees(session: Session, actor: Actor) -> bool:
    """The actor is a member of an active oversight unit (the steering committee)."""
    if not actor.unit_ids:
        return False
    return bool(
        session.scalar(
            select(
                exists().where(
                    Unit.id.in_(actor.unit_ids),
                    Unit.kind == UnitKind.OVERSIGHT.value,
                    Unit.active.is_(True),
                )
            )
        )
    )


def open_requests_for(session: Session, actor: Actor, today: date) -> list[OpenRequest]:
    """Unanswered requests the actor is to act on or to watch, most urgent first: those
    of cases they may read, and - for a member of the oversight unit - every open one
    (metadata only). Anyone else sees none."""
    watching = oversees(session, actor)
    reads = readable_by(actor)
    query = (
        select(ProtectionRequest, Case, reads)
        .join(Case, Case.id == ProtectionRequest.case_id)
        .where(ProtectionRequest.answered_at.is_(None))
        .order_by(ProtectionRequest.due_day, Case.ref_year, Case.ref_number)
    )
    if not watching:
        query = query.where(reads)
    rows = session.execute(query).all()
    units = {
        unit.id: unit
        for unit in session.scalars(
            select(Unit).where(Unit.id.in_({case.holding_unit_id for _r, case, _ in rows}))
        )
    }
    return [
        OpenRequest(
            message_id=request.message_id,
            case_id=case.id,
            reference=case.reference,
            holding_unit=units.get(case.holding_unit_id),
            filed_day=request.filed_day,
            due_day=request.due_day,
            state=protection_state(request, today),
            readable=bool(readable),
        )
        for request, case, readable in rows
    ]
