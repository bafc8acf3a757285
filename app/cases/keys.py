"""Key wraps: a case's private keys as small age files, one per kind (case, staff).

A wrap is an age file whose plaintext is the identity's text line
(``AGE-SECRET-KEY-1…``) - the same thing a browser makes with typage, and what an
operator opens with ``age -d -i recovery.txt case-key.age``. A case's keys are wrapped
to its readers (app.cases.access.reader_conditions) who hold a key, plus the
installation's recovery key, plus - for the case key only - the reporter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cases.access import reader_conditions
from app.installation import recovery_recipient_text
from app.models import CaseExclusion, Reviewer
from crypto import AgeError, Identity, Recipient, decrypt_bytes, encrypt_bytes


class KeyWrapError(RuntimeError):
    """A key wrap cannot be made or opened."""


class NoRecoveryKeyError(KeyWrapError):
    """The installation has no recovery key: run ``init`` first."""


def wrap_identity_to_recipients(identity: Identity, recipients: Iterable[Recipient]) -> bytes:
    unique = list(dict.fromkeys(recipients))
    if not unique:
        raise KeyWrapError("a key wrap needs at least one recipient")
    return encrypt_bytes(str(identity).encode("ascii"), unique)


def unwrap_identity_with_keys(wrap: bytes, identities: Sequence[Identity]) -> Identity:
    """Open a wrap. Raises :class:`crypto.NoIdentityMatchError` (an AgeError) if none fits."""
    plaintext = decrypt_bytes(wrap, identities)
    try:
        return Identity.parse(plaintext.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError) as exc:
        raise KeyWrapError("the key wrap does not hold an age identity") from exc


def active_recovery_recipient(session: Session) -> Recipient:
    """The installation's recovery key as an age recipient (for a wrap); raises
    :class:`NoRecoveryKeyError` when there is none. The text as stored, or None, is
    :func:`app.installation.recovery_recipient_text`."""
    text = recovery_recipient_text(session)
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
    """Public keys of the unit's members who may read (:func:`app.cases.access.
    reader_conditions`, with ``excluded_unit_ids`` as the excluded units) and hold a key."""
    keys = session.scalars(
        select(Reviewer.public_key)
        .where(
            Reviewer.public_key.is_not(None),
            *reader_conditions(unit_id, case_id=case_id, excluded_unit_ids=excluded_unit_ids),
        )
        .order_by(Reviewer.id)
    ).all()
    return [Recipient.parse(key) for key in keys if key]


def excluded_unit_ids(session: Session, case_id: str) -> list[int]:
    return list(
        session.scalars(select(CaseExclusion.unit_id).where(CaseExclusion.case_id == case_id))
    )


def recipient_lines(recipients: Iterable[Recipient]) -> str:
    return "\n".join(dict.fromkeys(str(r) for r in recipients))


def try_unwrap(wrap: bytes, identities: Sequence[Identity]) -> Identity | None:
    try:
        return unwrap_identity_with_keys(wrap, identities)
    except (AgeError, KeyWrapError):
        return None
