"""Who may see what. One rule, stated once here, in two shapes:

A reviewer (role reviewer or admin) may read a case when they are an active member of
the unit holding it, are not a member of a unit the reporter excluded, and have not
recused themselves. Observers never read cases. Nobody else does either: not an admin
of another unit, not the intake team once the case was routed away.

- :func:`readable_by`: for one reviewer, which cases (the inbox, every case page);
- :func:`reader_conditions`: for one case, which reviewers - used for the key wraps
  (app.cases.keys.unit_reader_recipients, which adds "holds a key") and for who is
  told by e-mail (app.notifications.outbox).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, exists, not_, select
from sqlalchemy.orm import Session, aliased

from app.actors import reviewer_actor
from app.models import Case, CaseExclusion, Membership, Recusal, Reviewer
from app.models.vocabulary import Role
from crypto import Identity

# Observers (the steering committee) oversee numbers, never content.
READER_ROLES = (Role.REVIEWER, Role.ADMIN)


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
        return self.role in READER_ROLES


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


def reader_conditions(
    unit_id: SQLColumnExpression[int] | int,
    *,
    case_id: SQLColumnExpression[str] | str | None = None,
    excluded_unit_ids: Iterable[int] | None = None,
) -> list[ColumnElement[bool]]:
    """Conditions on ``Reviewer``: may read a case held by ``unit_id``.

    The excluded units are ``excluded_unit_ids`` when given (a case being submitted has
    no exclusion rows yet), else the case's own; recusals count when ``case_id`` is
    given. ``unit_id`` and ``case_id`` may be columns, for a query over many cases.
    """
    holding = aliased(Membership)
    barred = aliased(Membership)
    conditions: list[ColumnElement[bool]] = [
        Reviewer.active.is_(True),
        Reviewer.role.in_([role.value for role in READER_ROLES]),
        exists().where(holding.reviewer_id == Reviewer.id, holding.unit_id == unit_id),
    ]
    excluded: Select[tuple[int]] | Select[int] | list[int] | None = None
    if excluded_unit_ids is not None:
        excluded = list(excluded_unit_ids)
    elif case_id is not None:
        excluded = select(CaseExclusion.unit_id).where(CaseExclusion.case_id == case_id)
    if excluded is not None:
        conditions.append(
            not_(exists().where(barred.reviewer_id == Reviewer.id, barred.unit_id.in_(excluded)))
        )
    if case_id is not None:
        conditions.append(
            not_(exists().where(Recusal.case_id == case_id, Recusal.reviewer_id == Reviewer.id))
        )
    return conditions


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


# -- outcomes, referrals and the recovery ledger (issue 14) ------------------------------
#
# Writing: the members of the holding unit who read the case (require_case_handler):
# they record the referral, the agency's result, the outcome figures when closing, and
# the recovery ledger, also after the case is closed (money is often recovered months
# after the conclusion). Reading: the case page shows all of it to the same readers
# (the ledger's notes decrypt only with the staff key they hold). The figures alone -
# days, counts and amounts, never a note - are also read in aggregate by oversight:
# observers and administrators on the dashboard (may_read_outcome_figures), who never
# see a case page.


def require_case_handler(session: Session, actor: Actor, case: Case) -> None:
    """Refuse unless ``actor`` may record referrals, outcomes and recoveries of ``case``:
    the same people who may read and act on it (:func:`require_reader`)."""
    require_reader(session, actor, case)


def may_read_outcome_figures(actor: Actor) -> bool:
    """Whether ``actor`` may read outcome figures in aggregate (the dashboard and its
    export): observers and administrators, as for every statistic."""
    return actor.role in (Role.OBSERVER, Role.ADMIN)
