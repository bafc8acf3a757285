"""Attachment sizes: stored padded to their PADMÉ length, downloaded at their true size.

Someone holding the original document must not be able to confirm it was submitted by
looking for a blob of its size. Files of different sizes in one PADMÉ bucket are stored
as equally long age files; the true size lives only in the encrypted metadata, and every
download (reporter, reviewer) serves exactly the original bytes.
"""

from __future__ import annotations

import io
import os
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.cases.access import load_actor
from app.cases.keys import unwrap_identity_with_keys
from app.cases.payloads import AttachmentMeta, encode_report
from app.cases.reading import open_attachment
from app.database import Database
from app.models import Blob, CaseKey
from app.models.vocabulary import BlobKind
from app.storage import BlobStore
from config import Settings, load_settings
from crypto import Identity, Recipient, decrypt_bytes, encrypt_bytes, padme_length
from tests.conftest import CsrfClient
from tests.factories import ReviewerKeys, open_case, receipt_from, send_report
from tests.intake.conftest import multipart_body
from tests.intake.test_api import BrowserSession

# 70000 and 71000 bytes both pad to 71680 (E = 16, S = 5: multiples of 2048); 75000 does not.
SAME_BUCKET = (70_000, 71_000)
OTHER_BUCKET = 75_000


def attachments(database: Database) -> list[Blob]:
    with database.read_session() as db:
        return list(
            db.scalars(
                select(Blob)
                .where(Blob.kind == BlobKind.ATTACHMENT.value)
                .order_by(Blob.message_id.nulls_first(), Blob.position)
            ).all()
        )


def reviewer_download(
    database: Database, settings: Settings, reviewer: ReviewerKeys, blob: Blob
) -> bytes:
    with database.sessionmaker() as db:
        actor = load_actor(db, reviewer.id, reviewer.identity)
        download = open_attachment(db, BlobStore(settings.blob_path), actor, blob.case_id, blob.id)
        return b"".join(download.chunks)


def test_no_javascript_attachments_in_one_bucket_are_stored_alike_and_download_exactly(
    intake_client: CsrfClient,
    intake_reviewer: ReviewerKeys,
    database: Database,
    settings: Settings,
) -> None:
    files = [
        (os.urandom(SAME_BUCKET[0]), "biên bản họp.pdf"),
        (os.urandom(SAME_BUCKET[1]), "ảnh hiện trường Ủy ban.jpg"),
        (os.urandom(OTHER_BUCKET), "hợp đồng số 12 đường Nguyễn Trãi.pdf"),
    ]
    receipt = receipt_from(send_report(intake_client, files=files))
    blobs = attachments(database)
    assert len(blobs) == 3
    on_disk = [(settings.blob_path / b.storage_key).stat().st_size for b in blobs]
    # What anyone with the database or the blob store sees: one size for the bucket.
    assert blobs[0].size == blobs[1].size == on_disk[0] == on_disk[1]
    assert blobs[2].size == on_disk[2] != blobs[0].size  # control: another bucket
    assert blobs[0].size > padme_length(SAME_BUCKET[1])  # the padding is inside the age file

    # Inside the encryption: the file, then zero bytes up to the PADMÉ length.
    with database.read_session() as db:
        wrap = db.scalars(select(CaseKey.wrap).where(CaseKey.kind == "case")).one()
    case_identity = unwrap_identity_with_keys(wrap, [intake_reviewer.identity])
    for (content, _name), blob in zip(files, blobs, strict=True):
        stored = decrypt_bytes(
            (settings.blob_path / blob.storage_key).read_bytes(), [case_identity]
        )
        assert stored == content + bytes(padme_length(len(content)) - len(content))

    # Every download serves the exact original bytes.
    assert open_case(intake_client, receipt).status_code == 303
    for (content, name), blob in zip(files, blobs, strict=True):
        download = intake_client.get(f"/followup/attachments/{blob.id}")
        assert download.status_code == 200, name
        assert download.data == content, name
        assert reviewer_download(database, settings, intake_reviewer, blob) == content
    page = intake_client.get("/followup/case").get_data(as_text=True)
    assert "biên bản họp.pdf" in page


def test_no_javascript_message_attachments_are_padded_and_download_exactly(
    intake_client: CsrfClient,
    intake_reviewer: ReviewerKeys,
    database: Database,
    settings: Settings,
) -> None:
    receipt = receipt_from(send_report(intake_client))
    assert open_case(intake_client, receipt).status_code == 303
    files = [(os.urandom(n), f"bổ sung {n}.pdf") for n in SAME_BUCKET]
    body, content_type = multipart_body(
        {
            **intake_client.hidden_fields("/followup/case"),
            "body": "Tôi gửi thêm biên bản họp của Đảng ủy phường",
            "attachments": [(content, name) for content, name in files],
        }
    )
    sent = intake_client.post("/followup/message", data=body, content_type=content_type)
    assert sent.status_code == 303
    blobs = attachments(database)
    assert [b.message_id is not None for b in blobs] == [True, True]
    assert blobs[0].size == blobs[1].size
    for (content, _name), blob in zip(files, blobs, strict=True):
        assert intake_client.get(f"/followup/attachments/{blob.id}").data == content
        assert reviewer_download(database, settings, intake_reviewer, blob) == content


def browser_report(
    info: dict[str, Any], ticket: dict[str, Any], files: list[tuple[bytes, int]]
) -> dict[str, Any]:
    """What prepareReport() sends, made in Python: each (encrypted bytes, true size)."""
    case_identity, staff_identity = Identity.generate(), Identity.generate()
    readers = [Recipient.parse(r) for r in info["recipients"]]
    metas = [
        AttachmentMeta(f"biên bản {i}.pdf", "application/pdf", n) for i, (_, n) in enumerate(files)
    ]
    report = encode_report(
        {"category": "waste", "summary": "Lãng phí", "details": "Chi tiết"}, metas
    )
    case_wrap = encrypt_bytes(
        str(case_identity).encode(), [*readers, Recipient.parse(ticket["reporter_recipient"])]
    )
    return {
        "ticket": ticket["ticket"],
        "recipients_version": info["recipients_version"],
        "category": "waste",
        "sector": "education",
        "case_recipient": str(case_identity.recipient),
        "staff_recipient": str(staff_identity.recipient),
        "report": (io.BytesIO(encrypt_bytes(report, [case_identity.recipient])), "report.age"),
        "case_key_wrap": (io.BytesIO(case_wrap), "case_key_wrap.age"),
        "staff_key_wrap": (
            io.BytesIO(encrypt_bytes(str(staff_identity).encode(), readers)),
            "staff_key_wrap.age",
        ),
        "attachment": [
            (io.BytesIO(encrypt_bytes(data, [case_identity.recipient])), f"attachment-{i}.age")
            for i, (data, _) in enumerate(files)
        ],
    }


def test_browser_padded_file_at_the_size_limit_is_accepted_and_old_unpadded_files_download_whole(
    env: dict[str, str], database: Database, intake_reviewer: ReviewerKeys
) -> None:
    from app.factory import create_intake_app

    limit = SAME_BUCKET[0]
    app: Flask = create_intake_app(
        load_settings({**env, "LIEMCHINH_MAX_FILE_BYTES": str(limit)}), database
    )
    app.test_client_class = CsrfClient
    client = app.test_client()
    assert isinstance(client, CsrfClient)
    browser = BrowserSession(client, client.csrf_token("/report"))
    info = browser.get_info()
    ticket = browser.ticket(info)
    full = os.urandom(limit)  # exactly the limit: padded by the browser to 71680 bytes
    padded = full + bytes(padme_length(limit) - limit)
    unpadded = os.urandom(1000)  # as the browser sent files before padding existed
    response = browser.post_report(
        browser_report(info, ticket, [(padded, limit), (unpadded, len(unpadded))])
    )
    assert response.status_code == 201, response.get_json()

    assert open_case(client, ticket["receipt"]).status_code == 303
    blobs = attachments(database)
    assert client.get(f"/followup/attachments/{blobs[0].id}").data == full
    assert client.get(f"/followup/attachments/{blobs[1].id}").data == unpadded
    # The stored file holds the padding; only the download cuts it.
    assert blobs[0].size > len(padded) > len(full)
