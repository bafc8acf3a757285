"""Two people for every access change: the rule, stated once.

Threat: an administrator who adds themselves to a unit, promotes an accomplice, or
resets a colleague's password and authenticator and logs in as them, could read cases
alone. So every change that gives someone keys to cases, or power over who gets them,
is only *requested* by one administrator and carried out when a **second** one
approves:

- a unit membership (also the one an invitation link brings: the new account exists at
  once, its unit only after approval);
- a role that rises (observer to reviewer reads cases; anyone to admin approves);
- a reset of another reviewer's password (a new key pair) or authenticator;
- a new recovery recipient;
- an identity custodian of a unit (app.cases.custodians: opens its sealed identities).

Until approval nothing of it exists: no membership row, no role, no reset, no pending
grant, so no key can be wrapped. Approving executes the change and only then queues the
grants. The requester can never approve their own request, and nobody approves a change
to themselves; anyone may refuse. A request not decided within :data:`REQUEST_TTL`
expires. Taking access away (leaving a unit, a lower role, deactivation) needs nobody's
approval. Every step is in the audit log, and the members of the affected units are
told: an in-app notice (:func:`notices_for`) and, with SMTP configured, an e-mail that
says only that an access change to their unit is pending or approved.

With a single active administrator nothing can be approved in the review app: the
server's operator approves on the command line (``flask … access approve ID``), which
is recorded under their operating-system user name (app.actors). Not covered: two
administrators who collude, and the operator, who can do anything the database can.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app import audit, installation
from app.accounts import reviewers
from app.accounts.errors import AccountError
from app.accounts.totp import TotpKey
from app.actors import reviewer_actor
from app.cases import custodians
from app.installation import UnknownUnitError
from app.models import AccessChangeRequest, Invitation, Membership, Reviewer, Unit, utcnow
from app.models.vocabulary import AccessChangeKind, AccessChangeStatus, Role
from app.notifications import outbox
from config.settings import KdfSettings
from crypto import Recipient

REQUEST_TTL = timedelta(days=7)
# How long an approved change stays on the members' pages after it happened.
NOTICE_PERIOD = timedelta(days=14)
MAX_REASON_CHARS = 500
INVITATION_REASON = "invitation"
_ROLE_RANK = {Role.OBSERVER.value: 0, Role.REVIEWER.value: 1, Role.ADMIN.value: 2}
T = TypeVar("T")
Kind = AccessChangeKind
Status = AccessChangeStatus


class ApprovalError(AccountError):
    """An access-change request or decision the rule refuses. Nothing was changed."""

    code = "approval"


class ReasonRequiredError(ApprovalError):
    code = "reason_required"


class OwnRequestError(ApprovalError):
    """The requester cannot approve their own request."""

    code = "own_request"


class OwnChangeError(ApprovalError):
    """Nobody approves a change to themselves."""

    code = "own_change"


class NotAdminError(ApprovalError):
    code = "not_admin"


class NotPendingError(ApprovalError):
    """Already approved, refused or expired (or unknown)."""

    code = "not_pending"


class AlreadyPendingError(ApprovalError):
    code = "already_pending"


class NoChangeError(ApprovalError):
    """The change is already in place (a member already, the same role)."""

    code = "no_change"


class InactiveTargetError(ApprovalError):
    code = "target_inactive"


class InvalidRecipientError(ApprovalError):
    code = "invalid_recipient"


@dataclass(frozen=True)
class Decider:
    """Who requests or decides: a logged-in admin, or the operator on the command line
    (``reviewer`` None, ``label`` ``cli:<os user>``)."""

    label: str
    reviewer: Reviewer | None = None
    # Set without ``reviewer`` for an invitation's requests: the admin who made the link
    # (who must not approve them), whatever their role is now.
    on_behalf_of: int | None = None

    @property
    def reviewer_id(self) -> int | None:
        return self.reviewer.id if self.reviewer is not None else self.on_behalf_of

    @classmethod
    def admin(cls, reviewer: Reviewer) -> Decider:
        return cls(reviewers.actor_of(reviewer), reviewer)


@dataclass(frozen=True, repr=False)
class ApprovalOutcome:
    """What approving did. A reset's new secret is returned once, for the approver to
    hand over in person; it is stored nowhere in clear."""

    request: AccessChangeRequest
    temporary_password: str | None = None
    totp_secret: str | None = None

    def __repr__(self) -> str:
        return f"ApprovalOutcome(request={self.request.id})"


@dataclass(frozen=True)
class MembershipChange:
    removed: list[str]
    requested: list[AccessChangeRequest] = field(default_factory=list)


# --- requesting ------------------------------------------------------------------------


def _clean_reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise ReasonRequiredError("an access change needs a reason")
    return text[:MAX_REASON_CHARS]


def _require_admin(decider: Decider) -> None:
    who = decider.reviewer
    if who is not None and (who.role != Role.ADMIN.value or not who.active):
        raise NotAdminError("only an active administrator decides access changes")


def _request(
    session: Session,
    kind: AccessChangeKind,
    *,
    requester: Decider,
    reason: str,
    target: Reviewer | None = None,
    unit: Unit | None = None,
    value: str | None = None,
    notify: bool,
    now: datetime | None = None,
) -> AccessChangeRequest:
    """Store a request (the public functions checked who asks)."""
    moment = now or utcnow()
    if target is not None and not target.active:
        raise InactiveTargetError("the account is deactivated")
    duplicate = session.scalar(
        select(AccessChangeRequest.id).where(
            AccessChangeRequest.kind == kind.value,
            AccessChangeRequest.status == Status.PENDING.value,
            AccessChangeRequest.expires_at > moment,
            _same(AccessChangeRequest.target_id, target.id if target else None),
            _same(AccessChangeRequest.unit_id, unit.id if unit else None),
            _same(AccessChangeRequest.value, value),
        )
    )
    if duplicate is not None:
        raise AlreadyPendingError(f"request {duplicate} asks for the same change")
    row = AccessChangeRequest(
        kind=kind.value,
        target_id=target.id if target else None,
        unit_id=unit.id if unit else None,
        value=value,
        reason=reason,
        status=Status.PENDING.value,
        requested_by_id=requester.reviewer_id,
        requested_by=requester.label,
        requested_at=moment,
        expires_at=moment + REQUEST_TTL,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=requester.label,
        action="access_change.requested",
        details={**_describe(session, row), "reason": reason},
    )
    if notify:
        _notify(session, row, "pending")
    return row


def _same(column: InstrumentedAttribute[T], value: T | None) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def request_memberships(
    session: Session,
    requester: Decider,
    target: Reviewer,
    unit_slugs: Iterable[str],
    reason: str,
    *,
    notify: bool = False,
) -> MembershipChange:
    """The admin page's "units" form: units left are left at once; each unit joined
    becomes a request for a second admin."""
    _require_admin(requester)
    wanted = {s.strip() for s in unit_slugs if s.strip()}
    units = {u.slug: u for u in _active_units(session, wanted)}
    current = {m.unit.slug for m in target.memberships}
    joining = sorted(set(units) - current)
    text = _clean_reason(reason) if joining else ""
    removed = reviewers.remove_memberships(
        session, target, sorted(current - set(units)), actor=requester.label
    )
    requested = [
        _request(
            session,
            Kind.MEMBERSHIP,
            requester=requester,
            reason=text,
            target=target,
            unit=units[slug],
            notify=notify,
        )
        for slug in joining
    ]
    return MembershipChange(removed, requested)


def _active_units(session: Session, slugs: set[str]) -> list[Unit]:
    units = list(session.scalars(select(Unit).where(Unit.slug.in_(slugs), Unit.active)))
    missing = slugs - {u.slug for u in units}
    if missing:
        raise UnknownUnitError(f"no active unit {', '.join(sorted(missing))}")
    return units


def raises_power(current: str, new: str) -> bool:
    """Whether going from role ``current`` to ``new`` gives more: keys or approvals."""
    return _ROLE_RANK[new] > _ROLE_RANK[current]


def request_role(
    session: Session,
    requester: Decider,
    target: Reviewer,
    role: str,
    reason: str,
    *,
    notify: bool = False,
) -> AccessChangeRequest | None:
    """A higher role waits for a second admin; a lower one applies at once (returns
    None then)."""
    _require_admin(requester)
    new_role = reviewers.validate_role(role).value
    if new_role == target.role:
        raise NoChangeError("the account has this role already")
    if not raises_power(target.role, new_role):
        reviewers.set_role(session, target, new_role, actor=requester.label)
        return None
    return _request(
        session,
        Kind.ROLE,
        requester=requester,
        reason=_clean_reason(reason),
        target=target,
        value=new_role,
        notify=notify,
    )


def request_reset(
    session: Session,
    requester: Decider,
    target: Reviewer,
    kind: AccessChangeKind,
    reason: str,
    *,
    notify: bool = False,
) -> AccessChangeRequest:
    """A new password (and key pair) or a new authenticator for ``target``."""
    if kind not in (Kind.PASSWORD_RESET, Kind.TOTP_RESET):
        raise ValueError(f"{kind} is not a reset")
    _require_admin(requester)
    return _request(
        session,
        kind,
        requester=requester,
        reason=_clean_reason(reason),
        target=target,
        notify=notify,
    )


def request_recovery_key(
    session: Session, requester: Decider, recipient: str, reason: str, *, notify: bool = False
) -> AccessChangeRequest:
    """A new offline recovery key: every future wrap will open with it."""
    _require_admin(requester)
    try:
        text = str(Recipient.parse(recipient.strip()))
    except ValueError:
        raise InvalidRecipientError("not an age X25519 recipient (age1…)") from None
    if text == installation.recovery_recipient_text(session):
        raise NoChangeError("this is the recovery key already")
    return _request(
        session,
        Kind.RECOVERY_KEY,
        requester=requester,
        reason=_clean_reason(reason),
        value=text,
        notify=notify,
    )


def request_custodian(
    session: Session,
    requester: Decider,
    target: Reviewer,
    unit_slug: str,
    reason: str,
    *,
    notify: bool = False,
) -> AccessChangeRequest:
    """``target`` to become an identity custodian of a unit they are a member of
    (app.cases.custodians): they would open the unit's sealed identities."""
    _require_admin(requester)
    (unit,) = _active_units(session, {unit_slug.strip()})
    if not any(m.unit_id == unit.id for m in target.memberships):
        raise NoChangeError("only a member of the unit can be its identity custodian")
    if custodians.is_custodian(session, target.id, unit.id):
        raise NoChangeError("the account is a custodian of this unit already")
    return _request(
        session,
        Kind.CUSTODIAN,
        requester=requester,
        reason=_clean_reason(reason),
        target=target,
        unit=unit,
        notify=notify,
    )


def enrol_invited(
    session: Session,
    invitation: Invitation,
    credentials: reviewers.Credentials,
    *,
    totp_key: TotpKey,
    totp_secret: str,
    totp_last_step: int,
    notify: bool = False,
) -> Reviewer:
    """Create the account an invitation link was redeemed for: at once, but with no unit
    and at most the reviewer role. The unit (and an admin role) are requests in the name
    of the admin who made the link, so that admin cannot approve them, and the approver
    sees who actually redeemed it."""
    label = f"invitation:{invitation.id}"
    invited_role = reviewers.validate_role(invitation.role).value
    start_role = Role.REVIEWER.value if invited_role == Role.ADMIN.value else invited_role
    reviewer = reviewers.add_reviewer(
        session,
        credentials,
        role=start_role,
        unit_slugs=[],
        totp_key=totp_key,
        totp_secret=totp_secret,
        totp_last_step=totp_last_step,
        actor=label,
        via="invite",
    )
    requester = Decider(label, on_behalf_of=invitation.created_by_id)
    unit = session.get(Unit, invitation.unit_id) if invitation.unit_id else None
    if unit is not None:
        _request(
            session,
            Kind.MEMBERSHIP,
            requester=requester,
            reason=INVITATION_REASON,
            target=reviewer,
            unit=unit,
            notify=notify,
        )
    if invited_role != start_role:
        _request(
            session,
            Kind.ROLE,
            requester=requester,
            reason=INVITATION_REASON,
            target=reviewer,
            value=invited_role,
            notify=notify,
        )
    return reviewer


# --- deciding --------------------------------------------------------------------------


def _pending(session: Session, request_id: int, now: datetime) -> AccessChangeRequest:
    expire_stale(session, now)
    row = session.scalar(
        select(AccessChangeRequest).where(AccessChangeRequest.id == request_id).with_for_update()
    )
    if row is None or row.status != Status.PENDING.value:
        raise NotPendingError("no such pending request")
    return row


def approve(
    session: Session,
    request_id: int,
    approver: Decider,
    *,
    password_kdf: KdfSettings,
    totp_key: TotpKey,
    notify: bool = False,
    now: datetime | None = None,
) -> ApprovalOutcome:
    """Carry out the request as ``approver``, a second person. Raises and changes
    nothing if the rule says no."""
    _require_admin(approver)
    moment = now or utcnow()
    row = _pending(session, request_id, moment)
    who = approver.reviewer
    if who is not None and row.requested_by_id == who.id:
        raise OwnRequestError("the requester cannot approve their own request")
    if who is not None and row.target_id == who.id:
        raise OwnChangeError("nobody approves a change to themselves")
    target = session.get(Reviewer, row.target_id) if row.target_id is not None else None
    if row.target_id is not None and (target is None or not target.active):
        raise InactiveTargetError("the account is deactivated")
    row.status = Status.APPROVED.value
    row.decided_by_id = who.id if who else None
    row.decided_by = approver.label
    row.decided_at = moment
    session.flush()
    audit.record(
        session,
        actor=approver.label,
        action="access_change.approved",
        details={**_describe(session, row), "requested_by": row.requested_by},
    )
    outcome = _execute(session, row, target, approver.label, password_kdf, totp_key)
    if notify:
        _notify(session, row, "approved")
    return outcome


def _execute(
    session: Session,
    row: AccessChangeRequest,
    target: Reviewer | None,
    actor: str,
    password_kdf: KdfSettings,
    totp_key: TotpKey,
) -> ApprovalOutcome:
    kind = Kind(row.kind)
    if kind is Kind.RECOVERY_KEY:
        assert row.value is not None
        installation.set_recovery_recipient(session, row.value, actor=actor)
        return ApprovalOutcome(row)
    assert target is not None
    if kind is Kind.MEMBERSHIP:
        unit = session.get(Unit, row.unit_id)
        if unit is None or not unit.active:
            raise UnknownUnitError("the unit is gone or inactive")
        reviewers.add_membership(session, target, unit.slug, actor=actor)
        return ApprovalOutcome(row)
    if kind is Kind.CUSTODIAN:
        unit = session.get(Unit, row.unit_id)
        if unit is None or not unit.active:
            raise UnknownUnitError("the unit is gone or inactive")
        custodians.designate(session, target, unit, actor=actor)
        return ApprovalOutcome(row)
    if kind is Kind.ROLE:
        assert row.value is not None
        reviewers.set_role(session, target, row.value, actor=actor)
        return ApprovalOutcome(row)
    if kind is Kind.PASSWORD_RESET:
        password = reviewers.admin_reset_password(
            session, target, password_kdf=password_kdf, actor=actor
        )
        return ApprovalOutcome(row, temporary_password=password)
    secret = reviewers.reset_totp(session, target, totp_key=totp_key, actor=actor)
    return ApprovalOutcome(row, totp_secret=secret)


def refuse(
    session: Session, request_id: int, decider: Decider, *, now: datetime | None = None
) -> AccessChangeRequest:
    """Any admin (the requester too, to withdraw) or the operator may refuse."""
    _require_admin(decider)
    moment = now or utcnow()
    row = _pending(session, request_id, moment)
    row.status = Status.REFUSED.value
    row.decided_by_id = decider.reviewer.id if decider.reviewer else None
    row.decided_by = decider.label
    row.decided_at = moment
    session.flush()
    audit.record(
        session,
        actor=decider.label,
        action="access_change.refused",
        details=_describe(session, row),
    )
    return row


def expire_stale(session: Session, now: datetime | None = None) -> int:
    """Mark pending requests past their time as expired (audited). Returns how many."""
    moment = now or utcnow()
    rows = session.scalars(
        select(AccessChangeRequest)
        .where(
            AccessChangeRequest.status == Status.PENDING.value,
            AccessChangeRequest.expires_at <= moment,
        )
        .order_by(AccessChangeRequest.id)
    ).all()
    for row in rows:
        row.status = Status.EXPIRED.value
        row.decided_by = "system"
        row.decided_at = moment
        audit.record(
            session, actor="system", action="access_change.expired", details=_describe(session, row)
        )
    session.flush()
    return len(rows)


# --- reading ---------------------------------------------------------------------------


def approvals_possible_here(session: Session) -> bool:
    """With one active admin, nobody can approve in the review app (the operator can)."""
    return reviewers.active_admin_count(session) >= 2


def pending_requests(session: Session, now: datetime | None = None) -> list[AccessChangeRequest]:
    moment = now or utcnow()
    return list(
        session.scalars(
            select(AccessChangeRequest)
            .where(
                AccessChangeRequest.status == Status.PENDING.value,
                AccessChangeRequest.expires_at > moment,
            )
            .order_by(AccessChangeRequest.requested_at, AccessChangeRequest.id)
        )
    )


def decided_requests(session: Session, limit: int = 50) -> list[AccessChangeRequest]:
    return list(
        session.scalars(
            select(AccessChangeRequest)
            .where(AccessChangeRequest.status != Status.PENDING.value)
            .order_by(AccessChangeRequest.decided_at.desc(), AccessChangeRequest.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class AccessNotice:
    """An access change that concerns a reviewer's unit (or the reviewer), as their
    inbox or dashboard shows it."""

    kind: str
    status: str
    units: tuple[Unit, ...]  # empty: every unit (the recovery key)
    target: str | None
    value: str | None
    requested_at: datetime
    decided_at: datetime | None


def affected_unit_ids(session: Session, row: AccessChangeRequest) -> set[int] | None:
    """The units whose cases the change opens; None for every unit (recovery key)."""
    if row.kind == Kind.RECOVERY_KEY.value:
        return None
    if row.kind in (Kind.MEMBERSHIP.value, Kind.CUSTODIAN.value):
        return {row.unit_id} if row.unit_id is not None else set()
    return set(
        session.scalars(select(Membership.unit_id).where(Membership.reviewer_id == row.target_id))
    )


def notices_for(
    session: Session, reviewer_id: int, now: datetime | None = None, limit: int = 50
) -> list[AccessNotice]:
    """Pending requests, and those approved in the last :data:`NOTICE_PERIOD`, that touch
    one of the reviewer's units or the reviewer themselves."""
    moment = now or utcnow()
    mine = set(
        session.scalars(select(Membership.unit_id).where(Membership.reviewer_id == reviewer_id))
    )
    rows = session.scalars(
        select(AccessChangeRequest)
        .where(
            or_(
                (AccessChangeRequest.status == Status.PENDING.value)
                & (AccessChangeRequest.expires_at > moment),
                (AccessChangeRequest.status == Status.APPROVED.value)
                & (AccessChangeRequest.decided_at > moment - NOTICE_PERIOD),
            )
        )
        .order_by(AccessChangeRequest.requested_at.desc(), AccessChangeRequest.id.desc())
        .limit(limit)
    ).all()
    notices = []
    for row in rows:
        affected = affected_unit_ids(session, row)
        if row.target_id != reviewer_id and affected is not None and not (affected & mine):
            continue
        units = _units_by_id(session, affected or set())
        target = session.get(Reviewer, row.target_id) if row.target_id else None
        notices.append(
            AccessNotice(
                kind=row.kind,
                status=row.status,
                units=tuple(units),
                target=target.username if target else None,
                value=row.value if row.kind == Kind.ROLE.value else None,
                requested_at=row.requested_at,
                decided_at=row.decided_at,
            )
        )
    return notices


def _units_by_id(session: Session, unit_ids: set[int]) -> Sequence[Unit]:
    if not unit_ids:
        return []
    return list(session.scalars(select(Unit).where(Unit.id.in_(unit_ids)).order_by(Unit.id)))


def _describe(session: Session, row: AccessChangeRequest) -> dict[str, audit.DetailValue]:
    unit = session.get(Unit, row.unit_id) if row.unit_id is not None else None
    return {
        "request": row.id,
        "kind": row.kind,
        "target": reviewer_actor(row.target_id) if row.target_id is not None else None,
        "unit": unit.slug if unit else None,
        "value": row.value,
    }


def _notify(session: Session, row: AccessChangeRequest, state: str) -> None:
    """E-mail (through the outbox) every member of the affected units, the target and
    every admin: only that an access change to their unit is pending or approved."""
    affected = affected_unit_ids(session, row)
    members = select(Membership.reviewer_id)
    if affected is not None:
        members = members.where(Membership.unit_id.in_(affected))
    people = set(
        session.scalars(
            select(Reviewer.id).where(
                Reviewer.active.is_(True),
                Reviewer.email.is_not(None),
                or_(
                    Reviewer.id.in_(members),
                    Reviewer.role == Role.ADMIN.value,
                    Reviewer.id == row.target_id,
                ),
            )
        )
    )
    slugs = [u.slug for u in _units_by_id(session, affected)] if affected is not None else []
    outbox.queue_access_change(session, sorted(people), state=state, unit_slugs=slugs)
