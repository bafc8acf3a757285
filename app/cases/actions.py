"""A reviewer's actions that change a case and write to its thread or notes at once.

Each is one unit of work for the caller to commit: the status change is flushed first,
so that a refused transition writes no message, and a message or note that cannot be
stored rolls the status change back with it (``add_message_from_server`` and
``add_note`` roll back on failure).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.cases import legal_process, outcomes, referrals, workflow
from app.cases.access import Actor
from app.cases.messages import add_message_from_server
from app.cases.notes import add_note
from app.cases.outcomes import OutcomeFigures
from app.cases.referrals import ReferralDetails, ReferralError
from app.models import Case, Unit
from app.models.vocabulary import Side, UnitKind
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
    session: Session,
    store: BlobStore,
    actor: Actor,
    case: Case,
    unit_slug: str,
    reason: str,
    referral: ReferralDetails | None = None,
    *,
    today: date | None = None,
    agencies_file: Path | None = None,
) -> None:
    """Route the case, and keep the reason as a note: the reasoning is internal, so it is
    encrypted to the staff key, never to the reporter.

    Routing to an investigation unit is a referral to the investigation agency
    (app.cases.referrals): ``referral`` must say which agency, by which dispatch, and is
    checked before anything changes. A case whose referral awaits the agency's result
    cannot be routed (the result comes first; a return is :func:`return_to_inspection`).
    """
    referrals.require_no_open_referral(session, case)
    to_investigation = referrals.is_investigation_unit(session, unit_slug)
    if to_investigation:
        if referral is None or today is None:
            raise ReferralError("referral_required")
        referrals.check_details(referral, today, agencies_file)
    workflow.route(session, actor, case, unit_slug, reason)
    session.flush()
    add_note(session, store, actor, case, reason, kind="routing_reason")
    if to_investigation:
        assert referral is not None and today is not None
        referrals.record_referral(
            session, actor, case, referral, today, agencies_file=agencies_file
        )


def return_to_inspection(
    session: Session,
    store: BlobStore,
    actor: Actor,
    case: Case,
    unit_slug: str,
    reason: str,
    day: date | None,
    today: date,
) -> None:
    """The agency returned the case to the inspection (trả lại cho thanh tra) on ``day``:
    the referral's result, and the case goes back to an inspection unit by the ordinary
    routing rules (exclusions, rewrap, reason kept as a note)."""
    kind = session.scalar(select(Unit.kind).where(Unit.slug == unit_slug))
    if kind != UnitKind.INSPECTION.value:
        raise ReferralError("return_needs_inspection_unit")
    if not reason.strip():
        raise workflow.ReasonRequiredError("routing needs a reason")
    referrals.record_return(session, actor, case, day, today)
    session.flush()
    route_with_reason(session, store, actor, case, unit_slug, reason)


def close_with_message(
    session: Session,
    store: BlobStore,
    actor: Actor,
    case: Case,
    resolution: str,
    retention_days: int,
    text: str,
    figures: OutcomeFigures | None = None,
    *,
    today: date | None = None,
) -> None:
    """Close the case with its conclusion and the outcome figures (app.cases.outcomes:
    figures only for a founded or partly founded conclusion); a non-empty ``text`` is
    sent to the reporter with the closing."""
    workflow.close(session, actor, case, resolution, retention_days)
    session.flush()
    outcomes.record_outcome(
        session, actor, case, figures or OutcomeFigures(), today or clock.today()
    )
    if text.strip():
        session.flush()
        reply_to_reporter(session, store, actor, case, text.strip())
