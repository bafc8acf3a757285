"""The optional automatic acknowledgment: on a reviewer's first view of a new case, the
reporter gets a fixed message and the case goes to triage.

The EU whistleblowing directive (2019/1937, art. 9(1)(b) and 11(2)(b)) asks for an
acknowledgment within 7 days; an installation that wants it sent as soon as somebody
looks turns it on with ``LIEMCHINH_AUTO_ACKNOWLEDGE`` (off by default: some teams
prefer to word the first message themselves).

The acknowledgment and the message are one unit of work: the transition and the message
go into the same session, which the caller commits once (app.cases.unit_of_work). If the
message cannot be stored, the session is rolled back, so a case is never acknowledged
without its message, nor the reverse.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cases import legal_process, workflow
from app.cases.access import Actor
from app.cases.messages import add_message_from_server
from app.models import Case, Message
from app.models.vocabulary import CaseStatus, Side
from app.storage import BlobStore

# Vietnamese first: the reporter's default language. Fixed text, never case content.
AUTOMATIC_ACKNOWLEDGMENT = (
    "Phản ánh của bạn đã được tiếp nhận và đang được xem xét.\n\n"
    "Your report has been received and is being reviewed."
)


def maybe_send_automatic_acknowledgment(
    session: Session, store: BlobStore, actor: Actor, case: Case, enabled: bool
) -> bool:
    """Acknowledge ``case`` and send the fixed message, when ``enabled``, the case is
    new and no reviewer has written to the reporter yet. True when it was sent.

    ``case`` must belong to ``session``; the caller commits when this returns True.
    The actor is the reviewer whose view triggered it: they must be a reader of the
    case (checked by :func:`app.cases.workflow.acknowledge`), and the message and audit
    events carry their id, which is never shown to the reporter.
    """
    if not enabled:
        return False
    # Two reviewers opening the same new case at once must not send two messages: the
    # row is locked and re-read (PostgreSQL; SQLite's write transactions are serial).
    session.refresh(case, with_for_update=True)
    if case.status != CaseStatus.NEW.value:
        return False
    already_written = session.scalar(
        select(Message.id)
        .where(Message.case_id == case.id, Message.author_side == Side.REVIEWER.value)
        .limit(1)
    )
    if already_written is not None:
        return False
    try:
        workflow.acknowledge(session, actor, case)
        session.flush()
        add_message_from_server(
            session,
            store,
            case=case,
            side=Side.REVIEWER,
            # The audit actor is built from author_id ("reviewer:<id>"); None would
            # record "reviewer:None". The reviewer who opened the case triggered it.
            author_id=actor.reviewer_id,
            text=AUTOMATIC_ACKNOWLEDGMENT,
            attachments=[],
        )
        # Anonymous information also gets its system notice (Luật Tố cáo art. 25), as
        # when a reviewer acknowledges by hand (app.cases.actions.acknowledge).
        legal_process.send_information_notice(session, store, actor, case)
    except BaseException:
        # add_message_from_server rolls back what it started; a failure before it
        # (refused transition, blob store down) must not leave the transition pending
        # for the caller to commit by mistake.
        session.rollback()
        raise
    return True
