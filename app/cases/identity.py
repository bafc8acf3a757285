"""The sealed identity of a named denunciation: its fields, sealing it, opening it.

Law: Luật Tố cáo 2018 art. 47(1) and art. 56 (docs/legal.md §4): the denouncer's
name, address and personal details are kept secret by whoever receives and resolves the
denunciation. Threat: an ordinary member of the handling unit (or anyone who gets their
password) learns who reported; a database or backup leak names the reporter.

Design (docs/crypto.md, "Sealed identity"):

- Each named case has its own **identity key** (X25519). The identity (four fields,
  JSON, padded) is an age file, blob kind ``identity``, whose only recipient is that key.
- The identity key's private half is wrapped (``sealed_identities.wrap``) for the holding
  unit's **custodians** (app.cases.custodians) and the offline recovery key, never for
  the case key, the staff key, the reporter or ordinary members.
- **Unsealing**: a reader of the case asks with a reason (encrypted to the staff key);
  a custodian of the holding unit, another person, approves; only then is the identity
  key wrapped for the requester alone (``identity_unseal_requests.requester_wrap``).
  Both steps, and every opening, are audited (app.cases.unsealing).
- **Routing** leaves the wrap naming the old unit's custodians until someone who can
  open it reseals it for the new unit's (app.cases.resealing).

The server sees the fields only while it encrypts them on the no-JavaScript path, in
memory; on the JavaScript path the browser encrypts and the server never sees them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.cases.access import AccessDenied, Actor, require_reader
from app.cases.custodians import custodian_recipients
from app.cases.keys import (
    active_recovery_recipient,
    recipient_lines,
    try_unwrap,
    wrap_identity_to_recipients,
)
from app.models import Blob, Case, SealedIdentity, UnsealRequest
from app.models.vocabulary import BlobKind, Track, UnsealStatus
from app.storage import BlobStore, PendingBlob
from crypto import AgeWriter, Identity, Recipient, decrypt_bytes

FIELDS = ("identity_full_name", "identity_id_number", "identity_address", "identity_contact")
MAX_FIELD_CHARS = 300
# The sealed file's plaintext is padded to a multiple of this, so its size does not
# tell how long a name or an address is.
PAD_TO = 2048
MAX_IDENTITY_CIPHERTEXT_BYTES = 64 * 1024


class IdentityError(ValueError):
    """Refused; nothing was changed. ``code`` is stable (translations, JSON API)."""

    code = "identity"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class MissingIdentityFieldError(IdentityError):
    code = "identity_required"


class IdentityFieldTooLongError(IdentityError):
    code = "identity_too_long"


class InvalidTrackError(IdentityError):
    code = "invalid_track"


class DamagedIdentityError(IdentityError):
    code = "damaged"


class NotSealedError(IdentityError):
    """The case has no sealed identity (an anonymous report)."""

    code = "not_sealed"


@dataclass(frozen=True)
class IdentityFields:
    """What a named reporter gives. Luật Tố cáo 2018 art. 23 asks a denunciation for the
    denouncer's name, address and a way to contact them (art. 29(1) makes it a condition
    of acceptance); the ID number is the city's way to tell namesakes apart."""

    full_name: str = field(repr=False)
    id_number: str = field(repr=False)
    address: str = field(repr=False)
    contact: str = field(repr=False)

    def encode(self) -> bytes:
        raw = json.dumps(
            {
                "v": 1,
                "full_name": self.full_name,
                "id_number": self.id_number,
                "address": self.address,
                "contact": self.contact,
            },
            ensure_ascii=False,
        ).encode("utf-8")
        return raw + b" " * (-len(raw) % PAD_TO)

    @classmethod
    def decode(cls, data: bytes) -> IdentityFields:
        """Read what the server or a browser sealed; a browser's file is the reporter's
        own work, so a malformed one is an error to show, not a crash."""
        try:
            obj = json.loads(data.decode("utf-8"))
            return cls(*(str(obj[k]) for k in ("full_name", "id_number", "address", "contact")))
        except (UnicodeDecodeError, ValueError, KeyError, TypeError):
            raise DamagedIdentityError("the sealed identity is not readable") from None


def parse_track(value: str | None) -> Track:
    """``anonymous`` unless the reporter chose ``named``."""
    text = (value or "").strip() or Track.ANONYMOUS.value
    try:
        return Track(text)
    except ValueError:
        raise InvalidTrackError(f"unknown track {text!r}", field="track") from None


def parse_identity(form: Mapping[str, str]) -> IdentityFields:
    """The four fields of a named denunciation, each required (art. 23: a denunciation
    states the denouncer's name, address and contact; art. 25: without them it is only
    information)."""
    values = {}
    for name in FIELDS:
        text = " ".join((form.get(name) or "").split())
        if not text:
            raise MissingIdentityFieldError(f"{name} is required", field=name)
        if len(text) > MAX_FIELD_CHARS:
            raise IdentityFieldTooLongError(f"{name} is too long", field=name)
        values[name] = text
    return IdentityFields(
        values["identity_full_name"],
        values["identity_id_number"],
        values["identity_address"],
        values["identity_contact"],
    )


# --- sealing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Seal:
    """A sealed identity ready to store with its case: the file (a pending blob), the
    identity key's public half and its wrap for ``recipients``."""

    blob: PendingBlob
    identity_recipient: Recipient
    wrap: bytes = field(repr=False)
    recipients: tuple[Recipient, ...]


def seal_recipients(session: Session, unit_id: int) -> list[Recipient]:
    """Who may open a seal held by ``unit_id``: its custodians and the recovery key."""
    return [*custodian_recipients(session, unit_id), active_recovery_recipient(session)]


def seal_on_server(
    session: Session, store: BlobStore, fields: IdentityFields, unit_id: int
) -> Seal:
    """Encrypt the identity (no-JavaScript path) as it is read: plaintext stays in memory,
    the file on disk is ciphertext from its first byte."""
    key = Identity.generate()
    recipients = seal_recipients(session, unit_id)
    blob = store.create(limit=MAX_IDENTITY_CIPHERTEXT_BYTES)
    try:
        with AgeWriter(blob, [key.recipient]) as writer:  # type: ignore[arg-type]
            writer.write(fields.encode())
        wrap = wrap_identity_to_recipients(key, recipients)
    except BaseException:
        blob.discard()
        raise
    return Seal(blob, key.recipient, wrap, tuple(recipients))


def add_seal(session: Session, case: Case, seal: Seal, today: date) -> None:
    """Store the seal's rows with a new case (in the submission's transaction; the
    caller finalises the blob with the others)."""
    case.track = Track.NAMED.value
    session.add(
        SealedIdentity(
            case_id=case.id,
            identity_recipient=str(seal.identity_recipient),
            wrap=seal.wrap,
            recipients=recipient_lines(seal.recipients),
            sealed_for_unit_id=case.holding_unit_id,
        )
    )
    session.add(
        Blob(
            id=seal.blob.blob_id,
            case_id=case.id,
            kind=BlobKind.IDENTITY.value,
            author_side="reporter",
            position=0,
            storage_key=seal.blob.storage_key,
            size=seal.blob.size,
            created_day=today,
        )
    )


def sealed_identity(session: Session, case_id: str) -> SealedIdentity | None:
    return session.get(SealedIdentity, case_id)


# --- reading ---------------------------------------------------------------------------


def _identity_key(session: Session, case: Case, actor: Actor) -> Identity | None:
    """The case's identity key, if ``actor``'s own key opens the seal (a custodian) or an
    approved unsealing made for them."""
    seal = sealed_identity(session, case.id)
    if seal is None or actor.identity is None:
        return None
    key = try_unwrap(seal.wrap, [actor.identity])
    if key is not None:
        return key
    wraps = session.scalars(
        select(UnsealRequest.requester_wrap).where(
            UnsealRequest.case_id == case.id,
            UnsealRequest.requester_id == actor.reviewer_id,
            UnsealRequest.status == UnsealStatus.APPROVED.value,
        )
    ).all()
    for wrap in wraps:
        if wrap is not None and (key := try_unwrap(wrap, [actor.identity])) is not None:
            return key
    return None


def can_open(session: Session, case: Case, actor: Actor) -> bool:
    return _identity_key(session, case, actor) is not None


def decrypt_identity(
    store: BlobStore, session: Session, case: Case, key: Identity
) -> IdentityFields:
    blob = session.scalar(
        select(Blob).where(Blob.case_id == case.id, Blob.kind == BlobKind.IDENTITY.value)
    )
    if blob is None:
        raise NotSealedError("the case has no sealed identity")
    return IdentityFields.decode(decrypt_bytes(store.read(blob.storage_key), [key]))


def open_identity(session: Session, store: BlobStore, actor: Actor, case: Case) -> IdentityFields:
    """The identity, for a reader who holds a way in (custodian or approved requester).
    Audited: who opened which case's identity (never the identity itself)."""
    require_reader(session, actor, case)
    key = _identity_key(session, case, actor)
    if key is None:
        raise AccessDenied("the identity is sealed for this reviewer")
    fields = decrypt_identity(store, session, case, key)
    audit.record(session, actor=actor.label, action="identity.opened", case_id=case.id)
    return fields


def require_sealed(session: Session, case: Case) -> SealedIdentity:
    seal = sealed_identity(session, case.id)
    if seal is None:
        raise NotSealedError("the case has no sealed identity")
    return seal
