"""Internal notes and triage reasoning: encrypted to the case's staff key, which is never
wrapped to the reporter. Stored as blobs like everything else."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.cases.access import Actor
from app.cases.blobs import decrypt_blob, discard_all
from app.cases.messages import check_text
from app.cases.payloads import decode_message, encode_message
from app.cases.unit_of_work import stage_blobs
from app.models import Blob, Case, Note, Reviewer
from app.models.vocabulary import BlobKind, Side
from app.storage import BlobStore
from crypto import AgeWriter, Identity, Recipient

MAX_NOTE_CIPHERTEXT_BYTES = 1024 * 1024

T = TypeVar("T")


@dataclass(frozen=True)
class NoteView:
    id: int
    author: str
    created_at: datetime
    text: str


def add_note(
    session: Session, store: BlobStore, actor: Actor, case: Case, text: str, *, kind: str = "note"
) -> Note:
    """Encrypt and store a note; the caller commits, which makes the blob file final."""
    clean = check_text(text, allow_empty=False)

    def record(blob_id: str) -> Note:
        note = Note(case_id=case.id, blob_id=blob_id, author_id=actor.reviewer_id)
        session.add(note)
        session.flush()
        audit.record(
            session,
            actor=actor.label,
            action="note.added",
            case_id=case.id,
            details={"kind": kind},
        )
        return note

    return seal_staff_text(session, store, case, [case.staff_recipient], clean, record)


def seal_staff_text(
    session: Session,
    store: BlobStore,
    owner: Case,
    staff_recipients: Sequence[str],
    clean_text: str,
    record: Callable[[str], T],
) -> T:
    """Encrypt ``clean_text`` (already checked) to staff keys only, as a note blob of
    ``owner``; ``record(blob_id)`` writes the rows that point at it and the audit event.

    Staff keys only: never the case key, so the reporter can never read it. On any
    failure the session is rolled back and the file removed; on success the blob is
    staged, and the caller's commit makes it final (app.cases.unit_of_work).
    """
    blob = store.create(limit=MAX_NOTE_CIPHERTEXT_BYTES)
    try:
        recipients = [Recipient.parse(r) for r in staff_recipients]
        with AgeWriter(blob, recipients) as writer:  # type: ignore[arg-type]
            writer.write(encode_message(clean_text, []))
        session.add(
            Blob(
                id=blob.blob_id,
                case_id=owner.id,
                kind=BlobKind.NOTE.value,
                author_side=Side.REVIEWER.value,
                storage_key=blob.storage_key,
                size=blob.size,
            )
        )
        session.flush()
        result = record(blob.blob_id)
    except BaseException:
        session.rollback()
        discard_all([blob])
        raise
    stage_blobs(session, [blob])  # the caller commits (app.cases.unit_of_work)
    return result


def encrypt_staff_text(session: Session, store: BlobStore, case: Case, text: str) -> str:
    """Encrypt ``text`` to the case's staff key as a note blob of ``case`` and return the
    blob's id (a routing reason, a recovery entry's note): free text a reviewer types about
    a case is never stored in clear. Refuses an empty or over-long text (MessageError)."""
    clean = check_text(text, allow_empty=False)
    return seal_staff_text(
        session, store, case, [case.staff_recipient], clean, lambda blob_id: blob_id
    )


def read_staff_text(store: BlobStore, blob: Blob, staff_identity: Identity) -> str:
    """The text of a note blob, decrypted in memory with a staff key."""
    return decode_message(decrypt_blob(store, blob, staff_identity)).text


def load_notes(
    session: Session, store: BlobStore, case_id: str, staff_identity: Identity
) -> list[NoteView]:
    rows = session.execute(
        select(Note, Blob, Reviewer.username)
        .join(Blob, Blob.id == Note.blob_id)
        .outerjoin(Reviewer, Reviewer.id == Note.author_id)
        .where(Note.case_id == case_id)
        .order_by(Note.id)
    ).all()
    return [
        NoteView(
            note.id,
            username or "—",
            note.created_at,
            read_staff_text(store, blob, staff_identity),
        )
        for note, blob, username in rows
    ]
