"""Reports entered at the reception desk (tiếp công dân): in person, by phone, by letter.

A citizen who comes to the office, calls the hotline or writes a letter reaches a desk
officer of the intake unit (app.cases.access.may_enter_reports), who enters the report
on their behalf. The case is made exactly as the intake's no-JavaScript path makes one
(:func:`app.cases.submission.submit_from_server`): same questionnaire, same receipt
(Argon2id-derived lookup key, never stored in clear), same encryption, and for a named
denunciation the same sealed identity (app.cases.identity: the officer types the
identity and it is sealed to the intake unit's custodians at once; the officer's own
key does not open it afterwards). The citizen takes the receipt away on a printed slip,
shown once.

Time. The case keeps its day only, like any submission. The officer's entry is a staff
action, but its time is the time of the citizen's visit or call: with the office's
visitor book or a camera it would name an anonymous citizen. So its audit event
(``case.entered_at_desk``, naming the officer and the channel) is held and chained by
the day like the reporter's own event (app.audit.hold), not recorded to the second
(docs/threat-model.md, "Reports entered at the desk").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from app import audit, clock
from app.cases.access import Actor, require_desk_officer
from app.cases.attachments import uploaded_attachment
from app.cases.blobs import discard_all
from app.cases.desk_tokens import DeskToken, spend_token
from app.cases.identity import IdentityFields
from app.cases.submission import (
    CaseChoices,
    ReceiptSettings,
    ServerCaseKeys,
    StoredCase,
    SubmissionError,
    UploadedAttachment,
    intake_unit,
    submit_from_server,
)
from app.models.vocabulary import IntakeChannel, Track
from app.storage import BlobStore
from config.settings import Deadlines
from crypto import AgeWriter, Recipient, padme_length

# The channels a desk officer records; ``web`` is the intake site's own.
DESK_CHANNELS = tuple(c for c in IntakeChannel if c is not IntakeChannel.WEB)
_PAD_BLOCK = bytes(64 * 1024)


class InvalidChannelError(SubmissionError):
    code = "invalid_channel"


def parse_channel(value: str | None) -> IntakeChannel:
    """One of :data:`DESK_CHANNELS`; anything else (``web`` included) is refused."""
    text = (value or "").strip()
    for channel in DESK_CHANNELS:
        if channel.value == text:
            return channel
    raise InvalidChannelError(f"unknown channel {text!r}", field="channel")


@dataclass(frozen=True)
class PaperScan:
    """A scan of a paper document the citizen brought, as the officer uploaded it. Held
    in memory only until it is encrypted (app/review/desk_uploads.py reads it so)."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class DeskReport:
    channel: IntakeChannel
    choices: CaseChoices
    answers: Mapping[str, str | list[str]] = field(repr=False)
    identity: IdentityFields | None = None  # None: anonymous information (art. 25)

    @property
    def track(self) -> Track:
        return Track.ANONYMOUS if self.identity is None else Track.NAMED


@dataclass(frozen=True)
class DeskReceipt:
    """What the slip shows: the receipt (this once), the track, the channel, the day."""

    receipt: str = field(repr=False)
    stored: StoredCase
    track: Track
    channel: IntakeChannel
    day: date


def _encrypt_scan(store: BlobStore, recipient: Recipient, scan: PaperScan) -> UploadedAttachment:
    """Encrypt to the case key, padded to its PADMÉ length inside the encryption, as the
    intake pads an upload (app/intake/uploads.py)."""
    blob = store.create()
    try:
        with AgeWriter(blob, [recipient]) as writer:  # type: ignore[arg-type]
            writer.write(scan.data)
            missing = padme_length(len(scan.data)) - len(scan.data)
            while missing > 0:
                block = _PAD_BLOCK[: min(missing, len(_PAD_BLOCK))]
                writer.write(block)
                missing -= len(block)
    except BaseException:
        blob.discard()
        raise
    meta = uploaded_attachment(scan.filename, scan.content_type, len(scan.data))
    return UploadedAttachment(blob, meta)


def enter_at_desk(
    session: Session,
    store: BlobStore,
    receipts: ReceiptSettings,
    actor: Actor,
    report: DeskReport,
    scans: Sequence[PaperScan] = (),
    *,
    deadlines: Deadlines,
    today: date | None = None,
    notify: bool = False,
    token: DeskToken | None = None,
) -> DeskReceipt:
    """Store a report a desk officer entered; the caller commits. Refused
    (:class:`~app.cases.access.AccessDenied`, :class:`SubmissionError`) it stores
    nothing and leaves no file behind.

    ``token``, the form's one-time token (app.cases.desk_tokens), is spent in the same
    transaction as the case, once the case is made (submit_from_server ends the
    transaction it began before Argon2id runs, so a row spent earlier would be lost): a
    re-sent form that raced past the view's check raises
    :class:`~app.cases.desk_tokens.DeskReportAlreadyStoredError` and the caller's
    rollback removes its case and files; a refused entry leaves the token unspent."""
    require_desk_officer(actor, intake_unit(session).id)
    day = today or clock.reporter_day()
    keys = ServerCaseKeys()
    attachments: list[UploadedAttachment] = []
    try:
        for scan in scans:
            attachments.append(_encrypt_scan(store, keys.case_recipient, scan))
    except BaseException:
        discard_all(a.blob for a in attachments)
        raise
    receipt, stored = submit_from_server(
        session,
        store,
        receipts,
        keys=keys,
        choices=report.choices,
        answers=dict(report.answers),
        attachments=attachments,
        deadlines=deadlines,
        today=day,
        notify=notify,
        identity=report.identity,
        channel=report.channel,
    )
    if token is not None:
        spend_token(session, token, day=day)
    audit.hold(
        session,
        action="case.entered_at_desk",
        day=day,
        case_id=stored.case_id,
        actor=actor.label,
        details={"channel": report.channel.value, "track": report.track.value},
    )
    return DeskReceipt(receipt, stored, report.track, report.channel, day)
