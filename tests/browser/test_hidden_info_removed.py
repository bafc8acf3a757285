"""Hidden information is shown and removed in the browser before encryption (issue 15).

Headless Chromium picks four real files: a photo with GPS position and camera (Pillow),
a DOCX whose author is "Trần Thị Ưng" (python-docx), the same DOCX again with its box
unticked (the positive control: kept as it is, its author still readable by the same
reader), and a file the reporter cancels while the report is being sent. The stored
files, decrypted through the reporter's follow-up download, have lost what the page
said they carried; the cancelled file was never stored and the rest was sent.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from docx import Document
from flask import Flask
from PIL import Image
from playwright.sync_api import FilePayload, Route, expect
from sqlalchemy import select

from app.database import Database
from app.models import Blob
from app.models.vocabulary import BlobKind
from tests.browser.conftest import RECEIPT, BrowserSession, Canaries, LiveIntake, fill_report
from tests.conftest import CsrfClient
from tests.factories import make_reviewer
from tests.factories.hidden_info import COMMENT_AUTHOR, docx_with_author, jpeg_with_metadata

pytestmark = pytest.mark.browser

OpenSession = Callable[..., BrowserSession]

AUTHOR = "Trần Thị Ưng"
PHOTO = "ảnh hiện trường.jpg"
MINUTES = "biên bản họp.docx"
ORIGINAL = "biên bản gốc.docx"
CANCELLED = "ghi âm cuộc họp.bin"
GPS_IFD = 0x8825


def payload(name: str, mime: str, data: bytes) -> FilePayload:
    return {"name": name, "mimeType": mime, "buffer": data}


def test_hidden_information_is_removed_unless_unticked_and_a_file_can_be_cancelled(
    open_session: OpenSession, live_intake: LiveIntake, database: Database, intake_app: Flask
) -> None:
    make_reviewer(database, "intake")
    photo, document = jpeg_with_metadata(), docx_with_author(AUTHOR)
    docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    session = open_session()
    page = session.page
    page.goto("/report")
    # The scrubber is not part of the page: it loads when a file is picked.
    assert not [u for u in session.traffic.urls if "scrub" in u]
    fill_report(page, Canaries.new(), attach=False)
    page.set_input_files(
        "#attachments",
        files=[
            payload(PHOTO, "image/jpeg", photo),
            payload(MINUTES, docx_type, document),
            payload(ORIGINAL, docx_type, document),
            payload(CANCELLED, "application/octet-stream", b"\x00ghi am " * 40_000),
        ],
    )
    items = page.locator("#report-form-files > li")
    expect(items).to_have_count(4)
    # What each file carries is shown (Vietnamese by default).
    expect(items.nth(0)).to_contain_text("Vị trí GPS: 10.03417, 105.78333")
    expect(items.nth(0)).to_contain_text("Máy ảnh")
    expect(items.nth(1)).to_contain_text(f"Tác giả: {AUTHOR}")
    expect(items.nth(1)).to_contain_text(f"Người đã ghi chú hoặc chỉnh sửa: {COMMENT_AUTHOR}")
    expect(items.nth(3)).to_contain_text("không được kiểm tra thông tin ẩn")
    assert [u for u in session.traffic.urls if u.endswith("/static/js/scrub-worker.js")]
    for i in range(3):
        expect(items.nth(i).get_by_role("checkbox")).to_be_checked()
    items.nth(2).get_by_role("checkbox").uncheck()

    # The first upload is held: the reporter cancels the fourth file meanwhile.
    held: list[Route] = []

    def hold_first(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route("**/api/v1/reports", hold_first)
    page.click("#report-form button[type=submit]")
    expect(items.nth(3).locator("progress")).to_be_visible(timeout=30_000)
    for _ in range(300):  # the upload starts once all four are encrypted
        if held:
            break
        page.wait_for_timeout(100)
    assert len(held) == 1
    items.nth(3).get_by_role("button").click()
    expect(page.locator("#receipt-code")).to_have_text(re.compile(RECEIPT), timeout=30_000)
    receipt = page.inner_text("#receipt-code").strip()
    assert len(live_intake.recorder.bodies("POST", "/api/v1/reports")) == 1

    with database.read_session() as db:
        ids = db.scalars(
            select(Blob.id).where(Blob.kind == BlobKind.ATTACHMENT.value).order_by(Blob.position)
        ).all()
    assert len(ids) == 3  # the cancelled file was not stored
    intake_app.test_client_class = CsrfClient
    client = intake_app.test_client()
    assert isinstance(client, CsrfClient)
    assert client.submit("/followup", {"receipt": receipt}).status_code == 303
    case_page = client.get("/followup/case").get_data(as_text=True)
    assert PHOTO in case_page and MINUTES in case_page and CANCELLED not in case_page
    stored = [client.get(f"/followup/attachments/{blob_id}").data for blob_id in ids]

    cleaned_photo = Image.open(io.BytesIO(stored[0]))
    assert cleaned_photo.size == (32, 16)
    assert not cleaned_photo.getexif().get_ifd(GPS_IFD)
    assert dict(cleaned_photo.getexif()) == {0x0112: 6}  # the orientation stays
    minutes = Document(io.BytesIO(stored[1]))
    assert minutes.core_properties.author == "" and minutes.core_properties.last_modified_by == ""
    assert minutes.paragraphs[0].text == "Biên bản họp ngày 15/9"
    assert [(c.author, c.initials) for c in minutes.comments] == [("", "")]
    # Positive control: unticked, the same file keeps its author for the same reader.
    assert stored[2] == document
    original = Document(io.BytesIO(stored[2]))
    assert original.core_properties.author == AUTHOR
    assert [c.author for c in original.comments] == [COMMENT_AUTHOR]
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(GPS_IFD)
