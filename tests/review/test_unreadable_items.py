"""A reporter-side upload that is well-formed age but does not decrypt or parse is shown
as unreadable on both case pages; everything else in the case is shown as usual.

The JSON API accepts any well-formed age file (the server cannot check what the
browser encrypted): here a report whose payload is not our JSON, and a follow-up
message encrypted to some other key.
"""

from __future__ import annotations

import io

from sqlalchemy import select

from app.database import Database
from app.models import Blob
from app.models.vocabulary import BlobKind
from crypto import Identity, Recipient, encrypt_bytes
from tests.conftest import CsrfClient
from tests.reliability.harness import (
    api_report_parts,
    api_ticket,
    for_test_client,
    solved_challenge,
)
from tests.review.conftest import StaffFactory

GOOD_MESSAGE = "Tôi gửi thêm biên bản họp của Ủy ban phường."
FILE_CONTENT = b"%PDF-1.4 bien ban hop " * 100


def _broken_case(intake_client: CsrfClient) -> str:
    """A case sent by a 'browser' whose report payload is not JSON, then a good message
    (no-JavaScript form) and one encrypted to another key (JSON API). Returns the
    receipt."""
    token = intake_client.csrf_token("/report")
    info, ticket = api_ticket(intake_client, token)
    parts = api_report_parts(info, ticket, [FILE_CONTENT])
    case_recipient = Recipient.parse(parts["case_recipient"])
    parts["report"] = encrypt_bytes(b'{"version": 1, "answers": ', [case_recipient])
    stored = intake_client.post(
        "/api/v1/reports",
        data=for_test_client(parts),
        content_type="multipart/form-data",
        headers={"X-CSRFToken": token},
    )
    assert stored.status_code == 201, stored.get_json()
    receipt: str = ticket["receipt"]
    opened = intake_client.submit("/followup", {"receipt": receipt})
    assert opened.status_code == 303
    sent = intake_client.submit(
        "/followup/case", {"body": GOOD_MESSAGE}, action="/followup/message"
    )
    assert sent.status_code == 303
    stranger = Identity.generate().recipient
    bad = intake_client.post(
        "/api/v1/followup/messages",
        data={
            "message": (io.BytesIO(encrypt_bytes(b"secret", [stranger])), "message.age"),
            **solved_challenge(intake_client),
        },
        content_type="multipart/form-data",
        headers={"X-CSRFToken": token},
    )
    assert bad.status_code == 201, bad.get_json()
    return receipt


def test_unreadable_items_on_the_reporter_page(
    intake_client: CsrfClient, staff: StaffFactory
) -> None:
    staff("hana", "intake")
    _broken_case(intake_client)
    page = intake_client.get("/followup/case")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Không hiển thị được phản ánh của bạn ở đây vì không đọc được" in html
    assert "Không đọc được tin nhắn này." in html
    assert GOOD_MESSAGE in html
    assert "/followup/attachments/" in html  # the file is still listed
    # Both are there. (Where the unreadable one belongs in the thread is inside its own
    # ciphertext, app.cases.thread: it is shown at the start of its day.)


def test_unreadable_items_on_the_reviewer_page(
    intake_client: CsrfClient, staff: StaffFactory, database: Database
) -> None:
    hana = staff("hana", "intake")
    _broken_case(intake_client)
    with database.read_session() as db:
        case_id, blob_id = db.execute(
            select(Blob.case_id, Blob.id).where(
                Blob.kind == BlobKind.ATTACHMENT.value, Blob.message_id.is_(None)
            )
        ).one()
    page = hana.client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "This report cannot be read" in html
    assert "This message cannot be read" in html
    assert GOOD_MESSAGE in html
    # The report's file is listed without its name (the report held it) and still opens.
    download = hana.client.get(f"/cases/{case_id}/attachments/{blob_id}")
    assert download.status_code == 200
    assert download.data == FILE_CONTENT
    assert "filename*=UTF-8''attachment" in download.headers["Content-Disposition"]
