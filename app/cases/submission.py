"""A new case: receipt, keys, encrypted blobs, one transaction.

Two ways in, one way to store:
- **from the browser** (JavaScript): the browser made the keys and encrypted everything;
  it first asked for a *ticket* (:func:`issue_ticket`), which gives it the receipt and
  the reporter's public key, and carries the receipt's lookup key sealed
  (:mod:`app.cases.tickets`: nothing is stored at issue time).
  :func:`submit_from_browser` opens the ticket, checks the uploads are well-formed age
  files and stores; the case's unique lookup key makes the ticket single use.
- **from the server** (no JavaScript): :class:`ServerCaseKeys` is made before the
  request body is read, so attachments are encrypted while they stream in;
  :func:`submit_from_server` encrypts the answers and wraps the keys.

Either way :func:`_store_case` writes every row and flushes, then stages the blob files
with the session (:mod:`app.cases.unit_of_work`); the caller commits, which makes the
files final. On any failure it rolls back and removes the files, so a submission is
stored whole or leaves nothing behind.

The receipt is never stored. Its Argon2id derivation runs before the first write, so
the expensive part never holds SQLite's write lock.

:func:`submit_from_server` takes an ``admit`` hook: it is called once the cheap checks
passed and before any expensive work (Argon2id) or write. The web layer spends its flood
budget there (``app.web.ratelimit``); if the hook raises, the uploads are discarded and
nothing is stored. A browser submission needs none: it spends a ticket, which paid.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit, clock
from app.cases.blobs import (
    InvalidUploadError,
    attachment_ciphertext_limit,
    check_age_upload,
    discard_all,
)
from app.cases.custodians import custodian_recipients
from app.cases.deadlines import initial_deadlines
from app.cases.identity import (
    MAX_IDENTITY_CIPHERTEXT_BYTES,
    IdentityFields,
    Seal,
    add_seal,
    seal_on_server,
    seal_recipients,
)
from app.cases.keys import (
    active_recovery_recipient,
    recipient_lines,
    unit_reader_recipients,
    wrap_identity_to_recipients,
)
from app.cases.payloads import AttachmentMeta, encode_report
from app.cases.references import allocate_reference
from app.cases.tickets import (
    TICKET_TTL,
    ExpiredTicketError,
    InvalidTicketError,
    TicketContents,
    TicketKey,
    open_ticket,
    seal_ticket,
)
from app.cases.unit_of_work import stage_blobs
from app.installation import list_units
from app.models import Blob, Case, CaseExclusion, CaseKey, Unit
from app.models.vocabulary import (
    BlobKind,
    Category,
    IntakeChannel,
    KeyKind,
    Sector,
    Side,
    UnitKind,
)
from app.notifications import outbox
from app.storage import BlobStore, PendingBlob
from config.settings import Deadlines, KdfSettings
from crypto import (
    AgeWriter,
    Identity,
    ReceiptKdfParams,
    Recipient,
    derive_receipt_keys,
    new_receipt,
)

MAX_KEY_WRAP_BYTES = 64 * 1024
MAX_REPORT_CIPHERTEXT_BYTES = 4 * 1024 * 1024


class SubmissionError(Exception):
    """A submission refused. ``code`` is stable (for translations and the JSON API)."""

    code = "invalid_submission"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidChoiceError(SubmissionError):
    code = "invalid_choice"


class TicketError(SubmissionError):
    code = "invalid_ticket"


class InvalidCiphertextError(SubmissionError):
    code = "invalid_ciphertext"


class NoIntakeUnitError(SubmissionError):
    code = "not_ready"


class RecipientsChangedError(SubmissionError):
    """The browser wrapped the keys for readers that are no longer the right ones (a
    member joined or left a unit since it fetched them): nothing is stored, and the
    browser fetches the readers again and re-wraps."""

    code = "recipients_changed"


@dataclass(frozen=True)
class ReceiptSettings:
    """What deriving a receipt needs: the installation salt (from the secrets file,
    never the database) and the Argon2id cost."""

    salt: bytes = field(repr=False)
    params: ReceiptKdfParams

    @classmethod
    def from_config(cls, salt: bytes, kdf: KdfSettings) -> ReceiptSettings:
        return cls(salt, ReceiptKdfParams(kdf.memory_kib, kdf.time_cost, kdf.parallelism))


@dataclass(frozen=True)
class CaseChoices:
    """The only reporter-given fields stored in clear (routing and statistics)."""

    category: str
    sector: str | None
    excluded_units: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredCase:
    case_id: str
    reference: str


@dataclass(frozen=True)
class IssuedTicket:
    ticket: str
    receipt: str
    reporter_recipient: str
    expires_at: datetime


@dataclass
class ServerCaseKeys:
    """Keys the server makes for a no-JavaScript submission before reading the body."""

    case_identity: Identity = field(default_factory=Identity.generate, repr=False)
    staff_identity: Identity = field(default_factory=Identity.generate, repr=False)

    @property
    def case_recipient(self) -> Recipient:
        return self.case_identity.recipient


@dataclass(frozen=True)
class UploadedAttachment:
    """An attachment already encrypted into the blob store as it streamed in."""

    blob: PendingBlob
    meta: AttachmentMeta


def _admit_all() -> None:
    """The default ``admit`` hook: no flood control (the CLI, tests of the domain)."""


@dataclass(frozen=True)
class IntakeUnits:
    """The active units as a submission sees them: one query, one rule for both."""

    intake: Unit | None  # the first active intake unit: new cases land here
    excludable: list[Unit]  # every other active unit: a reporter may keep them out

    @classmethod
    def load(cls, session: Session) -> IntakeUnits:
        intake, excludable = None, []
        for unit in list_units(session, active_only=True):
            if unit.kind != UnitKind.INTAKE.value:
                excludable.append(unit)
            elif intake is None:
                intake = unit
        return cls(intake, excludable)

    def require_intake(self) -> Unit:
        if self.intake is None:
            raise NoIntakeUnitError("no active intake unit: run init")
        return self.intake


def intake_unit(session: Session) -> Unit:
    return IntakeUnits.load(session).require_intake()


def excludable_units(session: Session) -> list[Unit]:
    """Units a reporter may keep out of their case (every active unit but intake)."""
    return IntakeUnits.load(session).excludable


def _check_choices(session: Session, choices: CaseChoices) -> tuple[Unit, list[Unit]]:
    """Validate the reporter's choices; return the intake unit and the excluded units."""
    if choices.category not in {c.value for c in Category}:
        raise InvalidChoiceError(f"unknown category {choices.category!r}", field="category")
    if choices.sector is not None and choices.sector not in {s.value for s in Sector}:
        raise InvalidChoiceError(f"unknown sector {choices.sector!r}", field="sector")
    units = IntakeUnits.load(session)
    allowed = {unit.slug: unit for unit in units.excludable}
    excluded = []
    for slug in dict.fromkeys(choices.excluded_units):
        if slug not in allowed:
            raise InvalidChoiceError(f"unit {slug!r} cannot be excluded", field="excluded_units")
        excluded.append(allowed[slug])
    return units.require_intake(), excluded


def submission_recipients(
    session: Session, excluded: Sequence[Unit], intake: Unit | None = None
) -> list[Recipient]:
    """Who gets the new case's keys: the intake unit's readers (minus anyone also in an
    excluded unit) and the recovery key."""
    unit = intake or intake_unit(session)
    readers = unit_reader_recipients(session, unit.id, excluded_unit_ids=[u.id for u in excluded])
    return [*readers, active_recovery_recipient(session)]


@dataclass(frozen=True)
class SubmissionReaders:
    """Every reader set a browser may wrap a new case's keys to: the intake unit's readers,
    the recovery key, and each excludable unit with its readers (whom an exclusion
    removes from the intake unit's). ``GET /api/v1/submission`` hands them out."""

    intake: tuple[Recipient, ...]
    recovery: Recipient
    units: tuple[tuple[Unit, tuple[Recipient, ...]], ...]
    # A named report's identity key is wrapped for these and the recovery key only
    # (app.cases.identity): the intake unit's identity custodians.
    custodians: tuple[Recipient, ...] = ()

    @property
    def recipients(self) -> list[Recipient]:
        """Who gets the keys of a case that excludes no unit (:func:`submission_recipients`)."""
        return [*self.intake, self.recovery]

    @property
    def version(self) -> str:
        """A digest of all of it: the browser sends it back with the report, and
        :func:`submit_from_browser` refuses the report if it changed meanwhile - the
        server cannot see whom an age file is encrypted to, so this is how it knows the
        wraps were made for the readers it expects, not a stale set (a member who left,
        a new member of an excluded unit)."""
        readers = {
            "intake": sorted(str(r) for r in self.intake),
            "custodians": sorted(str(r) for r in self.custodians),
            "recovery": str(self.recovery),
            "units": {unit.slug: sorted(str(r) for r in rs) for unit, rs in self.units},
        }
        canonical = json.dumps(readers, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(b"liemchinh/recipients\x00" + canonical).hexdigest()


def submission_readers(session: Session) -> SubmissionReaders:
    units = IntakeUnits.load(session)
    intake = units.require_intake()
    return SubmissionReaders(
        intake=tuple(unit_reader_recipients(session, intake.id)),
        recovery=active_recovery_recipient(session),
        units=tuple(
            (unit, tuple(unit_reader_recipients(session, unit.id))) for unit in units.excludable
        ),
        custodians=tuple(custodian_recipients(session, intake.id)),
    )


def recipients_version(session: Session) -> str:
    """:attr:`SubmissionReaders.version` of the readers as they are now."""
    return submission_readers(session).version


@contextmanager
def _receipt_conflict_is_a_used_ticket(session: Session, lookup_key: bytes) -> Iterator[None]:
    """Two submissions with one ticket can both pass :func:`receipt_in_use`; the unique
    lookup key lets one through (at ``_store_case``'s flush), and the other fails here
    with :class:`TicketError` (``_store_case`` rolled back and discarded its blobs)."""
    try:
        yield
    except IntegrityError:
        if receipt_in_use(session, lookup_key):
            raise TicketError("the ticket was already used", field="ticket") from None
        raise


@dataclass(frozen=True)
class NewCase:
    """Everything :func:`_store_case` writes: the checked choices, the case's public
    keys and their wraps, and the blob files (the report at position 0)."""

    intake: Unit
    lookup_key: bytes = field(repr=False)
    reporter_recipient: Recipient
    case_recipient: Recipient
    staff_recipient: Recipient
    choices: CaseChoices
    excluded: Sequence[Unit]
    case_wrap: bytes = field(repr=False)
    staff_wrap: bytes = field(repr=False)
    wrap_recipients: Sequence[Recipient]
    blobs: Sequence[tuple[PendingBlob, BlobKind, int]]
    seal: Seal | None = None  # a named denunciation's sealed identity (app.cases.identity)
    channel: IntakeChannel = IntakeChannel.WEB  # a desk officer's entry says how (app.cases.desk)


def _store_case(
    session: Session, new: NewCase, *, deadlines: Deadlines, today: date, notify: bool = False
) -> StoredCase:
    pending = [blob for blob, _, _ in new.blobs] + ([new.seal.blob] if new.seal else [])
    try:
        reference = allocate_reference(session, today.year)
        due = initial_deadlines(today, deadlines)
        case = Case(
            id=secrets.token_hex(16),
            reference=str(reference),
            ref_year=reference.year,
            ref_number=reference.number,
            receipt_lookup_key=new.lookup_key,
            reporter_recipient=str(new.reporter_recipient),
            case_recipient=str(new.case_recipient),
            staff_recipient=str(new.staff_recipient),
            category=new.choices.category,
            sector=new.choices.sector or Sector.OTHER.value,
            holding_unit_id=new.intake.id,
            channel=new.channel.value,
            created_day=today,
            acknowledge_due=due.acknowledge,
            decision_due=due.decision,
            feedback_due=due.feedback,
        )
        session.add(case)
        if new.seal is not None:  # a named denunciation (app.cases.identity)
            add_seal(session, case, new.seal, today)
        session.add_all(CaseExclusion(case_id=case.id, unit_id=unit.id) for unit in new.excluded)
        session.add_all(
            [
                CaseKey(
                    case_id=case.id,
                    kind=KeyKind.CASE.value,
                    wrap=new.case_wrap,
                    recipients=recipient_lines([*new.wrap_recipients, new.reporter_recipient]),
                ),
                CaseKey(
                    case_id=case.id,
                    kind=KeyKind.STAFF.value,
                    wrap=new.staff_wrap,
                    recipients=recipient_lines(new.wrap_recipients),
                ),
            ]
        )
        for blob, kind, position in new.blobs:
            session.add(
                Blob(
                    id=blob.blob_id,
                    case_id=case.id,
                    kind=kind.value,
                    author_side=Side.REPORTER.value,
                    position=position,
                    storage_key=blob.storage_key,
                    size=blob.size,
                    created_day=today,
                )
            )
        # Held, not chained: its place in the chain would date it (app.audit).
        audit.hold(
            session,
            action="case.submitted",
            day=today,
            case_id=case.id,
            details={"reference": case.reference, "attachments": len(new.blobs) - 1},
        )
        if notify:
            outbox.hold_new_case(session, case, today)
        # The unique lookup key is checked here, at the INSERT: a used ticket fails now.
        session.flush()
    except BaseException:
        session.rollback()
        discard_all(pending)
        raise
    stage_blobs(session, pending)
    return StoredCase(case.id, case.reference)


def receipt_in_use(session: Session, lookup_key: bytes) -> bool:
    """Whether a case already has this receipt (one indexed lookup)."""
    found = session.scalar(select(Case.id).where(Case.receipt_lookup_key == lookup_key))
    return found is not None


def _today() -> date:
    # The installation's local day, not UTC's (app.clock says why).
    return clock.reporter_day()


def submit_from_server(
    session: Session,
    store: BlobStore,
    receipts: ReceiptSettings,
    *,
    keys: ServerCaseKeys,
    choices: CaseChoices,
    answers: dict[str, str | list[str]],
    attachments: Sequence[UploadedAttachment],
    deadlines: Deadlines,
    today: date | None = None,
    notify: bool = False,
    admit: Callable[[], None] = _admit_all,
    identity: IdentityFields | None = None,
    channel: IntakeChannel = IntakeChannel.WEB,
) -> tuple[str, StoredCase]:
    """Store a no-JavaScript submission. Returns (receipt, stored case). With
    ``identity`` it is a named denunciation: the identity is sealed as it is read.
    ``channel`` is the intake site's unless a desk officer entered it (app.cases.desk)."""
    pending: list[tuple[PendingBlob, BlobKind, int]] = [
        (a.blob, BlobKind.ATTACHMENT, i + 1) for i, a in enumerate(attachments)
    ]
    report_blob: PendingBlob | None = None
    seal: Seal | None = None
    try:
        intake, excluded = _check_choices(session, choices)
        session.rollback()  # hold no lock while the hook and Argon2id run
        admit()
        receipt = new_receipt()
        receipt_keys = derive_receipt_keys(receipt, receipts.salt, receipts.params)
        report_blob = store.create(limit=MAX_REPORT_CIPHERTEXT_BYTES)
        with AgeWriter(report_blob, [keys.case_recipient]) as writer:  # type: ignore[arg-type]
            writer.write(encode_report(answers, [a.meta for a in attachments]))
        recipients = submission_recipients(session, excluded, intake)
        reporter = receipt_keys.identity.recipient
        case_wrap = wrap_identity_to_recipients(keys.case_identity, [*recipients, reporter])
        staff_wrap = wrap_identity_to_recipients(keys.staff_identity, recipients)
        if identity is not None:
            seal = seal_on_server(session, store, identity, intake.id)
    except BaseException:
        session.rollback()
        discard_all(blob for blob, _, _ in pending)
        if report_blob is not None:
            report_blob.discard()
        raise
    new = NewCase(
        intake=intake,
        lookup_key=receipt_keys.lookup_key,
        reporter_recipient=reporter,
        case_recipient=keys.case_recipient,
        staff_recipient=keys.staff_identity.recipient,
        choices=choices,
        excluded=excluded,
        case_wrap=case_wrap,
        staff_wrap=staff_wrap,
        wrap_recipients=recipients,
        blobs=[(report_blob, BlobKind.REPORT, 0), *pending],
        seal=seal,
        channel=channel,
    )
    stored = _store_case(
        session,
        new,
        deadlines=deadlines,
        today=today or _today(),
        notify=notify,
    )
    return receipt, stored


def issue_ticket(
    key: TicketKey,
    receipts: ReceiptSettings,
    *,
    ttl: timedelta = TICKET_TTL,
    now: float | None = None,
) -> IssuedTicket:
    """A ticket for a browser submission: a new receipt, its reporter key, and the
    sealed ticket (:mod:`app.cases.tickets`). One Argon2id run; writes nothing."""
    receipt = new_receipt()
    keys = derive_receipt_keys(receipt, receipts.salt, receipts.params)
    reporter = keys.identity.recipient
    ticket, expires = seal_ticket(
        key, lookup_key=keys.lookup_key, reporter_recipient=reporter, ttl=ttl, now=now
    )
    return IssuedTicket(ticket, receipt, str(reporter), expires)


def _check_age_upload(name: str, data: BinaryIO, limit: int) -> None:
    try:
        check_age_upload(name, data, limit)
    except InvalidUploadError as exc:
        raise InvalidCiphertextError(str(exc), field=name) from None


def _current_version(session: Session) -> str:
    # (submit_from_browser's parameter of the same name hides the function)
    return recipients_version(session)


def _parse_recipient(name: str, text: str) -> Recipient:
    try:
        return Recipient.parse(text.strip())
    except ValueError:
        raise InvalidCiphertextError(f"{name} is not an age X25519 recipient", field=name) from None


def _open_unused_ticket(
    session: Session, key: TicketKey, ticket: str, now: float | None
) -> TicketContents:
    try:
        contents = open_ticket(key, ticket, now=now)
    except ExpiredTicketError:
        raise TicketError("the ticket has expired", field="ticket") from None
    except InvalidTicketError:
        raise TicketError("unknown ticket", field="ticket") from None
    if receipt_in_use(session, contents.lookup_key):
        raise TicketError("the ticket was already used", field="ticket")
    return contents


@dataclass(frozen=True)
class BrowserIdentity:
    """A named report's identity as the browser sealed it: the identity file (age, to
    ``identity_recipient`` alone) and the identity key's wrap."""

    blob: PendingBlob
    identity_recipient: str
    identity_key_wrap: bytes = field(repr=False)


def _browser_seal(session: Session, identity: BrowserIdentity, intake: Unit) -> Seal:
    rcpt = _parse_recipient("identity_recipient", identity.identity_recipient)
    _check_age_upload(
        "identity_key_wrap", io.BytesIO(identity.identity_key_wrap), MAX_KEY_WRAP_BYTES
    )
    with identity.blob.reopen() as handle:
        _check_age_upload("identity", handle, MAX_IDENTITY_CIPHERTEXT_BYTES)
    return Seal(
        identity.blob, rcpt, identity.identity_key_wrap, tuple(seal_recipients(session, intake.id))
    )


def submit_from_browser(
    session: Session,
    *,
    ticket_key: TicketKey,
    ticket: str,
    choices: CaseChoices,
    case_recipient: str,
    staff_recipient: str,
    report: PendingBlob,
    attachments: Sequence[PendingBlob],
    case_key_wrap: bytes,
    staff_key_wrap: bytes,
    max_file_bytes: int,
    deadlines: Deadlines,
    recipients_version: str,
    today: date | None = None,
    notify: bool = False,
    now: float | None = None,
    identity: BrowserIdentity | None = None,
) -> StoredCase:
    """Store a submission the browser encrypted. The ticket must be genuine, unexpired
    and unused; every upload a well-formed age file with only X25519 stanzas; the wraps
    must have been made for the readers the server expects now
    (:func:`recipients_version`). A used ticket is refused (:class:`TicketError`),
    before ``admit`` or after a race. With ``identity`` it is a named denunciation whose
    identity the browser sealed (its key wrapped for the intake unit's custodians and
    the recovery key, which the recipients version covers)."""
    blobs: list[tuple[PendingBlob, BlobKind, int]] = [
        (report, BlobKind.REPORT, 0),
        *((blob, BlobKind.ATTACHMENT, i + 1) for i, blob in enumerate(attachments)),
    ]
    if identity is not None:  # discarded with the others on any refusal below
        blobs.append((identity.blob, BlobKind.IDENTITY, -1))
    seal: Seal | None = None
    try:
        contents = _open_unused_ticket(session, ticket_key, ticket, now)
        case_rcpt = _parse_recipient("case_recipient", case_recipient)
        staff_rcpt = _parse_recipient("staff_recipient", staff_recipient)
        _check_age_upload("case_key_wrap", io.BytesIO(case_key_wrap), MAX_KEY_WRAP_BYTES)
        _check_age_upload("staff_key_wrap", io.BytesIO(staff_key_wrap), MAX_KEY_WRAP_BYTES)
        with report.reopen() as handle:
            _check_age_upload("report", handle, MAX_REPORT_CIPHERTEXT_BYTES)
        for blob in attachments:
            with blob.reopen() as handle:
                _check_age_upload("attachment", handle, attachment_ciphertext_limit(max_file_bytes))
        intake, excluded = _check_choices(session, choices)
        if not hmac.compare_digest(recipients_version.encode(), _current_version(session).encode()):
            raise RecipientsChangedError(
                "the readers changed since the browser fetched them", field="recipients_version"
            )
        recipients = submission_recipients(session, excluded, intake)
        reporter = contents.reporter_recipient
        if identity is not None:
            seal = _browser_seal(session, identity, intake)
    except BaseException:
        session.rollback()
        discard_all(blob for blob, _, _ in blobs)
        raise
    new = NewCase(
        intake=intake,
        lookup_key=contents.lookup_key,
        reporter_recipient=reporter,
        case_recipient=case_rcpt,
        staff_recipient=staff_rcpt,
        choices=choices,
        excluded=excluded,
        case_wrap=case_key_wrap,
        staff_wrap=staff_key_wrap,
        wrap_recipients=recipients,
        blobs=[b for b in blobs if b[1] is not BlobKind.IDENTITY],
        seal=seal,
    )
    with _receipt_conflict_is_a_used_ticket(session, contents.lookup_key):
        return _store_case(
            session,
            new,
            deadlines=deadlines,
            today=today or _today(),
            notify=notify,
        )
