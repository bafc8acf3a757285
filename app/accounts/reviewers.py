"""Reviewer accounts: creation, login with lockout, password and key changes, admin edits.

Keys. Each reviewer has an X25519 key pair; the private half is stored only wrapped
under the password (crypto.keywrap: Argon2id with its own salt, then
ChaCha20-Poly1305). A successful password check unwraps it and hands it to the caller,
which keeps it in the encrypted server-side session. Changing the password rewraps the
same key; an admin reset cannot (the old password is unknown), so it makes a new key
pair and the reviewer must be granted access to their cases again.

Throttling. Failures are counted per account in ``failed_logins``; from the fifth
consecutive failure the account is locked for 1 minute, doubling with each further
failure up to 1 hour. An unknown username costs the same Argon2id work (a dummy hash is
verified) and gets the same error, so the login form does not tell which usernames
exist. Only a complete login (password and TOTP) resets the counter, so someone who
knows the password cannot guess codes forever.

Every function takes the caller's session and never commits. On
:class:`LoginFailedError` the caller must still commit: the failure counter and the
"login.failed" audit event are the point.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app import audit
from app.accounts import passwords, totp
from app.accounts.errors import (
    CurrentPasswordError,
    InvalidRoleError,
    InvalidTotpError,
    InvalidUsernameError,
    LastAdminError,
    LoginFailedError,
    TotpDecryptionError,
    UsernameTakenError,
)
from app.accounts.totp import TotpKey
from app.actors import CLI_ACTOR, reviewer_actor
from app.cases import grants
from app.installation import UnknownUnitError
from app.models import Membership, Reviewer, Unit, WebSession, utcnow
from app.models.vocabulary import Role
from config.settings import KdfSettings
from crypto import (
    Identity,
    KeyWrapError,
    unwrap_identity_with_password,
    wrap_identity_with_password,
)
from crypto.keywrap import read_params

USERNAME_PATTERN = re.compile(r"^[a-z0-9._-]{3,64}$")
LOCKOUT_THRESHOLD = 5
LOCKOUT_BASE = timedelta(minutes=1)
LOCKOUT_CAP = timedelta(hours=1)
UNKNOWN_ACTOR = "unknown"


def actor_of(reviewer: Reviewer) -> str:
    """How a reviewer is named in the audit log (an id: usernames can be reused)."""
    return reviewer_actor(reviewer.id)


def normalise_username(raw: str) -> str:
    return (raw or "").strip().lower()


def validate_username(raw: str) -> str:
    username = normalise_username(raw)
    if not USERNAME_PATTERN.match(username):
        raise InvalidUsernameError(
            "a username is 3-64 characters: lowercase letters, digits, dot, dash, underscore"
        )
    return username


def validate_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidRoleError(f"unknown role {role!r}") from None


def reviewer_named(session: Session, username: str) -> Reviewer | None:
    """The account of ``username`` as typed (normalised like at creation), or None."""
    return session.scalar(select(Reviewer).where(Reviewer.username == normalise_username(username)))


def username_taken(session: Session, username: str) -> bool:
    return (
        session.scalar(select(Reviewer.id).where(Reviewer.username == normalise_username(username)))
        is not None
    )


def active_admin_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count(Reviewer.id)).where(
                Reviewer.role == Role.ADMIN.value, Reviewer.active.is_(True)
            )
        )
        or 0
    )


def get_reviewer(session: Session, reviewer_id: int) -> Reviewer | None:
    return session.get(Reviewer, reviewer_id)


def list_reviewers(session: Session) -> list[Reviewer]:
    return list(session.scalars(select(Reviewer).order_by(Reviewer.username)).all())


def unit_slugs_of(reviewer: Reviewer) -> list[str]:
    return sorted(m.unit.slug for m in reviewer.memberships)


def _units(session: Session, slugs: Iterable[str]) -> list[Unit]:
    wanted = sorted({s.strip() for s in slugs if s.strip()})
    units = list(session.scalars(select(Unit).where(Unit.slug.in_(wanted), Unit.active)).all())
    missing = set(wanted) - {u.slug for u in units}
    if missing:
        raise UnknownUnitError(f"no active unit {', '.join(sorted(missing))}")
    return units


def end_sessions(session: Session, reviewer_id: int) -> None:
    """Log the reviewer out everywhere (their session rows hold their unwrapped key)."""
    session.execute(delete(WebSession).where(WebSession.reviewer_id == reviewer_id))


# --- creation --------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Credentials:
    """What a new account stores about its password: nothing that reveals it.

    Made before the account exists, so that enrolment can keep these (and not the
    password) while it waits for the first TOTP code.
    """

    username: str
    password_hash: str
    public_key: str
    wrapped_private_key: bytes

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, public_key={self.public_key!r})"


def prepare_credentials(*, username: str, password: str, password_kdf: KdfSettings) -> Credentials:
    """Check the username and password, hash the password, make and wrap a key pair."""
    username = validate_username(username)
    passwords.check_password_policy(password, username=username)
    identity = Identity.generate()
    return Credentials(
        username=username,
        password_hash=passwords.hash_password(password, password_kdf),
        public_key=str(identity.recipient),
        wrapped_private_key=wrap_identity_with_password(
            identity, password, passwords.wrap_params(password_kdf)
        ),
    )


def add_reviewer(
    session: Session,
    credentials: Credentials,
    *,
    role: str,
    unit_slugs: Iterable[str],
    totp_key: TotpKey,
    totp_secret: str,
    totp_last_step: int = 0,
    actor: str,
    via: str = CLI_ACTOR,
) -> Reviewer:
    """Insert an account whose TOTP is already enrolled (``totp_secret``)."""
    role_value = validate_role(role).value
    units = _units(session, unit_slugs)
    if username_taken(session, credentials.username):
        raise UsernameTakenError(f"username {credentials.username!r} is taken")
    reviewer = Reviewer(
        username=credentials.username,
        password_hash=credentials.password_hash,
        public_key=credentials.public_key,
        wrapped_private_key=credentials.wrapped_private_key,
        role=role_value,
        totp_last_step=totp_last_step,
        failed_logins=0,
        active=True,
    )
    session.add(reviewer)
    session.flush()  # the id is the TOTP secret's associated data
    reviewer.totp_secret = totp.encrypt_secret(totp_key, reviewer.id, totp_secret)
    for unit in units:
        session.add(Membership(reviewer_id=reviewer.id, unit_id=unit.id))
    session.flush()
    for unit in units:
        # The unit's existing cases are not wrapped to the new key yet: queue them.
        grants.queue_grants_for_member(session, reviewer.id, unit.id, "joined")
    session.refresh(reviewer, ["memberships"])
    audit.record(
        session,
        actor=actor,
        action="reviewer.created",
        details={
            "reviewer": actor_of(reviewer),
            "username": reviewer.username,
            "role": role_value,
            "units": sorted(u.slug for u in units),
            "public_key": credentials.public_key,
            "via": via,
        },
    )
    return reviewer


def create_reviewer(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    unit_slugs: Iterable[str],
    password_kdf: KdfSettings,
    totp_key: TotpKey,
    actor: str = CLI_ACTOR,
) -> tuple[Reviewer, str]:
    """Create an account with a fresh key pair and TOTP secret; returns both."""
    validate_role(role)
    unit_slugs = list(unit_slugs)
    _units(session, unit_slugs)  # refuse before any Argon2 work
    if username_taken(session, username):
        raise UsernameTakenError(f"username {normalise_username(username)!r} is taken")
    credentials = prepare_credentials(
        username=username, password=password, password_kdf=password_kdf
    )
    secret = totp.new_secret()
    reviewer = add_reviewer(
        session,
        credentials,
        role=role,
        unit_slugs=unit_slugs,
        totp_key=totp_key,
        totp_secret=secret,
        actor=actor,
    )
    return reviewer, secret


# --- login -----------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class PasswordVerified:
    """First login step passed: the reviewer and their unwrapped private key."""

    reviewer_id: int
    identity: Identity

    def __repr__(self) -> str:
        return f"PasswordVerified(reviewer_id={self.reviewer_id})"


@functools.lru_cache(maxsize=8)
def _dummy_hash(kdf: KdfSettings) -> str:
    return passwords.hash_password(secrets.token_urlsafe(24), kdf)


def is_locked(reviewer: Reviewer, now: datetime | None = None) -> bool:
    return reviewer.locked_until is not None and reviewer.locked_until > (now or utcnow())


def lockout_duration(failures: int) -> timedelta:
    """1 min at the 5th consecutive failure, doubling at each one after, at most 1 hour."""
    if failures < LOCKOUT_THRESHOLD:
        return timedelta(0)
    exponent: int = min(failures - LOCKOUT_THRESHOLD, 12)
    duration: timedelta = LOCKOUT_BASE * (1 << exponent)
    return min(duration, LOCKOUT_CAP)


def _fail(
    session: Session, reviewer: Reviewer | None, *, step: str, reason: str, now: datetime
) -> LoginFailedError:
    if reviewer is not None and reason != "locked":
        # A locked account is not locked longer by further attempts during the lock:
        # that would let anyone keep a colleague out indefinitely at no cost.
        reviewer.failed_logins = (reviewer.failed_logins or 0) + 1
        duration = lockout_duration(reviewer.failed_logins)
        if duration:
            reviewer.locked_until = now + duration
    audit.record(
        session,
        # Never the submitted unknown username: it may be a password typed in the wrong box.
        actor=actor_of(reviewer) if reviewer is not None else UNKNOWN_ACTOR,
        action="login.failed",
        details={"step": step, "reason": reason},
    )
    return LoginFailedError(reason)


def authenticate_password(
    session: Session,
    *,
    username: str,
    password: str,
    password_kdf: KdfSettings,
    now: datetime | None = None,
) -> PasswordVerified:
    """First step. Returns the unwrapped identity, or raises :class:`LoginFailedError`."""
    now = now or utcnow()
    reviewer = session.scalar(
        select(Reviewer).where(Reviewer.username == normalise_username(username)).with_for_update()
    )
    if reviewer is None or reviewer.wrapped_private_key is None:
        passwords.verify_password(_dummy_hash(password_kdf), password, password_kdf)
        raise _fail(session, reviewer, step="password", reason="unknown", now=now)
    ok = passwords.verify_password(reviewer.password_hash, password, password_kdf)
    if is_locked(reviewer, now):
        raise _fail(session, reviewer, step="password", reason="locked", now=now)
    if not reviewer.active:
        raise _fail(session, reviewer, step="password", reason="inactive", now=now)
    if not ok:
        raise _fail(session, reviewer, step="password", reason="password", now=now)
    try:
        identity = unwrap_identity_with_password(reviewer.wrapped_private_key, password)
    except KeyWrapError:
        raise _fail(session, reviewer, step="password", reason="key_unwrap", now=now) from None
    if passwords.needs_rehash(reviewer.password_hash, password_kdf):
        reviewer.password_hash = passwords.hash_password(password, password_kdf)
    wanted = passwords.wrap_params(password_kdf)
    if read_params(reviewer.wrapped_private_key) != wanted:
        reviewer.wrapped_private_key = wrap_identity_with_password(identity, password, wanted)
    return PasswordVerified(reviewer_id=reviewer.id, identity=identity)


def authenticate_totp(
    session: Session,
    *,
    reviewer_id: int,
    code: str,
    totp_key: TotpKey,
    now: datetime | None = None,
    at: float | None = None,
) -> Reviewer:
    """Second step. Marks the code's step used, resets the counters, audits the login."""
    now = now or utcnow()
    reviewer = session.scalar(select(Reviewer).where(Reviewer.id == reviewer_id).with_for_update())
    if reviewer is None or not reviewer.active:
        raise _fail(session, reviewer, step="totp", reason="inactive", now=now)
    if is_locked(reviewer, now):
        raise _fail(session, reviewer, step="totp", reason="locked", now=now)
    if reviewer.totp_secret is None:
        raise _fail(session, reviewer, step="totp", reason="not_enrolled", now=now)
    try:
        secret = totp.decrypt_secret(totp_key, reviewer.id, reviewer.totp_secret)
        step = totp.verify_code(secret, code, last_step=reviewer.totp_last_step or 0, at=at)
    except (InvalidTotpError, TotpDecryptionError):
        raise _fail(session, reviewer, step="totp", reason="totp", now=now) from None
    reviewer.totp_last_step = step
    reviewer.failed_logins = 0
    reviewer.locked_until = None
    audit.record(session, actor=actor_of(reviewer), action="login.succeeded")
    return reviewer


def record_logout(session: Session, reviewer: Reviewer) -> None:
    audit.record(session, actor=actor_of(reviewer), action="logout")


# --- changes ---------------------------------------------------------------------------


def change_password(
    session: Session,
    reviewer: Reviewer,
    *,
    current_password: str,
    new_password: str,
    password_kdf: KdfSettings,
) -> None:
    """Rewrap the same private key under the new password; the public key stays."""
    if reviewer.wrapped_private_key is None or not passwords.verify_password(
        reviewer.password_hash, current_password, password_kdf
    ):
        raise CurrentPasswordError("the current password is wrong")
    passwords.check_password_policy(new_password, username=reviewer.username)
    try:
        identity = unwrap_identity_with_password(reviewer.wrapped_private_key, current_password)
    except KeyWrapError:
        raise CurrentPasswordError("the current password does not open the key") from None
    reviewer.wrapped_private_key = wrap_identity_with_password(
        identity, new_password, passwords.wrap_params(password_kdf)
    )
    reviewer.password_hash = passwords.hash_password(new_password, password_kdf)
    audit.record(
        session,
        actor=actor_of(reviewer),
        action="reviewer.password_changed",
        details={"reviewer": actor_of(reviewer)},
    )


def temporary_password() -> str:
    """20 URL-safe characters (120 bits): passes the policy, readable over the phone."""
    return secrets.token_urlsafe(15)


def admin_reset_password(
    session: Session, reviewer: Reviewer, *, password_kdf: KdfSettings, actor: str
) -> str:
    """Set a temporary password and a NEW key pair; returns the temporary password.

    The old private key is lost with the old password, so every case key wrapped to
    the reviewer's old public key is unreadable to them until a colleague's session
    (or the recovery key) wraps it again to the new one ("reviewer.key_reset").
    """
    password = temporary_password()
    identity = Identity.generate()
    old_public_key = reviewer.public_key
    reviewer.password_hash = passwords.hash_password(password, password_kdf)
    reviewer.public_key = str(identity.recipient)
    reviewer.wrapped_private_key = wrap_identity_with_password(
        identity, password, passwords.wrap_params(password_kdf)
    )
    reviewer.failed_logins = 0
    reviewer.locked_until = None
    end_sessions(session, reviewer.id)
    audit.record(
        session,
        actor=actor,
        action="reviewer.password_reset",
        details={"reviewer": actor_of(reviewer)},
    )
    audit.record(
        session,
        actor=actor,
        action="reviewer.key_reset",
        details={
            "reviewer": actor_of(reviewer),
            "old_public_key": old_public_key,
            "public_key": reviewer.public_key,
        },
    )
    # The old key is gone: whatever they read must be wrapped to the new one.
    grants.queue_grants_for_reviewer(session, reviewer.id, "key_reset")
    return password


def reset_totp(session: Session, reviewer: Reviewer, *, totp_key: TotpKey, actor: str) -> str:
    """A new TOTP secret (returned once, for the admin to hand over); sessions end."""
    secret = totp.new_secret()
    reviewer.totp_secret = totp.encrypt_secret(totp_key, reviewer.id, secret)
    reviewer.totp_last_step = 0
    end_sessions(session, reviewer.id)
    audit.record(
        session, actor=actor, action="reviewer.totp_reset", details={"reviewer": actor_of(reviewer)}
    )
    return secret


def _refuse_losing_last_admin(session: Session, reviewer: Reviewer) -> None:
    if reviewer.role == Role.ADMIN.value and reviewer.active and active_admin_count(session) <= 1:
        raise LastAdminError("the installation would be left without an active admin")


def deactivate(session: Session, reviewer: Reviewer, *, actor: str) -> None:
    if not reviewer.active:
        return
    _refuse_losing_last_admin(session, reviewer)
    reviewer.active = False
    end_sessions(session, reviewer.id)
    # Take their key out of the wraps of the cases they could read.
    grants.queue_grants_for_reviewer(session, reviewer.id, "deactivated")
    audit.record(
        session,
        actor=actor,
        action="reviewer.deactivated",
        details={"reviewer": actor_of(reviewer)},
    )


def set_role(session: Session, reviewer: Reviewer, role: str, *, actor: str) -> None:
    new_role = validate_role(role).value
    if new_role == reviewer.role:
        return
    _refuse_losing_last_admin(session, reviewer)
    old_role = reviewer.role
    reviewer.role = new_role
    # Observers read no content; a role change changes who the wraps are for.
    grants.queue_grants_for_reviewer(session, reviewer.id, "role_changed")
    audit.record(
        session,
        actor=actor,
        action="reviewer.role_changed",
        details={"reviewer": actor_of(reviewer), "from": old_role, "to": new_role},
    )


def set_memberships(
    session: Session, reviewer: Reviewer, unit_slugs: Iterable[str], *, actor: str
) -> tuple[list[str], list[str]]:
    """Make the reviewer a member of exactly these units; returns (added, removed) slugs.

    Single-person, and called by no view or command: it sets up accounts in tests and
    scripts. The review app's admins go through approvals (``add_membership`` once a
    second admin agrees, ``remove_memberships``); tests/architecture/test_two_person_rule
    keeps it out of the views.

    Gaining a unit gives no access by itself: the case keys must be wrapped to the
    reviewer by a member who holds them (pending grants, see app.cases.keys).
    """
    units = {u.slug: u for u in _units(session, unit_slugs)}
    current = {m.unit.slug: m for m in reviewer.memberships}
    added = sorted(set(units) - set(current))
    removed = sorted(set(current) - set(units))
    for slug in removed:
        _leave(session, reviewer, current[slug])
    for slug in added:
        _join(session, reviewer, units[slug])
    session.refresh(reviewer, ["memberships"])
    if added or removed:
        audit.record(
            session,
            actor=actor,
            action="reviewer.memberships_changed",
            details={"reviewer": actor_of(reviewer), "added": added, "removed": removed},
        )
    return added, removed


def _leave(session: Session, reviewer: Reviewer, membership: Membership) -> None:
    # Their key is still in the wraps of the unit's cases: queue a rewrap without it.
    grants.queue_grants_for_member(session, reviewer.id, membership.unit_id, "left")
    session.delete(membership)
    session.flush()


def _join(session: Session, reviewer: Reviewer, unit: Unit) -> None:
    session.add(Membership(reviewer_id=reviewer.id, unit_id=unit.id))
    session.flush()
    grants.queue_grants_for_member(session, reviewer.id, unit.id, "joined")
    # Cases that excluded this unit lose the reviewer in their keys, not only in SQL.
    grants.queue_exclusion_revocations(session, reviewer.id, unit.id)


def add_membership(session: Session, reviewer: Reviewer, unit_slug: str, *, actor: str) -> bool:
    """Add one unit (nothing if already a member); returns whether it was added."""
    (unit,) = _units(session, [unit_slug])
    if any(m.unit_id == unit.id for m in reviewer.memberships):
        return False
    _join(session, reviewer, unit)
    session.refresh(reviewer, ["memberships"])
    audit.record(
        session,
        actor=actor,
        action="reviewer.memberships_changed",
        details={"reviewer": actor_of(reviewer), "added": [unit.slug], "removed": []},
    )
    return True


def remove_memberships(
    session: Session, reviewer: Reviewer, unit_slugs: Iterable[str], *, actor: str
) -> list[str]:
    """Leave these units at once (taking keys away needs nobody's approval)."""
    leaving = {s.strip() for s in unit_slugs if s.strip()}
    removed = sorted(m.unit.slug for m in reviewer.memberships if m.unit.slug in leaving)
    for membership in [m for m in reviewer.memberships if m.unit.slug in leaving]:
        _leave(session, reviewer, membership)
    session.refresh(reviewer, ["memberships"])
    if removed:
        audit.record(
            session,
            actor=actor,
            action="reviewer.memberships_changed",
            details={"reviewer": actor_of(reviewer), "added": [], "removed": removed},
        )
    return removed
