"""A reviewer's actions that change a case and write to its thread or notes at once.

Each is one unit of work for the caller to commit: the status change is flushed first,
so that a refused transition writes no message, and a message or note that cannot be
stored rolls the status change back with it (``add_message_from_server`` and
``add_note`` roll back on failure).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.cases import legal_process, workflow
from app.cases.access import Actor
from app.cases.messages import add_message_from_server
from app.cases.notes import add_note
from app.models import Case
from app.models.vocabulary import Side
from app.storage import BlobStore


def acknowledge(session: Session, store: BlobStore, actor: Actor, case: Case) -> None:
    """Acknowledge the case; anonymous information also gets its system notice (Luật Tố
    cáo art. 25: received, considered within competence). A named denunciation's
    notices come with its statutory decisions (app.cases.legal_process) instead."""
    workflow.acknowledge(session, actor, case)
    session.flush()
    legal_process.send_information_notice(session, store, actor, case)


def reply_to_reporter(
    session: Session, store: BlobStore, actor: Actor, case: Case, text: str
) -> None:
    """A message from the reviewers, encrypted to the case key."""
    add_message_from_server(
        session,
        store,
        case=case,
        side=Side.REVIEWER,
        author_id=actor.reviewer_id,
        text=text,
        attachments=[],
    )


def ask_reporter(session: Session, store: BlobStore, actor: Actor, case: Case, text: str) -> None:
    """Wait for the reporter (status) and send them the question (message)."""
    workflow.request_information(session, actor, case)
    session.flush()
    reply_to_reporter(session, store, actor, case, text)


def route_with_reason(
    session: Session, store: BlobStore, actor: Actor, case: Case, unit_slug: str, reason: str
) -> None:
    """Route the case, and keep the reason as a note: the reasoning is internal, so it is
    encrypted to the staff key, never to the reporter."""
    workflow.route(session, actor, case, unit_slug, reason)
    session.flush()
    add_note(session, store, actor, case, reason, kind="routing_reason")


def close_with_message(
    session: Session,
    store: BlobStore,
    actor: Actor,
    case: Case,
    resolution: str,
    retention_days: int,
    text: str,
) -> None:
    """Close the case; a non-empty ``text`` is sent to the reporter with the closing."""
    workflow.close(session, actor, case, resolution, retention_days)
    if text.strip():
        session.flush()
        reply_to_reporter(session, store, actor, case, text.strip())
