"""An attachment's name and type live only inside the encrypted report or message that
lists it; the blob row knows just its position in that list."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cases.blobs import read_payload
from app.cases.filenames import clean_filename
from app.cases.payloads import AttachmentMeta, decode_message, decode_report
from app.models import Blob
from app.models.vocabulary import BlobKind
from app.storage import BlobStore
from crypto import Identity

GENERIC_TYPE = "application/octet-stream"


def uploaded_attachment(filename: str, content_type: str | None, size: int) -> AttachmentMeta:
    """What the server records of a file a reporter sent without JavaScript: the name
    cleaned (app.cases.filenames), the type as the browser said or a generic one."""
    return AttachmentMeta(clean_filename(filename), content_type or GENERIC_TYPE, size)


def unnamed_attachment(blob: Blob) -> AttachmentMeta:
    """For a file whose report or message cannot be read (or does not list it)."""
    return AttachmentMeta("attachment", GENERIC_TYPE, blob.size)


def listed_attachments(
    blobs: Sequence[Blob], listed: Sequence[AttachmentMeta] | None
) -> list[tuple[Blob, AttachmentMeta]]:
    """Each attachment blob with its name and type from the report or message that
    lists it (``None``: that report or message cannot be read)."""
    metas = list(listed or [])
    return [
        (blob, metas[i] if i < len(metas) else unnamed_attachment(blob))
        for i, blob in enumerate(blobs)
    ]


def describe_attachment(
    session: Session, store: BlobStore, blob: Blob, case_identity: Identity
) -> AttachmentMeta:
    listed: list[AttachmentMeta] = []
    if blob.message_id is None:
        parent = session.scalar(
            select(Blob).where(Blob.case_id == blob.case_id, Blob.kind == BlobKind.REPORT.value)
        )
        report = read_payload(store, parent, case_identity, decode_report) if parent else None
        listed = report.attachments if report else []
    else:
        parent = session.scalar(
            select(Blob).where(
                Blob.message_id == blob.message_id, Blob.kind == BlobKind.MESSAGE.value
            )
        )
        message = read_payload(store, parent, case_identity, decode_message) if parent else None
        listed = message.attachments if message else []
    index = blob.position - 1
    if 0 <= index < len(listed):
        return listed[index]
    return unnamed_attachment(blob)
