"""One-time links: the first admin's setup link and invitations into a unit.

A link carries ``secrets.token_urlsafe(32)`` (256 bits). Only its SHA-256 is stored,
so the invitations table cannot be used to create an account. Redeeming is a single
``UPDATE … WHERE used_at IS NULL AND expires_at > now``: of two concurrent
redemptions exactly one changes a row, and only that one may create the account.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from app import audit
from app.accounts.errors import AdminExistsError, InvalidInvitationError
from app.accounts.reviewers import active_admin_count, actor_of, validate_role
from app.actors import CLI_ACTOR
from app.installation import UnknownUnitError
from app.models import Invitation, Reviewer, Unit, utcnow
from app.models.vocabulary import InvitationKind, Role, UnitKind

SETUP_TTL = timedelta(hours=1)
INVITE_TTL = timedelta(hours=72)
SETUP_UNIT = UnitKind.INTAKE.value  # the first admin belongs to the intake team
_MAX_TOKEN_LENGTH = 128


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def _new_token() -> tuple[str, bytes]:
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def create_setup_link(
    session: Session,
    ttl: timedelta = SETUP_TTL,
    *,
    actor: str = CLI_ACTOR,
    now: datetime | None = None,
) -> str:
    """A link that creates the first admin; refused once an active admin exists."""
    if active_admin_count(session) > 0:
        raise AdminExistsError("an administrator already exists")
    now = now or utcnow()
    token, digest = _new_token()
    session.add(
        Invitation(
            token_hash=digest,
            kind=InvitationKind.SETUP.value,
            role=Role.ADMIN.value,
            unit_id=session.scalar(select(Unit.id).where(Unit.slug == SETUP_UNIT)),
            created_at=now,
            expires_at=now + ttl,
        )
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="invitation.created",
        details={"kind": InvitationKind.SETUP.value, "role": Role.ADMIN.value},
    )
    return token


def create_invitation(
    session: Session,
    *,
    unit_slug: str,
    role: str,
    created_by: Reviewer,
    ttl: timedelta = INVITE_TTL,
    now: datetime | None = None,
) -> str:
    """A link that creates one account with ``role`` in ``unit_slug``."""
    role_value = validate_role(role).value
    unit = session.scalar(select(Unit).where(Unit.slug == unit_slug, Unit.active))
    if unit is None:
        raise UnknownUnitError(f"no active unit {unit_slug!r}")
    now = now or utcnow()
    token, digest = _new_token()
    session.add(
        Invitation(
            token_hash=digest,
            kind=InvitationKind.INVITE.value,
            role=role_value,
            unit_id=unit.id,
            created_by_id=created_by.id,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    session.flush()
    audit.record(
        session,
        actor=actor_of(created_by),
        action="invitation.created",
        details={"kind": InvitationKind.INVITE.value, "role": role_value, "unit": unit.slug},
    )
    return token


def _usable(session: Session, token: str, now: datetime) -> Invitation:
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        raise InvalidInvitationError("unknown, used or expired link")
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash(token))
    )
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= now:
        raise InvalidInvitationError("unknown, used or expired link")
    if invitation.kind == InvitationKind.SETUP.value and active_admin_count(session) > 0:
        raise InvalidInvitationError("an administrator already exists")
    return invitation


def peek(session: Session, token: str, *, now: datetime | None = None) -> Invitation:
    """The invitation behind ``token`` if it could be redeemed now (nothing changes)."""
    return _usable(session, token, now or utcnow())


def redeem(session: Session, token: str, *, now: datetime | None = None) -> Invitation:
    """Mark the invitation used, atomically; raise :class:`InvalidInvitationError`."""
    now = now or utcnow()
    invitation = _usable(session, token, now)
    result = session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.used_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    if result.rowcount != 1:
        raise InvalidInvitationError("the link was used meanwhile")
    session.refresh(invitation)
    return invitation
