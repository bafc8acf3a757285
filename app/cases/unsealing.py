"""Unsealing a named denunciation's identity: two people, audited.

Luật Tố cáo 2018 art. 47(1), art. 56: the identity stays secret from the people handling
the case. A reader of the case asks with a reason (encrypted to the staff key: it may
quote the report); a custodian of the holding unit who is not the requester approves;
only then is the case's identity key wrapped for the requester alone (docs/crypto.md,
"Sealed identity"). The reporter is told the day and the unit, never the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.actors import reviewer_actor
from app.cases.access import Actor, load_actor, require_reader
from app.cases.custodians import is_custodian
from app.cases.identity import IdentityError, require_sealed, sealed_identity
from app.cases.keys import try_unwrap, wrap_identity_to_recipients
from app.models import Case, Reviewer, Unit, UnsealRequest
from app.models.vocabulary import UnsealStatus
from app.notifications import outbox
from crypto import AgeError, Identity, Recipient, decrypt_bytes, encrypt_bytes

MAX_REASON_CHARS = 500


class ReasonRequiredError(IdentityError):
    code = "reason_required"


class AlreadyRequestedError(IdentityError):
    code = "already_requested"


class NotPendingError(IdentityError):
    code = "not_pending"


class OwnRequestError(IdentityError):
    """A custodian cannot approve their own request: that would be one person."""

    code = "own_request"


class NotCustodianError(IdentityError):
    code = "not_custodian"


class SealStaleError(IdentityError):
    """The wrap does not open with this custodian's key (the case was routed here and
    not resealed yet): someone who can open it must reseal it first."""

    code = "seal_stale"


def request_unseal(
    session: Session, actor: Actor, case: Case, reason: str, *, today: date, notify: bool = False
) -> UnsealRequest:
    """Step 1: a reader of the case asks, with a reason (kept encrypted to the staff key:
    it may quote the report). With ``notify`` (e-mail on), the unit's custodians are told
    a request waits (a link, nothing of the case or the reason)."""
    require_reader(session, actor, case)
    require_sealed(session, case)
    text = " ".join((reason or "").split())
    if not text:
        raise ReasonRequiredError("a reason is required", field="reason")
    if len(text) > MAX_REASON_CHARS:
        raise ReasonRequiredError("the reason is too long", field="reason")
    pending = session.scalar(
        select(UnsealRequest.id).where(
            UnsealRequest.case_id == case.id,
            UnsealRequest.requester_id == actor.reviewer_id,
            UnsealRequest.status == UnsealStatus.PENDING.value,
        )
    )
    if pending is not None:
        raise AlreadyRequestedError("a request of yours is already waiting")
    row = UnsealRequest(
        case_id=case.id,
        requester_id=actor.reviewer_id,
        sealed_reason=encrypt_bytes(text.encode("utf-8"), [Recipient.parse(case.staff_recipient)]),
        status=UnsealStatus.PENDING.value,
        requested_day=today,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="identity.unseal_requested",
        case_id=case.id,
        details={"request": row.id},
    )
    if notify:
        outbox.queue_unseal_request(session, case, actor.reviewer_id)
    return row


def _pending_request(session: Session, case: Case, request_id: int) -> UnsealRequest:
    row = session.scalar(
        select(UnsealRequest)
        .where(UnsealRequest.id == request_id, UnsealRequest.case_id == case.id)
        .with_for_update()
    )
    if row is None or row.status != UnsealStatus.PENDING.value:
        raise NotPendingError("no such pending request")
    return row


def _require_custodian(session: Session, actor: Actor, case: Case) -> None:
    require_reader(session, actor, case)
    if not is_custodian(session, actor.reviewer_id, case.holding_unit_id):
        raise NotCustodianError("only an identity custodian of the holding unit decides")


def approve_unseal(
    session: Session, actor: Actor, case: Case, request_id: int, *, today: date
) -> UnsealRequest:
    """Step 2: a custodian of the holding unit, not the requester, approves; only now is
    the identity key wrapped, for the requester alone."""
    _require_custodian(session, actor, case)
    seal = require_sealed(session, case)
    row = _pending_request(session, case, request_id)
    if row.requester_id == actor.reviewer_id:
        raise OwnRequestError("the requester cannot approve their own request")
    requester = session.get(Reviewer, row.requester_id)
    if requester is None or not requester.active or not requester.public_key:
        raise NotPendingError("the requester has no active account with a key")
    # The requester must still read the case (not routed away, not recused).
    require_reader(session, load_actor(session, requester.id), case)
    key = try_unwrap(seal.wrap, [actor.identity]) if actor.identity is not None else None
    if key is None:
        raise SealStaleError("the seal does not open with your key yet: reseal it first")
    row.requester_wrap = wrap_identity_to_recipients(key, [Recipient.parse(requester.public_key)])
    row.status = UnsealStatus.APPROVED.value
    row.decided_by_id = actor.reviewer_id
    row.decided_day = today
    row.unit_id = case.holding_unit_id
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="identity.unsealed",
        case_id=case.id,
        details={"request": row.id, "requester": reviewer_actor(row.requester_id)},
    )
    return row


def refuse_unseal(
    session: Session, actor: Actor, case: Case, request_id: int, *, today: date
) -> UnsealRequest:
    """A custodian refuses (or the requester withdraws): nothing is wrapped."""
    require_reader(session, actor, case)
    row = _pending_request(session, case, request_id)
    if row.requester_id != actor.reviewer_id:
        _require_custodian(session, actor, case)
    row.status = UnsealStatus.REFUSED.value
    row.decided_by_id = actor.reviewer_id
    row.decided_day = today
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="identity.unseal_refused",
        case_id=case.id,
        details={"request": row.id},
    )
    return row


@dataclass(frozen=True)
class UnsealView:
    """A request as the case page shows it (the reason decrypted if the viewer can)."""

    id: int
    requester: str
    reason: str | None
    status: str
    requested_day: date
    decided_day: date | None
    mine: bool


def unseal_requests(
    session: Session, case: Case, actor: Actor, staff_key: Identity | None
) -> list[UnsealView]:
    rows = session.execute(
        select(UnsealRequest, Reviewer.username)
        .join(Reviewer, Reviewer.id == UnsealRequest.requester_id)
        .where(UnsealRequest.case_id == case.id)
        .order_by(UnsealRequest.id)
    ).all()
    views = []
    for row, username in rows:
        reason = None
        if staff_key is not None:
            try:
                reason = decrypt_bytes(row.sealed_reason, [staff_key]).decode("utf-8")
            except (AgeError, UnicodeDecodeError):
                reason = None
        views.append(
            UnsealView(
                row.id,
                username,
                reason,
                row.status,
                row.requested_day,
                row.decided_day,
                row.requester_id == actor.reviewer_id,
            )
        )
    return views


@dataclass(frozen=True)
class Unsealing:
    """What the reporter is told: the day and the unit, nothing about who."""

    day: date
    unit_id: int | None


def unsealings_for_reporter(session: Session, case_id: str) -> list[Unsealing]:
    rows = session.execute(
        select(UnsealRequest.decided_day, UnsealRequest.unit_id)
        .where(
            UnsealRequest.case_id == case_id, UnsealRequest.status == UnsealStatus.APPROVED.value
        )
        .order_by(UnsealRequest.decided_day)
    ).all()
    return [Unsealing(day, unit_id) for day, unit_id in rows if day is not None]


def unit_of(session: Session, unit_id: int | None) -> Unit | None:
    return session.get(Unit, unit_id) if unit_id is not None else None


@dataclass(frozen=True)
class ReporterSealView:
    """The follow-up page's line on a named report: sealed, or unsealed on which days and
    by which units (never by whom: that would name a person to the reporter)."""

    unsealings: list[tuple[date, Unit | None]]


def reporter_seal_view(session: Session, case_id: str) -> ReporterSealView | None:
    """None for an anonymous report."""
    if sealed_identity(session, case_id) is None:
        return None
    return ReporterSealView(
        [(u.day, unit_of(session, u.unit_id)) for u in unsealings_for_reporter(session, case_id)]
    )
