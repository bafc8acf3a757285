"""Submission tickets: stateless, sealed, single use through the case they create.

With JavaScript, the browser asks for a ticket just before it submits: the server makes
a receipt, derives its lookup key and the reporter's key (one Argon2id run), and hands
the browser the receipt, the reporter's public key and the ticket. The page shows the
receipt only once the report is stored.

Nothing is written when a ticket is issued. The ticket carries what the submission
needs, sealed with ChaCha20-Poly1305 under a key derived from the intake's secret key
(:meth:`TicketKey.derive`):

    base64url( version 0x01 || nonce (12) || ChaCha20-Poly1305(key, nonce,
               lookup key (32) || reporter public key (32) || expires (8, Unix seconds),
               associated data = label || version) )                     135 characters

Sealed rather than only signed, so the lookup key (the case's index in the database)
never travels in clear: a copy of the traffic joined with a copy of the database could
otherwise point at the case. The expiry, a time of day, exists only in the browser.

Single use needs no table either: the case row's unique ``receipt_lookup_key`` is the
record that a ticket was used. The submission checks it before spending anything and
the unique index settles a race (``app.cases.submission``).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import struct
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto import Recipient

TICKET_TTL = timedelta(minutes=30)
_KEY_LABEL = b"liemchinh/submission-ticket/v1"
_VERSION = b"\x01"
_NONCE_BYTES = 12
_PLAIN = struct.Struct(">32s32sQ")  # lookup key, reporter public key, expires
_TAG_BYTES = 16
TICKET_BYTES = 1 + _NONCE_BYTES + _PLAIN.size + _TAG_BYTES  # 101
TICKET_PATTERN = re.compile(r"[A-Za-z0-9_-]{135}")


class InvalidTicketError(ValueError):
    """Not a ticket of this installation (malformed, forged or damaged)."""


class ExpiredTicketError(InvalidTicketError):
    """A genuine ticket whose time has passed."""


@dataclass(frozen=True, repr=False)
class TicketKey:
    """The key that seals submission tickets (never used for anything else)."""

    key: bytes

    def __repr__(self) -> str:
        return "TicketKey(<redacted>)"

    @classmethod
    def derive(cls, intake_secret_key: bytes) -> TicketKey:
        # HKDF with its own label: independent of every other use of the secret key.
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_LABEL)
        return cls(hkdf.derive(intake_secret_key))


@dataclass(frozen=True)
class TicketContents:
    lookup_key: bytes = field(repr=False)
    reporter_recipient: Recipient
    expires_at: datetime


def _aad() -> bytes:
    return _KEY_LABEL + b"\x00" + _VERSION


def seal_ticket(
    key: TicketKey,
    *,
    lookup_key: bytes,
    reporter_recipient: Recipient,
    ttl: timedelta = TICKET_TTL,
    now: float | None = None,
) -> tuple[str, datetime]:
    """The ticket for a receipt's lookup key and reporter key, and when it expires."""
    if len(lookup_key) != 32:
        raise ValueError("a receipt lookup key is 32 bytes")
    expires = max(int((time.time() if now is None else now) + ttl.total_seconds()), 0)
    nonce = secrets.token_bytes(_NONCE_BYTES)
    plain = _PLAIN.pack(lookup_key, reporter_recipient.public_bytes, expires)
    sealed = ChaCha20Poly1305(key.key).encrypt(nonce, plain, _aad())
    token = base64.urlsafe_b64encode(_VERSION + nonce + sealed).decode().rstrip("=")
    return token, datetime.fromtimestamp(expires, UTC)


def open_ticket(key: TicketKey, ticket: object, *, now: float | None = None) -> TicketContents:
    """What a genuine, unexpired ticket holds; else :class:`InvalidTicketError`.
    Cheap (one AEAD open of 72 bytes); says nothing about whether it was used."""
    if not isinstance(ticket, str) or not TICKET_PATTERN.fullmatch(ticket):
        raise InvalidTicketError("not a submission ticket")
    try:
        raw = base64.urlsafe_b64decode(ticket + "=")
    except (binascii.Error, ValueError):
        raise InvalidTicketError("not a submission ticket") from None
    if len(raw) != TICKET_BYTES or raw[:1] != _VERSION:
        raise InvalidTicketError("unknown submission ticket version")
    nonce, sealed = raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :]
    try:
        plain = ChaCha20Poly1305(key.key).decrypt(nonce, sealed, _aad())
    except InvalidTag:
        raise InvalidTicketError("submission ticket not issued here") from None
    lookup_key, public, expires = _PLAIN.unpack(plain)
    if expires <= (time.time() if now is None else now):
        raise ExpiredTicketError("the submission ticket has expired")
    return TicketContents(
        lookup_key=lookup_key,
        reporter_recipient=Recipient.from_bytes(public),
        expires_at=datetime.fromtimestamp(expires, UTC),
    )
