"""Key wraps: a case's private keys as small age files, one per kind (case, staff).

A wrap is an age file whose plaintext is the identity's text line
(``AGE-SECRET-KEY-1…``) - the same thing a browser makes with typage, and what an
operator opens with ``age -d -i recovery.txt case-key.age``. Who may read is decided
here, in one place: the active members of the holding unit who hold a key and have
not recused themselves, minus anyone in a unit the reporter excluded, plus the
installation's recovery key, plus - for the case key only - the reporter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import CaseExclusion, Membership, RecoveryKey, Recusal, Reviewer
from app.models.vocabulary import Role
from crypto import AgeError, Identity, Recipient, decrypt_bytes, encrypt_bytes


class KeyWrapError(RuntimeError):
    """A key wrap cannot be made or opened."""


class NoRecoveryKeyError(KeyWrapError):
    """The installation has no recovery key: run ``init`` first."""


def wrap_identity(identity: Identity, recipients: Iterable[Recipient]) -> bytes:
    unique = list(dict.fromkeys(recipients))
    if not unique:
        raise KeyWrapError("a key wrap needs at least one recipient")
    return encrypt_bytes(str(identity).encode("ascii"), unique)


def unwrap_identity(wrap: bytes, identities: Sequence[Identity]) -> Identity:
    """Open a wrap. Raises :class:`crypto.NoIdentityMatchError` (an AgeError) if none fits."""
    plaintext = decrypt_bytes(wrap, identities)
    try:
        return Identity.parse(plaintext.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError) as exc:
        raise KeyWrapError("the key wrap does not hold an age identity") from exc


def recovery_recipient(session: Session) -> Recipient:
    text = session.scalar(
        select(RecoveryKey.recipient)
        .where(RecoveryKey.active.is_(True))
        .order_by(RecoveryKey.id.desc())
        .limit(1)
    )
    if text is None:
        raise NoRecoveryKeyError("no recovery key: run `flask --app wsgi:review_app init`")
    return Recipient.parse(text)


def unit_reader_recipients(
    session: Session,
    unit_id: int,
    *,
    excluded_unit_ids: Iterable[int] = (),
    case_id: str | None = None,
) -> list[Recipient]:
    """Public keys of the unit's members who may read: active, with a key, not an
    observer, not in an excluded unit, not recused from the case (app.cases.access)."""
    excluded = set(excluded_unit_ids)
    rows = session.execute(
        select(Reviewer.id, Reviewer.public_key)
        .join(Membership, Membership.reviewer_id == Reviewer.id)
        .where(
            Membership.unit_id == unit_id,
            Reviewer.active.is_(True),
            Reviewer.public_key.is_not(None),
            # The steering committee oversees numbers, never content.
            Reviewer.role != Role.OBSERVER.value,
        )
        .order_by(Reviewer.id)
    ).all()
    reviewer_ids = [row[0] for row in rows]
    barred: set[int] = set()
    if excluded and reviewer_ids:
        barred |= set(
            session.scalars(
                select(Membership.reviewer_id).where(
                    Membership.reviewer_id.in_(reviewer_ids), Membership.unit_id.in_(excluded)
                )
            ).all()
        )
    if case_id is not None and reviewer_ids:
        barred |= set(
            session.scalars(
                select(Recusal.reviewer_id).where(
                    Recusal.case_id == case_id, Recusal.reviewer_id.in_(reviewer_ids)
                )
            ).all()
        )
    return [Recipient.parse(key) for rid, key in rows if rid not in barred and key]


def excluded_unit_ids(session: Session, case_id: str) -> list[int]:
    return list(
        session.scalars(select(CaseExclusion.unit_id).where(CaseExclusion.case_id == case_id))
    )


def recipient_lines(recipients: Iterable[Recipient]) -> str:
    return "\n".join(dict.fromkeys(str(r) for r in recipients))


def try_unwrap(wrap: bytes, identities: Sequence[Identity]) -> Identity | None:
    try:
        return unwrap_identity(wrap, identities)
    except (AgeError, KeyWrapError):
        return None
