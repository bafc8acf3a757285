"""Who may see what. One rule, stated once, used by the SQL of the inbox and by every
case page, and matched by the key wraps (app.cases.keys.unit_reader_recipients):

A reviewer (role reviewer or admin) may read a case when they are an active member of
the unit holding it, are not a member of a unit the reporter excluded, and have not
recused themselves. Observers never read cases. Nobody else does either: not an admin
of another unit, not the intake team once the case was routed away.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, exists, not_, select
from sqlalchemy.orm import Session

from app.actors import reviewer_actor
from app.models import Case, CaseExclusion, Membership, Recusal, Reviewer
from app.models.vocabulary import Role
from crypto import Identity


class AccessDenied(PermissionError):
    """The actor may not do this (or may not even know the case exists)."""


@dataclass(frozen=True)
class Actor:
    """A logged-in reviewer as the domain sees them. ``identity`` is their unwrapped
    private key, present only while their session holds it."""

    reviewer_id: int
    role: Role
    unit_ids: frozenset[int]
    identity: Identity | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return reviewer_actor(self.reviewer_id)

    @property
    def reads_cases(self) -> bool:
        return self.role in (Role.REVIEWER, Role.ADMIN)


def load_actor(session: Session, reviewer_id: int, identity: Identity | None = None) -> Actor:
    reviewer = session.get(Reviewer, reviewer_id)
    if reviewer is None or not reviewer.active:
        raise AccessDenied("no such active reviewer")
    units = session.scalars(
        select(Membership.unit_id).where(Membership.reviewer_id == reviewer_id)
    ).all()
    return Actor(reviewer_id, Role(reviewer.role), frozenset(units), identity)


def readable_by(actor: Actor) -> ColumnElement[bool]:
    """SQL condition: the case is readable by ``actor`` (for the inbox and lookups)."""
    if not actor.reads_cases or not actor.unit_ids:
        return Case.id.is_(None)  # matches nothing
    return and_(
        Case.holding_unit_id.in_(actor.unit_ids),
        not_(exists().where(Recusal.case_id == Case.id, Recusal.reviewer_id == actor.reviewer_id)),
        not_(
            exists().where(
                CaseExclusion.case_id == Case.id, CaseExclusion.unit_id.in_(actor.unit_ids)
            )
        ),
    )


def readable_case(session: Session, actor: Actor, case_id: str) -> Case:
    """The case, if ``actor`` may read it; :class:`AccessDenied` otherwise (the view turns
    that into a 404 so that existence is not revealed)."""
    case = session.scalar(select(Case).where(Case.id == case_id, readable_by(actor)))
    if case is None:
        raise AccessDenied("case not readable")
    return case


def require_reader(session: Session, actor: Actor, case: Case) -> None:
    """Refuse unless ``actor`` may read (and so act on) ``case``."""
    if not actor.reads_cases:
        raise AccessDenied("observers do not handle cases")
    if session.scalar(select(Case.id).where(Case.id == case.id, readable_by(actor))) is None:
        raise AccessDenied("not a reader of this case")


def require_admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise AccessDenied("administrators only")
