"""One-time tokens on the reception desk's form, so that a re-sent form is stored once.

A double click, the browser's back button and "send again", or a reload of the slip
re-sends the desk's POST; each would otherwise make a second case with a second
receipt. Each rendered form carries a token; the POST that stores the case spends it in
the same transaction as the case, so either both are committed or neither is, and a
form refused for bad input leaves its token unspent for the corrected resend.

The token is signed, not stored (as the intake's form nonces and proof-of-work
challenges are): ``random || expiry || HMAC(key, binding || random || expiry)``.
Showing the form writes nothing. ``binding`` is the officer's session (its CSRF secret)
and account, so another officer, or the same officer after logging in again, cannot
use it. The expiry lives in the token only.

Spent tokens go to the intake's single-use set (``spent_pow_challenges``, through
:func:`app.cases.pow.record_spent`) under a hash with its own label: a row holds that
hash and the calendar day of the citizen's visit, never a time of day (the desk entry's
time is the citizen's, docs/threat-model.md "Reports entered at the desk"). The set is
swept of rows older than yesterday, so a token lives well under a day.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
import time
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from app.cases import pow as spent_set
from app.cases.submission import SubmissionError

# A few hours: a citizen's visit or call, with the officer typing and scanning letters,
# fits in it; the spent-set sweep (rows older than yesterday) outlasts it.
LIFETIME_SECONDS = 4 * 3600
_RANDOM_BYTES = 16
_TAG_BYTES = 16
_EXPIRES = struct.Struct(">Q")
_LABEL = b"liemchinh/desk-form-token/v1\x00"
_SPENT_LABEL = b"liemchinh/spent-desk-form-token/v1\x00"


class DeskTokenError(SubmissionError):
    """Not a token of this officer's session, or expired: the form is shown again."""

    code = "desk_token_invalid"


class DeskReportAlreadyStoredError(SubmissionError):
    """The token was spent by an earlier POST that stored the report."""

    code = "desk_report_already_stored"


@dataclass(frozen=True)
class DeskTokenKey:
    """The installation's signing key and what binds a token to one officer's session."""

    secret: bytes
    binding: bytes


@dataclass(frozen=True)
class DeskToken:
    """A token that passed :func:`verify_token`; ``spent_key`` is what the set holds."""

    spent_key: bytes


def _tag(key: DeskTokenKey, body: bytes) -> bytes:
    message = _LABEL + hashlib.sha256(key.binding).digest() + body
    return hmac.new(key.secret, message, hashlib.sha256).digest()[:_TAG_BYTES]


def issue_token(key: DeskTokenKey, *, now: float | None = None) -> str:
    """A token for one rendered form. Writes nothing."""
    expires = int(time.time() if now is None else now) + LIFETIME_SECONDS
    body = secrets.token_bytes(_RANDOM_BYTES) + _EXPIRES.pack(expires)
    return base64.urlsafe_b64encode(body + _tag(key, body)).decode().rstrip("=")


def verify_token(key: DeskTokenKey, token: object, *, now: float | None = None) -> DeskToken:
    """Check the signature, the binding and the expiry, or raise :class:`DeskTokenError`.
    Reads nothing from the database."""
    if not isinstance(token, str) or not token or len(token) > 128:
        raise DeskTokenError("missing desk form token")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise DeskTokenError("malformed desk form token") from None
    body_len = _RANDOM_BYTES + _EXPIRES.size
    if len(raw) != body_len + _TAG_BYTES:
        raise DeskTokenError("malformed desk form token")
    body, tag = raw[:body_len], raw[body_len:]
    if not hmac.compare_digest(tag, _tag(key, body)):
        raise DeskTokenError("desk form token of another session")
    (expires,) = _EXPIRES.unpack(body[_RANDOM_BYTES:])
    if expires <= (time.time() if now is None else now):
        raise DeskTokenError("desk form token expired")
    return DeskToken(hashlib.sha256(_SPENT_LABEL + body).digest())


def ensure_unspent(session: Session, token: DeskToken) -> None:
    """Raise :class:`DeskReportAlreadyStoredError` if an earlier POST spent ``token``.
    Changes nothing: a view asks before it does any work."""
    if spent_set.is_spent(session, token.spent_key):
        raise DeskReportAlreadyStoredError("desk form already stored")


def spend_token(session: Session, token: DeskToken, *, day: date) -> None:
    """Spend ``token`` in the caller's transaction (flushed, not committed), or raise
    :class:`DeskReportAlreadyStoredError`. A concurrent second POST waits here on the
    first's row and, once that commits, raises: its rollback removes its case."""
    if not spent_set.record_spent(session, token.spent_key, day=day):
        raise DeskReportAlreadyStoredError("desk form already stored")
