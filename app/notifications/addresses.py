"""Reviewers' e-mail addresses for notifications, set by an admin.

The address is personal data about staff, not about reporters, but it still stays out
of the audit log: the event says that an address was set or removed, not which one.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from app import audit
from app.models import Reviewer

MAX_EMAIL_CHARS = 254  # RFC 5321's limit on a forward path
# Deliberately plain: ASCII, one @, a dotted domain. Anything fancier (quoted local
# parts, internationalised addresses) would need SMTPUTF8 from every relay on the way.
EMAIL_PATTERN = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


class InvalidEmailError(ValueError):
    """The text is not an e-mail address we can send to."""


def normalise_email(raw: str) -> str | None:
    """A checked address, or None for an empty field (no notifications)."""
    value = raw.strip()
    if not value:
        return None
    if len(value) > MAX_EMAIL_CHARS or not EMAIL_PATTERN.match(value):
        raise InvalidEmailError("not a valid e-mail address")
    local, domain = value.rsplit("@", 1)
    # Domains are case-insensitive; local parts are not (RFC 5321 2.4), so keep them.
    return f"{local}@{domain.lower()}"


def set_email(session: Session, reviewer: Reviewer, email: str, *, actor: str) -> str | None:
    """Set (or with an empty ``email``, remove) where ``reviewer``'s notifications go.

    Raises :class:`InvalidEmailError` and changes nothing on a malformed address. Does
    not commit. Returns the stored address.
    """
    address = normalise_email(email)
    if address == reviewer.email:
        return address
    reviewer.email = address
    audit.record(
        session,
        actor=actor,
        action="reviewer.email_set",
        details={"reviewer": reviewer.id, "removed": address is None},
    )
    return address
