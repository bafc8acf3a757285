"""The two-way thread between a reporter and the reviewers of a case.

Every message and its attachments are age files encrypted to the case key, so the
reporter (who holds it through the receipt) and the holding unit's members read them
and nobody else. A reporter's message keeps only the day it was written: an exact time
could be matched against network logs. Reviewers' messages keep the exact time.

Nothing in clear orders a reporter's message against the reviewers' messages of its
day either: ids are random (app.models.Message), the audit event is held until the day
is over (app.audit.hold), and so is the notice to reviewers. The thread's order comes
from the ``after`` pointer inside the encrypted message (app.cases.thread).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import audit, clock
from app.actors import reviewer_actor
from app.cases.attachments import listed_attachments
from app.cases.blobs import (
    attachment_ciphertext_limit,
    check_pending_upload,
    discard_all,
    read_payload,
)
from app.cases.payloads import AttachmentMeta, decode_message, encode_message
from app.cases.thread import Placement, message_day, thread_order
from app.cases.unit_of_work import stage_blobs
from app.models import Blob, Case, Message, utcnow
from app.models.cases import new_message_id
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
    # Exact for a reviewer's message; a day label (app.clock.day_stamp) for a reporter's.
    created_at: datetime
    text: str
    attachments: list[ThreadAttachment]
    read: bool
    day: date  # the local day it was written
    after: int | None = None  # the message it follows (a reporter's, from its payload)
    # The message does not decrypt with the case key or is not in our format (a
    # browser can upload any well-formed age file): shown as unreadable, text empty.
    unreadable: bool = False


def _admit_all() -> None:
    """The default ``admit`` hook: no flood control (reviewers, the CLI)."""


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
        now = utcnow()
        day = clock.reporter_day(now) if side is Side.REPORTER else clock.local_day(now)
        created = clock.day_stamp(day) if side is Side.REPORTER else now
        message = Message(
            id=new_message_id(),
            case_id=case.id,
            author_side=side.value,
            author_id=author_id,
            created_at=created,
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
                    created_day=day,
                )
            )
        if side is Side.REPORTER:
            audit.hold(
                session,
                action="message.from_reporter",
                day=day,
                case_id=case.id,
                details={"attachments": len(attachments)},
            )
            if notify:
                outbox.hold_reporter_message(session, case, day)
        else:
            if author_id is None:
                raise ValueError("a reviewer's message names the reviewer who wrote it")
            audit.record(
                session,
                actor=reviewer_actor(author_id),
                action="message.to_reporter",
                case_id=case.id,
                details={"attachments": len(attachments)},
            )
        session.flush()
    except BaseException:
        session.rollback()
        discard_all(blobs)
        raise
    stage_blobs(session, blobs)  # the caller commits (app.cases.unit_of_work)
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
    after: int | None = None,
    admit: Callable[[], None] = _admit_all,
) -> Message:
    """Encrypt ``text`` (attachments were encrypted while they streamed in) and store.

    ``after`` is the newest message the writer had on screen (the reporter's follow-up
    page sends it); it goes inside the encrypted message, and only if it is a message
    of this case. ``admit`` runs once the text passed its checks, before anything is
    written: the caller's flood control may refuse there (the uploads are then
    discarded)."""
    pending = [blob for blob, _ in attachments]
    try:
        clean = check_text(text, allow_empty=bool(attachments))
        follows = _message_of_case(session, case.id, after)
        admit()
        body = store.create(limit=MAX_MESSAGE_CIPHERTEXT_BYTES)
    except BaseException:
        discard_all(pending)
        raise
    try:
        with AgeWriter(body, [Recipient.parse(case.case_recipient)]) as writer:  # type: ignore[arg-type]
            writer.write(encode_message(clean, [meta for _, meta in attachments], follows))
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


def _message_of_case(session: Session, case_id: str, message_id: int | None) -> int | None:
    if message_id is None or not 0 < message_id < 2**63:
        return None
    found = session.scalar(
        select(Message.id).where(Message.id == message_id, Message.case_id == case_id)
    )
    return int(found) if found is not None else None


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
            check_pending_upload("attachment", blob, attachment_ciphertext_limit(max_file_bytes))
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
    """Decrypt the whole thread in memory, in thread order (app.cases.thread)."""
    messages = session.scalars(select(Message).where(Message.case_id == case_id)).all()
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
    thread: dict[int, ThreadMessage] = {}
    for message in messages:
        parts = by_message.get(message.id, [])
        body = next(b for b in parts if b.kind == BlobKind.MESSAGE.value)
        content = read_payload(store, body, case_identity, decode_message)
        files = [b for b in parts if b.kind == BlobKind.ATTACHMENT.value]
        side = Side(message.author_side)
        thread[message.id] = ThreadMessage(
            id=message.id,
            side=side,
            author_id=message.author_id,
            created_at=message.created_at,
            text=content.text if content else "",
            attachments=[
                ThreadAttachment(blob.id, meta)
                for blob, meta in listed_attachments(
                    files, content.attachments if content else None
                )
            ],
            read=message.read_at is not None,
            day=message_day(side, message.created_at),
            after=content.after if content and side is Side.REPORTER else None,
            unreadable=content is None,
        )
    order = thread_order([Placement(m.id, m.side, m.created_at, m.after) for m in thread.values()])
    return [thread[message_id] for message_id in order]


def newest_message_id(thread: Sequence[ThreadMessage]) -> int | None:
    """What a reporter's new message follows: the last message of the thread shown."""
    return thread[-1].id if thread else None


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
