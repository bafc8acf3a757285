"""The two-way thread between a reporter and the reviewers of a case.

Every message and its attachments are age files encrypted to the case key, so the
reporter (who holds it through the receipt) and the holding unit's members read them
and nobody else. A reporter's message keeps only the day it was written: an exact time
could be matched against network logs. Reviewers' messages keep the exact time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import audit
from app.cases.blobs import check_pending_upload, commit_with_blobs, decrypt_blob, discard_all
from app.cases.payloads import AttachmentMeta, decode_message, encode_message
from app.models import Blob, Case, Message, utcnow
from app.models.vocabulary import BlobKind, Side
from app.notifications import outbox
from app.storage import BlobStore, PendingBlob
from crypto import AgeWriter, Identity, Recipient

MAX_MESSAGE_CIPHERTEXT_BYTES = 4 * 1024 * 1024
MAX_MESSAGE_CHARS = 20000


class MessageError(ValueError):
    code = "invalid_message"


class EmptyMessageError(MessageError):
    code = "empty_message"


class MessageTooLongError(MessageError):
    code = "message_too_long"


@dataclass(frozen=True)
class ThreadAttachment:
    blob_id: str
    meta: AttachmentMeta


@dataclass(frozen=True)
class ThreadMessage:
    id: int
    side: Side
    author_id: int | None
    created_at: datetime
    text: str
    attachments: list[ThreadAttachment]
    read: bool


def _admit_all() -> None:
    """The default ``admit`` hook: no flood control (reviewers, the CLI)."""


def _reporter_time() -> datetime:
    now = utcnow()
    return datetime(now.year, now.month, now.day, tzinfo=UTC)


def check_text(text: str, *, allow_empty: bool) -> str:
    text = text.replace("\r\n", "\n").strip()
    if not text and not allow_empty:
        raise EmptyMessageError("the message is empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise MessageTooLongError(f"the message is longer than {MAX_MESSAGE_CHARS} characters")
    return text


def _add(
    session: Session,
    *,
    case: Case,
    side: Side,
    author_id: int | None,
    body: PendingBlob,
    attachments: Sequence[PendingBlob],
    notify: bool = False,
) -> Message:
    blobs = [body, *attachments]
    try:
        created = _reporter_time() if side is Side.REPORTER else utcnow()
        message = Message(
            case_id=case.id, author_side=side.value, author_id=author_id, created_at=created
        )
        session.add(message)
        session.flush()
        for position, (blob, kind) in enumerate(
            [(body, BlobKind.MESSAGE)] + [(a, BlobKind.ATTACHMENT) for a in attachments]
        ):
            session.add(
                Blob(
                    id=blob.blob_id,
                    case_id=case.id,
                    kind=kind.value,
                    author_side=side.value,
                    message_id=message.id,
                    position=position,
                    storage_key=blob.storage_key,
                    size=blob.size,
                )
            )
        audit.record(
            session,
            actor="reporter" if side is Side.REPORTER else f"reviewer:{author_id}",
            action="message.from_reporter" if side is Side.REPORTER else "message.to_reporter",
            case_id=case.id,
            details={"attachments": len(attachments)},
            at=created if side is Side.REPORTER else None,
        )
        if notify and side is Side.REPORTER:
            outbox.queue_reporter_message(session, case)
    except BaseException:
        session.rollback()
        discard_all(blobs)
        raise
    commit_with_blobs(session, blobs)
    return message


def add_message_from_server(
    session: Session,
    store: BlobStore,
    *,
    case: Case,
    side: Side,
    author_id: int | None,
    text: str,
    attachments: Sequence[tuple[PendingBlob, AttachmentMeta]],
    notify: bool = False,
    admit: Callable[[], None] = _admit_all,
) -> Message:
    """Encrypt ``text`` (attachments were encrypted while they streamed in) and store.
    ``admit`` runs once the text passed its checks, before anything is written: the
    caller's flood control may refuse there (the uploads are then discarded)."""
    pending = [blob for blob, _ in attachments]
    try:
        clean = check_text(text, allow_empty=bool(attachments))
        admit()
        body = store.create(limit=MAX_MESSAGE_CIPHERTEXT_BYTES)
    except BaseException:
        discard_all(pending)
        raise
    try:
        with AgeWriter(body, [Recipient.parse(case.case_recipient)]) as writer:  # type: ignore[arg-type]
            writer.write(encode_message(clean, [meta for _, meta in attachments]))
    except BaseException:
        discard_all([body, *pending])
        raise
    return _add(
        session,
        case=case,
        side=side,
        author_id=author_id,
        body=body,
        attachments=pending,
        notify=notify,
    )


def add_message_from_browser(
    session: Session,
    *,
    case: Case,
    body: PendingBlob,
    attachments: Sequence[PendingBlob],
    max_file_bytes: int,
    notify: bool = False,
    admit: Callable[[], None] = _admit_all,
) -> Message:
    """Store a reporter message the browser encrypted to the case key. ``admit`` runs
    once every upload passed its format check, before anything is written."""
    try:
        check_pending_upload("message", body, MAX_MESSAGE_CIPHERTEXT_BYTES)
        for blob in attachments:
            check_pending_upload("attachment", blob, max_file_bytes + max_file_bytes // 100)
        admit()
    except BaseException:
        discard_all([body, *attachments])
        raise
    return _add(
        session,
        case=case,
        side=Side.REPORTER,
        author_id=None,
        body=body,
        attachments=attachments,
        notify=notify,
    )


def load_thread(
    session: Session, store: BlobStore, case_id: str, case_identity: Identity
) -> list[ThreadMessage]:
    """Decrypt the whole thread, oldest first, in memory."""
    messages = session.scalars(
        select(Message).where(Message.case_id == case_id).order_by(Message.id)
    ).all()
    if not messages:
        return []
    blobs = session.scalars(
        select(Blob)
        .where(Blob.message_id.in_([m.id for m in messages]))
        .order_by(Blob.message_id, Blob.position)
    ).all()
    by_message: dict[int, list[Blob]] = {}
    for blob in blobs:
        assert blob.message_id is not None
        by_message.setdefault(blob.message_id, []).append(blob)
    thread = []
    for message in messages:
        parts = by_message.get(message.id, [])
        body = next(b for b in parts if b.kind == BlobKind.MESSAGE.value)
        content = decode_message(decrypt_blob(store, body, case_identity))
        files = [b for b in parts if b.kind == BlobKind.ATTACHMENT.value]
        thread.append(
            ThreadMessage(
                id=message.id,
                side=Side(message.author_side),
                author_id=message.author_id,
                created_at=message.created_at,
                text=content.text,
                attachments=[
                    ThreadAttachment(blob.id, meta)
                    for blob, meta in zip(files, content.attachments, strict=False)
                ],
                read=message.read_at is not None,
            )
        )
    return thread


def mark_reporter_messages_read(session: Session, case_id: str) -> int:
    """A reviewer opened the thread: the reporter's messages count as read."""
    result = session.execute(
        update(Message)
        .where(
            Message.case_id == case_id,
            Message.author_side == Side.REPORTER.value,
            Message.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)
