"""An attachment's name and type live only inside the encrypted report or message that
lists it; the blob row knows just its position in that list."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cases.blobs import decrypt_blob
from app.cases.payloads import AttachmentMeta, decode_message, decode_report
from app.models import Blob
from app.models.vocabulary import BlobKind
from app.storage import BlobStore
from crypto import Identity


def describe_attachment(
    session: Session, store: BlobStore, blob: Blob, case_identity: Identity
) -> AttachmentMeta:
    if blob.message_id is None:
        parent = session.scalar(
            select(Blob).where(Blob.case_id == blob.case_id, Blob.kind == BlobKind.REPORT.value)
        )
        listed = (
            decode_report(decrypt_blob(store, parent, case_identity)).attachments if parent else []
        )
    else:
        parent = session.scalar(
            select(Blob).where(
                Blob.message_id == blob.message_id, Blob.kind == BlobKind.MESSAGE.value
            )
        )
        listed = (
            decode_message(decrypt_blob(store, parent, case_identity)).attachments if parent else []
        )
    index = blob.position - 1
    if 0 <= index < len(listed):
        return listed[index]
    return AttachmentMeta("attachment", "application/octet-stream", blob.size)
