"""Internal notes and triage reasoning: encrypted to the case's staff key, which is never
wrapped to the reporter. Stored as blobs like everything else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


@dataclass(frozen=True)
class NoteView:
    id: int
    author: str
    created_at: datetime
    text: str


def encrypt_staff_text(session: Session, store: BlobStore, case: Case, text: str) -> str:
    """Encrypt ``text`` to the case's staff key as a note blob, add its row and stage the
    file for the caller's commit; return the blob's id. Free text a reviewer types about
    a case (a note, a routing reason, a recovery entry's note) goes through here, so it
    is never stored in clear. Refuses an empty or over-long text (MessageError)."""
    clean = check_text(text, allow_empty=False)
    blob = store.create(limit=MAX_NOTE_CIPHERTEXT_BYTES)
    try:
        with AgeWriter(blob, [Recipient.parse(case.staff_recipient)]) as writer:  # type: ignore[arg-type]
            writer.write(encode_message(clean, []))
        session.add(
            Blob(
                id=blob.blob_id,
                case_id=case.id,
                kind=BlobKind.NOTE.value,
                author_side=Side.REVIEWER.value,
                storage_key=blob.storage_key,
                size=blob.size,
            )
        )
        session.flush()
    except BaseException:
        session.rollback()
        discard_all([blob])
        raise
    stage_blobs(session, [blob])  # the caller commits (app.cases.unit_of_work)
    return blob.blob_id


def read_staff_text(store: BlobStore, blob: Blob, staff_identity: Identity) -> str:
    """The text of a blob written by :func:`encrypt_staff_text`."""
    return decode_message(decrypt_blob(store, blob, staff_identity)).text


def add_note(
    session: Session, store: BlobStore, actor: Actor, case: Case, text: str, *, kind: str = "note"
) -> Note:
    """Encrypt and store a note; the caller commits, which makes the blob file final."""
    blob_id = encrypt_staff_text(session, store, case, text)
    try:
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
    except BaseException:
        session.rollback()  # also discards the staged file (app.cases.unit_of_work)
        raise
    return note


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
