"""What a reviewer sees of a case: decrypted in memory with the key their session holds.

Opening the case key wrap with the reviewer's own private key is the real access check:
the SQL rule (app.cases.access) decides what is listed, and the wraps decide what can be
decrypted; :func:`open_case` insists on both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit, clock
from app.cases.access import AccessDenied, Actor, readable_case
from app.cases.attachments import describe_attachment, listed_attachments
from app.cases.blobs import read_payload, stream_blob
from app.cases.grants import RewrapError, open_case_keys
from app.cases.messages import ThreadMessage, load_thread
from app.cases.notes import NoteView, load_notes
from app.cases.payloads import AttachmentMeta, ReportContent, decode_report
from app.models import AuditEvent, Blob, Case
from app.models.vocabulary import BlobKind, KeyKind
from app.storage import BlobStore
from crypto import Identity


class NoKeyError(AccessDenied):
    """The reviewer may read the case but their key is not (yet) in its wraps: a pending
    grant waits for a colleague or the recovery key."""


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    actor: str
    action: str
    details: dict[str, object]
    # A reporter's event: ``at`` labels its day (app.clock.day_stamp), it has no time.
    day_only: bool = False
    # Not yet in the hash chain: held until its day is over (app.audit.hold).
    held: bool = False


@dataclass(frozen=True)
class ReviewerCase:
    case: Case
    report: ReportContent | None  # None: the report cannot be read (see read_payload)
    attachments: list[tuple[str, AttachmentMeta]]
    thread: list[ThreadMessage]
    notes: list[NoteView]
    timeline: list[TimelineEntry]
    case_identity: Identity = field(repr=False)
    # The staff key, for what else the page decrypts (the recovery ledger's notes).
    staff_identity: Identity = field(repr=False)


def case_identities(session: Session, actor: Actor, case: Case) -> dict[KeyKind, Identity]:
    if actor.identity is None:
        raise NoKeyError("your session holds no key")
    try:
        return open_case_keys(session, case, [actor.identity])
    except RewrapError:
        raise NoKeyError("your key is not in this case's key wraps yet") from None


def timeline(session: Session, case_id: str) -> list[TimelineEntry]:
    """The case's chained events in chain order, then its held reporter events (which
    join the chain once their day is over), each with its day only."""
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
    )
    chained = [
        TimelineEntry(
            e.created_at,
            e.actor,
            e.action,
            json.loads(e.details),
            day_only=e.actor == "reporter",
        )
        for e in events
    ]
    held = [
        TimelineEntry(clock.day_stamp(e.day), e.actor, e.action, json.loads(e.details), True, True)
        for e in audit.held_for_case(session, case_id)
    ]
    return chained + held


def open_case(session: Session, store: BlobStore, actor: Actor, case_id: str) -> ReviewerCase:
    case = readable_case(session, actor, case_id)
    keys = case_identities(session, actor, case)
    blobs = session.scalars(
        select(Blob)
        .where(Blob.case_id == case.id, Blob.message_id.is_(None))
        .where(Blob.kind.in_([BlobKind.REPORT.value, BlobKind.ATTACHMENT.value]))
        .order_by(Blob.position)
    ).all()
    report_blob = next(b for b in blobs if b.kind == BlobKind.REPORT.value)
    report = read_payload(store, report_blob, keys[KeyKind.CASE], decode_report)
    files = [b for b in blobs if b.kind == BlobKind.ATTACHMENT.value]
    return ReviewerCase(
        case=case,
        report=report,
        attachments=[
            (b.id, m) for b, m in listed_attachments(files, report.attachments if report else None)
        ],
        thread=load_thread(session, store, case.id, keys[KeyKind.CASE]),
        notes=load_notes(session, store, case.id, keys[KeyKind.STAFF]),
        timeline=timeline(session, case.id),
        case_identity=keys[KeyKind.CASE],
        staff_identity=keys[KeyKind.STAFF],
    )


@dataclass(frozen=True)
class AttachmentDownload:
    meta: AttachmentMeta
    chunks: Iterator[bytes]


def open_attachment(
    session: Session, store: BlobStore, actor: Actor, case_id: str, blob_id: str
) -> AttachmentDownload:
    case = readable_case(session, actor, case_id)
    blob = _attachment_of(session, case.id, blob_id)
    identity = case_identities(session, actor, case)[KeyKind.CASE]
    return _download(session, store, blob, identity)


def open_reporter_attachment(
    session: Session, store: BlobStore, case_id: str, case_identity: Identity, blob_id: str
) -> AttachmentDownload:
    """The reporter's twin of :func:`open_attachment`: their session holds the case id
    and key (app.cases.followup), and only an attachment of that case is theirs."""
    return _download(session, store, _attachment_of(session, case_id, blob_id), case_identity)


def _attachment_of(session: Session, case_id: str, blob_id: str) -> Blob:
    """The attachment ``blob_id`` if it belongs to ``case_id``; the same refusal for a
    blob of another case, a report or message body, or none at all."""
    blob = session.get(Blob, blob_id)
    if blob is None or blob.case_id != case_id or blob.kind != BlobKind.ATTACHMENT.value:
        raise AccessDenied("no such attachment in this case")
    return blob


def _download(
    session: Session, store: BlobStore, blob: Blob, identity: Identity
) -> AttachmentDownload:
    meta = describe_attachment(session, store, blob, identity)
    return AttachmentDownload(meta, stream_blob(store, blob, identity, size=meta.size))


def record_download(session: Session, actor: Actor, case_id: str) -> None:
    """An attachment was sent to the reviewer in full: audited (the caller commits).
    Only a download that completed counts (``app.web.downloads``): a file that cannot be
    opened or decrypted leaves no "downloaded" event."""
    audit.record(session, actor=actor.label, action="attachment.downloaded", case_id=case_id)
