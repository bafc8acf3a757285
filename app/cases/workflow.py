"""Case transitions, one function each.

``new → triage → (needs_info ↔ triage) → routed_inspection | routed_investigation →
closed``, and ``triage → closed``. Each function checks the actor's role and unit
(:mod:`app.cases.access`), records an audit event in the caller's transaction, and keeps
the deadlines. None commits: the caller commits once, so an action and its audit event
land together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit, clock
from app.actors import reviewer_actor
from app.cases.access import AccessDenied, Actor, load_actor, require_admin, require_reader
from app.cases.grants import lock_case, rewrap_case
from app.cases.outcomes import withdraw_outcome
from app.installation import UnknownUnitError
from app.models import Case, CaseExclusion, Membership, Recusal, Reviewer, Unit, utcnow
from app.models.vocabulary import CaseStatus, Priority, Resolution, Role, UnitKind

ROUTE_TARGETS = {
    UnitKind.INSPECTION: CaseStatus.ROUTED_INSPECTION,
    UnitKind.INVESTIGATION: CaseStatus.ROUTED_INVESTIGATION,
}
OPEN_STATUSES = frozenset(CaseStatus) - {CaseStatus.CLOSED}


class WorkflowError(ValueError):
    """A transition that the case's state or the input does not allow."""

    code = "invalid_transition"


class InvalidTransitionError(WorkflowError):
    code = "invalid_transition"


class ReasonRequiredError(WorkflowError):
    code = "reason_required"


class ResolutionRequiredError(WorkflowError):
    """Closing needs a resolution chosen on purpose: there is no default one."""

    code = "resolution_required"


class ExcludedUnitError(WorkflowError):
    code = "excluded_unit"


class NotAMemberError(WorkflowError):
    code = "not_a_member"


class KeyRequiredError(WorkflowError):
    """Rewrapping needs the actor's private key in their session."""

    code = "key_required"


def _status(case: Case) -> CaseStatus:
    return CaseStatus(case.status)


def _transition(
    session: Session,
    actor: Actor,
    case: Case,
    allowed_from: set[CaseStatus],
    to: CaseStatus,
    action: str,
    **details: str,
) -> None:
    require_reader(session, actor, case)
    previous = _status(case)
    if previous not in allowed_from:
        raise InvalidTransitionError(f"cannot go from {previous.value} to {to.value}")
    case.status = to.value
    audit.record(
        session,
        actor=actor.label,
        action=action,
        case_id=case.id,
        details={"from": previous.value, "to": to.value, **details},
    )


def record_view(session: Session, actor: Actor, case: Case) -> None:
    """Opening a case decrypts it: that is audited, and it acknowledges a new case."""
    require_reader(session, actor, case)
    audit.record(session, actor=actor.label, action="case.viewed", case_id=case.id)


def acknowledge(session: Session, actor: Actor, case: Case) -> None:
    _transition(session, actor, case, {CaseStatus.NEW}, CaseStatus.TRIAGE, "case.acknowledged")
    case.acknowledged_at = utcnow()


def request_information(session: Session, actor: Actor, case: Case) -> None:
    _transition(
        session,
        actor,
        case,
        {CaseStatus.NEW, CaseStatus.TRIAGE},
        CaseStatus.NEEDS_INFO,
        "case.information_requested",
    )
    case.acknowledged_at = case.acknowledged_at or utcnow()


def resume_triage(session: Session, actor: Actor, case: Case) -> None:
    _transition(
        session, actor, case, {CaseStatus.NEEDS_INFO}, CaseStatus.TRIAGE, "case.triage_resumed"
    )


def set_priority(session: Session, actor: Actor, case: Case, priority: str) -> None:
    require_reader(session, actor, case)
    if priority not in {p.value for p in Priority}:
        raise WorkflowError(f"unknown priority {priority!r}")
    previous = case.priority
    case.priority = priority
    audit.record(
        session,
        actor=actor.label,
        action="case.priority_set",
        case_id=case.id,
        details={"from": previous, "to": priority},
    )


def assign(session: Session, actor: Actor, case: Case, assignee_id: int | None) -> None:
    """Assign to a member who can read the case (or unassign with None)."""
    require_reader(session, actor, case)
    if assignee_id is not None:
        try:
            require_reader(session, load_actor(session, assignee_id), case)
        except AccessDenied:
            raise NotAMemberError("the assignee cannot read this case") from None
    case.assignee_id = assignee_id
    audit.record(
        session,
        actor=actor.label,
        action="case.assigned",
        case_id=case.id,
        details={"assignee": reviewer_actor(assignee_id) if assignee_id else None},
    )


def route_targets(session: Session, case: Case) -> list[Unit]:
    """Units the case may be routed to: inspection or investigation units, active, not
    excluded by the reporter, not the current holder."""
    excluded = select(CaseExclusion.unit_id).where(CaseExclusion.case_id == case.id)
    return list(
        session.scalars(
            select(Unit)
            .where(
                Unit.kind.in_([k.value for k in ROUTE_TARGETS]),
                Unit.active.is_(True),
                Unit.id != case.holding_unit_id,
                Unit.id.not_in(excluded),
            )
            .order_by(Unit.id)
        )
    )


class RoutingBlock(StrEnum):
    """Why a case cannot be routed now (the page says it instead of hiding the form)."""

    CLOSED = "closed"
    EXCLUDED_BY_REPORTER = "excluded_by_reporter"  # every inspection/investigation unit
    NO_OTHER_UNIT = "no_other_unit"  # none active besides the holder


@dataclass(frozen=True)
class RoutingOptions:
    targets: list[Unit]
    excluded: list[Unit]  # every unit the reporter excluded, route target or not
    blocked: RoutingBlock | None


def routing_options(session: Session, case: Case) -> RoutingOptions:
    """Where the case may go, which units the reporter kept out, and, when it can go
    nowhere, why: a reporter who excludes both inspection and investigation makes a case
    only the intake unit can ever handle, and the reviewer must be told so."""
    excluded = list(
        session.scalars(
            select(Unit)
            .join(CaseExclusion, CaseExclusion.unit_id == Unit.id)
            .where(CaseExclusion.case_id == case.id)
            .order_by(Unit.id)
        )
    )
    targets = route_targets(session, case)
    blocked = None
    if _status(case) is CaseStatus.CLOSED:
        blocked = RoutingBlock.CLOSED
    elif not targets:
        possible = session.scalars(
            select(Unit.id).where(
                Unit.kind.in_([k.value for k in ROUTE_TARGETS]),
                Unit.active.is_(True),
                Unit.id != case.holding_unit_id,
            )
        ).all()
        excluded_ids = {unit.id for unit in excluded}
        if possible and set(possible) <= excluded_ids:
            blocked = RoutingBlock.EXCLUDED_BY_REPORTER
        else:
            blocked = RoutingBlock.NO_OTHER_UNIT
    return RoutingOptions(targets=targets, excluded=excluded, blocked=blocked)


def route(session: Session, actor: Actor, case: Case, unit_slug: str, reason: str) -> CaseStatus:
    """Send the case to an inspection or investigation unit. Its key wraps are rewritten
    so that the target unit's members can read and the previous unit's cannot. The
    reason is triage reasoning: the caller stores it as a note under the staff key; the
    audit log records only that a routing happened, from where to where.

    The case row is locked first, so a concurrent rewrap (a grant being fulfilled) either
    finishes before we read the holding unit or waits and then sees the new one."""
    case = lock_case(session, case)
    require_reader(session, actor, case)
    if _status(case) is CaseStatus.CLOSED:
        raise InvalidTransitionError("a closed case cannot be routed; reopen it first")
    if not reason.strip():
        raise ReasonRequiredError("routing needs a reason")
    unit = session.scalar(select(Unit).where(Unit.slug == unit_slug, Unit.active.is_(True)))
    if unit is None or UnitKind(unit.kind) not in ROUTE_TARGETS:
        raise UnknownUnitError(f"{unit_slug!r} is not an inspection or investigation unit")
    excluded = session.scalar(
        select(CaseExclusion.unit_id).where(
            CaseExclusion.case_id == case.id, CaseExclusion.unit_id == unit.id
        )
    )
    if excluded is not None:
        raise ExcludedUnitError("the reporter asked that this unit never read the case")
    if unit.id == case.holding_unit_id:
        raise InvalidTransitionError("the case is already held by this unit")
    if actor.identity is None:
        raise KeyRequiredError("your session holds no key: log in again")
    previous_unit = session.get(Unit, case.holding_unit_id)
    previous = _status(case)
    target = ROUTE_TARGETS[UnitKind(unit.kind)]
    case.holding_unit_id = unit.id
    case.status = target.value
    case.assignee_id = None
    case.decided_at = case.decided_at or utcnow()
    case.acknowledged_at = case.acknowledged_at or utcnow()
    session.flush()
    rewrap_case(session, case, [actor.identity])
    audit.record(
        session,
        actor=actor.label,
        action="case.routed",
        case_id=case.id,
        details={
            "from_unit": previous_unit.slug if previous_unit else None,
            "to_unit": unit.slug,
            "from": previous.value,
            "to": target.value,
        },
    )
    return target


def recuse(session: Session, actor: Actor, case: Case) -> None:
    """A reviewer with a conflict of interest gives up access. The wraps are rewritten
    without their key, so the refusal holds in cryptography, not just in SQL."""
    case = lock_case(session, case)
    require_reader(session, actor, case)
    if actor.identity is None:
        raise KeyRequiredError("your session holds no key: log in again")
    session.add(Recusal(case_id=case.id, reviewer_id=actor.reviewer_id))
    if case.assignee_id == actor.reviewer_id:
        case.assignee_id = None
    session.flush()
    rewrap_case(session, case, [actor.identity])
    audit.record(session, actor=actor.label, action="case.recused", case_id=case.id)


def close(session: Session, actor: Actor, case: Case, resolution: str, retention_days: int) -> None:
    if resolution not in {r.value for r in Resolution}:
        raise ResolutionRequiredError(f"choose a resolution, not {resolution!r}")
    _transition(
        session,
        actor,
        case,
        set(OPEN_STATUSES),
        CaseStatus.CLOSED,
        "case.closed",
        resolution=resolution,
    )
    now = utcnow()
    case.resolution = resolution
    case.closed_at = now
    case.decided_at = case.decided_at or now
    case.purge_after = clock.local_day(now) + timedelta(days=retention_days)


def reopen(session: Session, actor: Actor, case: Case) -> None:
    require_admin(actor)
    _transition(session, actor, case, {CaseStatus.CLOSED}, CaseStatus.TRIAGE, "case.reopened")
    withdraw_outcome(session, actor, case)  # the conclusion is withdrawn, its figures too
    case.resolution = None
    case.closed_at = None
    case.purge_after = None


def case_members(session: Session, case: Case) -> list[Reviewer]:
    """Who could be assigned: the holding unit's active readers of the case."""
    recused = select(Recusal.reviewer_id).where(Recusal.case_id == case.id)
    excluded_units = select(CaseExclusion.unit_id).where(CaseExclusion.case_id == case.id)
    in_excluded = select(Membership.reviewer_id).where(Membership.unit_id.in_(excluded_units))
    return list(
        session.scalars(
            select(Reviewer)
            .join(Membership, Membership.reviewer_id == Reviewer.id)
            .where(
                Membership.unit_id == case.holding_unit_id,
                Reviewer.active.is_(True),
                Reviewer.role != Role.OBSERVER.value,
                Reviewer.id.not_in(recused),
                Reviewer.id.not_in(in_excluded),
            )
            .order_by(Reviewer.username)
        )
    )
