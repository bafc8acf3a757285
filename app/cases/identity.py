"""The sealed identity of a named denunciation, and unsealing it with two people.

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
  Both steps, and every opening, are audited.
- **Routing** leaves the wrap naming the old unit's custodians: :func:`stale_seals` finds
  it and :func:`reseal` rewrites it for the new unit's custodians, done by anyone who can
  open it (an old custodian, or the operator with the recovery identity:
  ``flask identity reseal``). The same covers a custodian designated or removed later.

The server sees the fields only while it encrypts them on the no-JavaScript path, in
memory; on the JavaScript path the browser encrypts and the server never sees them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.cases.access import AccessDenied, Actor, load_actor, require_reader
from app.cases.custodians import custodian_recipients, is_custodian
from app.cases.grants import lock_case
from app.cases.keys import recipient_lines, recovery_recipient, try_unwrap, wrap_identity
from app.models import Blob, Case, Reviewer, SealedIdentity, Unit, UnsealRequest
from app.models.vocabulary import BlobKind, Track, UnsealStatus
from app.storage import BlobStore, PendingBlob
from crypto import AgeError, AgeWriter, Identity, Recipient, decrypt_bytes, encrypt_bytes

FIELDS = ("identity_full_name", "identity_id_number", "identity_address", "identity_contact")
MAX_FIELD_CHARS = 300
MAX_REASON_CHARS = 500
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


class ReasonRequiredError(IdentityError):
    code = "reason_required"


class AlreadyRequestedError(IdentityError):
    code = "already_requested"


class NotPendingError(IdentityError):
    code = "not_pending"


class OwnRequestError(IdentityError):
    """A custodian cannot approve their own request: that would be one person."""

    code = "own_request"


class NotCustodianError(IdentityError):
    code = "not_custodian"


class SealStaleError(IdentityError):
    """The wrap does not open with this custodian's key (the case was routed here and
    not resealed yet): someone who can open it must reseal it first."""

    code = "seal_stale"


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
    return [*custodian_recipients(session, unit_id), recovery_recipient(session)]


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
        wrap = wrap_identity(key, recipients)
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


# --- unsealing: request, decide ------------------------------------------------------------


def _require_sealed(session: Session, case: Case) -> SealedIdentity:
    seal = sealed_identity(session, case.id)
    if seal is None:
        raise NotSealedError("the case has no sealed identity")
    return seal


def request_unseal(
    session: Session, actor: Actor, case: Case, reason: str, *, today: date
) -> UnsealRequest:
    """Step 1: a reader of the case asks, with a reason (kept encrypted to the staff key:
    it may quote the report)."""
    require_reader(session, actor, case)
    _require_sealed(session, case)
    text = " ".join((reason or "").split())
    if not text:
        raise ReasonRequiredError("a reason is required", field="reason")
    if len(text) > MAX_REASON_CHARS:
        raise ReasonRequiredError("the reason is too long", field="reason")
    pending = session.scalar(
        select(UnsealRequest.id).where(
            UnsealRequest.case_id == case.id,
            UnsealRequest.requester_id == actor.reviewer_id,
            UnsealRequest.status == UnsealStatus.PENDING.value,
        )
    )
    if pending is not None:
        raise AlreadyRequestedError("a request of yours is already waiting")
    row = UnsealRequest(
        case_id=case.id,
        requester_id=actor.reviewer_id,
        sealed_reason=encrypt_bytes(text.encode("utf-8"), [Recipient.parse(case.staff_recipient)]),
        status=UnsealStatus.PENDING.value,
        requested_day=today,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="identity.unseal_requested",
        case_id=case.id,
        details={"request": row.id},
    )
    return row


def _pending_request(session: Session, case: Case, request_id: int) -> UnsealRequest:
    row = session.scalar(
        select(UnsealRequest)
        .where(UnsealRequest.id == request_id, UnsealRequest.case_id == case.id)
        .with_for_update()
    )
    if row is None or row.status != UnsealStatus.PENDING.value:
        raise NotPendingError("no such pending request")
    return row


def _require_custodian(session: Session, actor: Actor, case: Case) -> None:
    require_reader(session, actor, case)
    if not is_custodian(session, actor.reviewer_id, case.holding_unit_id):
        raise NotCustodianError("only an identity custodian of the holding unit decides")


def approve_unseal(
    session: Session, actor: Actor, case: Case, request_id: int, *, today: date
) -> UnsealRequest:
    """Step 2: a custodian of the holding unit, not the requester, approves; only now is
    the identity key wrapped, for the requester alone."""
    _require_custodian(session, actor, case)
    seal = _require_sealed(session, case)
    row = _pending_request(session, case, request_id)
    if row.requester_id == actor.reviewer_id:
        raise OwnRequestError("the requester cannot approve their own request")
    requester = session.get(Reviewer, row.requester_id)
    if requester is None or not requester.active or not requester.public_key:
        raise NotPendingError("the requester has no active account with a key")
    # The requester must still read the case (not routed away, not recused).
    require_reader(session, load_actor(session, requester.id), case)
    key = try_unwrap(seal.wrap, [actor.identity]) if actor.identity is not None else None
    if key is None:
        raise SealStaleError("the seal does not open with your key yet: reseal it first")
    row.requester_wrap = wrap_identity(key, [Recipient.parse(requester.public_key)])
    row.status = UnsealStatus.APPROVED.value
    row.decided_by_id = actor.reviewer_id
    row.decided_day = today
    row.unit_id = case.holding_unit_id
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="identity.unsealed",
        case_id=case.id,
        details={"request": row.id, "requester": f"reviewer:{row.requester_id}"},
    )
    return row


def refuse_unseal(
    session: Session, actor: Actor, case: Case, request_id: int, *, today: date
) -> UnsealRequest:
    """A custodian refuses (or the requester withdraws): nothing is wrapped."""
    require_reader(session, actor, case)
    row = _pending_request(session, case, request_id)
    if row.requester_id != actor.reviewer_id:
        _require_custodian(session, actor, case)
    row.status = UnsealStatus.REFUSED.value
    row.decided_by_id = actor.reviewer_id
    row.decided_day = today
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="identity.unseal_refused",
        case_id=case.id,
        details={"request": row.id},
    )
    return row


@dataclass(frozen=True)
class UnsealView:
    """A request as the case page shows it (the reason decrypted if the viewer can)."""

    id: int
    requester: str
    reason: str | None
    status: str
    requested_day: date
    decided_day: date | None
    mine: bool


def unseal_requests(
    session: Session, case: Case, actor: Actor, staff_key: Identity | None
) -> list[UnsealView]:
    rows = session.execute(
        select(UnsealRequest, Reviewer.username)
        .join(Reviewer, Reviewer.id == UnsealRequest.requester_id)
        .where(UnsealRequest.case_id == case.id)
        .order_by(UnsealRequest.id)
    ).all()
    views = []
    for row, username in rows:
        reason = None
        if staff_key is not None:
            try:
                reason = decrypt_bytes(row.sealed_reason, [staff_key]).decode("utf-8")
            except (AgeError, UnicodeDecodeError):
                reason = None
        views.append(
            UnsealView(
                row.id,
                username,
                reason,
                row.status,
                row.requested_day,
                row.decided_day,
                row.requester_id == actor.reviewer_id,
            )
        )
    return views


@dataclass(frozen=True)
class Unsealing:
    """What the reporter is told: the day and the unit, nothing about who."""

    day: date
    unit_id: int | None


def unsealings_for_reporter(session: Session, case_id: str) -> list[Unsealing]:
    rows = session.execute(
        select(UnsealRequest.decided_day, UnsealRequest.unit_id)
        .where(
            UnsealRequest.case_id == case_id, UnsealRequest.status == UnsealStatus.APPROVED.value
        )
        .order_by(UnsealRequest.decided_day)
    ).all()
    return [Unsealing(day, unit_id) for day, unit_id in rows if day is not None]


def unit_of(session: Session, unit_id: int | None) -> Unit | None:
    return session.get(Unit, unit_id) if unit_id is not None else None


# --- routing: reseal for the holding unit's custodians -------------------------------------


def is_stale(session: Session, case: Case, seal: SealedIdentity) -> bool:
    """Whether the wrap is made for other people than the holding unit's custodians and
    the recovery key (routed, or a custodian designated or removed since)."""
    wanted = recipient_lines(seal_recipients(session, case.holding_unit_id))
    return seal.sealed_for_unit_id != case.holding_unit_id or seal.recipients != wanted


def stale_seals(session: Session, limit: int = 200) -> list[tuple[Case, SealedIdentity]]:
    rows = session.execute(
        select(Case, SealedIdentity)
        .join(SealedIdentity, SealedIdentity.case_id == Case.id)
        .order_by(Case.id)
    ).all()
    return [(c, s) for c, s in rows if is_stale(session, c, s)][:limit]


def reseal(
    session: Session, case: Case, identities: Sequence[Identity], *, actor_label: str
) -> bool:
    """Rewrite the wrap for the holding unit's custodians and the recovery key. Needs a
    key that opens the current wrap; returns False (nothing changed) without one."""
    case = lock_case(session, case)  # a routing that commits meanwhile changes the unit
    seal = _require_sealed(session, case)
    key = try_unwrap(seal.wrap, identities)
    if key is None:
        return False
    recipients = seal_recipients(session, case.holding_unit_id)
    seal.wrap = wrap_identity(key, recipients)
    seal.recipients = recipient_lines(recipients)
    seal.sealed_for_unit_id = case.holding_unit_id
    session.flush()
    audit.record(
        session,
        actor=actor_label,
        action="identity.resealed",
        case_id=case.id,
        details={"custodians": len(recipients) - 1},
    )
    return True


def reseal_moved_away(
    session: Session, identity: Identity, custodian_of: Sequence[int], *, actor_label: str
) -> int:
    """Hand over the seals of cases routed away from the units ``identity``'s holder is a
    custodian of: they can no longer open those cases, but their key opens the seals,
    so their visit (the inbox) reseals them for the new units' custodians. One indexed
    query when there is nothing to do."""
    if not custodian_of:
        return 0
    rows = session.execute(
        select(Case, SealedIdentity)
        .join(SealedIdentity, SealedIdentity.case_id == Case.id)
        .where(
            SealedIdentity.sealed_for_unit_id.in_(custodian_of),
            SealedIdentity.sealed_for_unit_id != Case.holding_unit_id,
        )
        .order_by(Case.id)
        .limit(50)
    ).all()
    done = 0
    for case, seal in rows:
        if try_unwrap(seal.wrap, [identity]) is not None:
            done += reseal(session, case, [identity], actor_label=actor_label)
    return done


def reseal_stale(session: Session, identities: Sequence[Identity], *, actor_label: str) -> int:
    """Reseal every stale seal these identities open; others wait for someone who can."""
    done = 0
    for case, seal in stale_seals(session):
        if try_unwrap(seal.wrap, identities) is None:
            continue
        done += reseal(session, case, identities, actor_label=actor_label)
    return done


@dataclass(frozen=True)
class ReporterSealView:
    """The follow-up page's line on a named report: sealed, or unsealed on which days and
    by which units (never by whom: that would name a person to the reporter)."""

    unsealings: list[tuple[date, Unit | None]]


def reporter_seal_view(session: Session, case_id: str) -> ReporterSealView | None:
    """None for an anonymous report."""
    if sealed_identity(session, case_id) is None:
        return None
    return ReporterSealView(
        [(u.day, unit_of(session, u.unit_id)) for u in unsealings_for_reporter(session, case_id)]
    )
