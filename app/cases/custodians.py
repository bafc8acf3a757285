"""Identity custodians: who can open the sealed identities of a unit's named cases.

Luật Tố cáo 2018 art. 47(1) and art. 56: whoever receives and resolves a denunciation keeps the
denouncer's identity secret. Here the secret is a key (app.cases.identity): a named
case's identity key is wrapped for its holding unit's custodians (normally the head of
the unit) and the offline recovery key, and for nobody else. Ordinary members handle the
content without ever holding it.

Becoming a custodian gives keys, so it is an access change: requested by one
administrator and carried out when a second approves (app.accounts.approvals, kind
``custodian``), audited at both steps. Stepping down, like leaving a unit, is immediate.
A custodian counts only while they are also an active member of the unit with a key and
not an observer: leaving the unit ends custodianship in the wraps at the next reseal.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app import audit, clock
from app.actors import reviewer_actor
from app.models import Membership, Reviewer, Unit, UnitCustodian
from app.models.vocabulary import Role
from crypto import Recipient


class CustodianError(ValueError):
    """A custodian designation the rules refuse. Nothing was changed."""


class NotAMemberError(CustodianError):
    """Only a member of the unit can be its custodian."""


def is_custodian(session: Session, reviewer_id: int, unit_id: int) -> bool:
    return reviewer_id in custodian_ids(session, unit_id)


def custodian_ids(session: Session, unit_id: int) -> list[int]:
    """Effective custodians of ``unit_id``: designated, active members with a key, not
    observers (who never read cases)."""
    return list(
        session.scalars(
            select(Reviewer.id)
            .join(UnitCustodian, UnitCustodian.reviewer_id == Reviewer.id)
            .join(
                Membership,
                (Membership.reviewer_id == Reviewer.id) & (Membership.unit_id == unit_id),
            )
            .where(
                UnitCustodian.unit_id == unit_id,
                Reviewer.active.is_(True),
                Reviewer.public_key.is_not(None),
                Reviewer.role != Role.OBSERVER.value,
            )
            .order_by(Reviewer.id)
        )
    )


def custodian_recipients(session: Session, unit_id: int) -> list[Recipient]:
    """Public keys of the unit's effective custodians (the sealed identity's readers,
    with the recovery key)."""
    keys = session.scalars(
        select(Reviewer.public_key).where(Reviewer.id.in_(custodian_ids(session, unit_id)))
    ).all()
    return sorted((Recipient.parse(k) for k in keys if k), key=str)


def custodian_units(session: Session, reviewer_id: int) -> list[int]:
    """The units ``reviewer_id`` is an effective custodian of."""
    unit_ids = session.scalars(
        select(UnitCustodian.unit_id).where(UnitCustodian.reviewer_id == reviewer_id)
    ).all()
    return [u for u in unit_ids if is_custodian(session, reviewer_id, u)]


def designate(session: Session, reviewer: Reviewer, unit: Unit, *, actor: str) -> bool:
    """Make ``reviewer`` a custodian of ``unit``. Called only by an approved access
    change (app.accounts.approvals._execute). Returns whether anything changed."""
    member = session.scalar(
        select(Membership.unit_id).where(
            Membership.reviewer_id == reviewer.id, Membership.unit_id == unit.id
        )
    )
    if member is None:
        raise NotAMemberError("only a member of the unit can be its identity custodian")
    if session.get(UnitCustodian, (unit.id, reviewer.id)) is not None:
        return False
    # An approved access change, by two administrators: never a reporter's action, so
    # its exact time may stand (the column has no default that could date one).
    session.add(UnitCustodian(unit_id=unit.id, reviewer_id=reviewer.id, created_at=clock.utcnow()))
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="custodian.designated",
        details={"reviewer": reviewer_actor(reviewer.id), "unit": unit.slug},
    )
    return True


def remove(session: Session, reviewer: Reviewer, unit: Unit, *, actor: str) -> bool:
    """Take custodianship away at once (taking keys away needs nobody's approval). The
    seals still open for them until resealed (app.cases.identity.reseal_stale)."""
    result = session.execute(
        delete(UnitCustodian).where(
            UnitCustodian.unit_id == unit.id, UnitCustodian.reviewer_id == reviewer.id
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    audit.record(
        session,
        actor=actor,
        action="custodian.removed",
        details={"reviewer": reviewer_actor(reviewer.id), "unit": unit.slug},
    )
    return True


def designated(session: Session) -> list[tuple[Unit, Reviewer]]:
    """Every designation (for the admins' page and the CLI), by unit then name."""
    rows = session.execute(
        select(Unit, Reviewer)
        .join(UnitCustodian, UnitCustodian.unit_id == Unit.id)
        .join(Reviewer, Reviewer.id == UnitCustodian.reviewer_id)
        .order_by(Unit.slug, Reviewer.username)
    ).all()
    return [(unit, reviewer) for unit, reviewer in rows]
