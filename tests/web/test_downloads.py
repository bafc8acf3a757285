"""Downloads of files with Vietnamese names, through real gunicorn on both apps.

gunicorn refuses header values outside Latin-1 or with control characters; the Flask
test client checks neither, so these tests run the real server. The name a browser
shows is decoded from ``filename*`` (RFC 6266/8187) with the standard library's own
RFC 2231 parser, and must be the original name (cleaned of line breaks).
"""

from __future__ import annotations

import email.message
import email.utils
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app.cases import unit_of_work
from app.cases.payloads import AttachmentMeta
from app.cases.submission import (
    CaseChoices,
    ReceiptSettings,
    ServerCaseKeys,
    UploadedAttachment,
    submit_from_server,
)
from app.database import Database
from app.models import Blob
from app.models.vocabulary import BlobKind
from app.storage import BlobStore
from app.web.downloads import ascii_fallback, content_disposition
from config import Settings, load_secrets
from tests.account_helpers import allow_next_code, code, make_account
from tests.factories import encrypted_upload
from tests.reliability.harness import Browser, GunicornServer, staff_login

# (name as the reporter's browser sent it, name the downloader must see, ASCII fallback)
FILES = [
    ("biên bản họp.pdf", "biên bản họp.pdf", "bien ban hop.pdf"),
    ('Đơn tố cáo "Ủy ban".docx', 'Đơn tố cáo "Ủy ban".docx', "Don to cao 'Uy ban'.docx"),
    ("biên bản\r\nhọp lần 2.pdf", "biên bản họp lần 2.pdf", "bien ban hop lan 2.pdf"),
]


def content_of(index: int) -> bytes:
    return f"%PDF-1.4 tài liệu số {index} ".encode() * 3000  # > one 64 KiB chunk


def browser_filename(header: str) -> str:
    """What a browser saves the download as: filename* (RFC 6266 says it wins over
    filename), decoded by the standard library's RFC 2231 parser."""
    message = email.message.Message()
    message["Content-Disposition"] = header
    params = message.get_params(header="content-disposition") or []
    extended = [v for k, v in params if k == "filename" and isinstance(v, tuple)]
    assert len(extended) == 1, header
    return email.utils.collapse_rfc2231_value(extended[0])


def fallback_filename(header: str) -> str:
    match = re.search(r'filename="([^"]*)"', header)
    assert match, header
    return match.group(1)


def test_header_is_ascii_with_utf8_name() -> None:
    for sent, shown, fallback in FILES:
        header = content_disposition(sent)
        header.encode("ascii")
        assert header.startswith("attachment; ")
        assert "\r" not in header and "\n" not in header
        assert browser_filename(header) == shown
        assert fallback_filename(header) == fallback


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("Đường Trần Hưng Đạo.jpg", "Duong Tran Hung Dao.jpg"),
        ("ảnh chụp ngày 3\\4.png", "4.png"),  # path part dropped by the cleaning
        ("báo cáo;quý 3%.xlsx", "bao cao_quy 3_.xlsx"),
        ("合同.pdf", "__.pdf"),
        ("", "file"),
    ],
)
def test_ascii_fallback(name: str, fallback: str) -> None:
    assert fallback_filename(content_disposition(name)) == fallback
    assert ascii_fallback(fallback) == fallback


def store_case_with_files(database: Database, settings: Settings) -> tuple[str, str]:
    """A case whose report lists FILES under the names a reporter's browser chose (the
    JavaScript path stores whatever name the browser put in the encrypted report)."""
    store = BlobStore(settings.blob_path)
    keys = ServerCaseKeys()
    receipts = ReceiptSettings.from_config(
        load_secrets(settings.secrets_file).receipt_salt, settings.receipt_kdf
    )
    with unit_of_work.transaction(database.sessionmaker) as db:
        receipt, stored = submit_from_server(
            db,
            store,
            receipts,
            keys=keys,
            choices=CaseChoices("corruption", "land_construction", ()),
            answers={"category": "corruption", "summary": "Biên bản họp", "details": "Chi tiết"},
            attachments=[
                UploadedAttachment(
                    encrypted_upload(store, keys.case_recipient, content_of(i)),
                    AttachmentMeta(sent, "application/pdf", len(content_of(i))),
                )
                for i, (sent, _shown, _fb) in enumerate(FILES)
            ],
            deadlines=settings.deadlines,
        )
    return stored.case_id, receipt


@pytest.fixture
def case_with_files(database: Database, settings: Settings) -> tuple[str, str]:
    return store_case_with_files(database, settings)


def _check_downloads(browser: Browser, page: str, link: re.Pattern[str]) -> None:
    reply = browser.request("GET", page)
    assert reply.status == 200, reply.text[:500]
    links = link.findall(reply.text)
    assert len(links) == len(FILES)
    for index, (href, (_sent, shown, fallback)) in enumerate(zip(links, FILES, strict=True)):
        download = browser.request("GET", href.replace("&amp;", "&"))
        assert download.status == 200, download.text[:300]
        header = download.headers["Content-Disposition"]
        assert browser_filename(header) == shown
        assert fallback_filename(header) == fallback
        assert download.body == content_of(index)


@pytest.mark.slow
def test_reporter_downloads_vietnamese_names_through_gunicorn(
    env: dict[str, str], database: Database, case_with_files: tuple[str, str], tmp_path: Path
) -> None:
    _case_id, receipt = case_with_files
    with GunicornServer(env, tmp_path / "intake.log", workers=1) as server:
        browser = Browser(server.port)
        assert browser.open_case(receipt).status == 200
        _check_downloads(
            browser, "/followup/case", re.compile(r'href="(/followup/attachments/[0-9a-f]+)"')
        )
    log = server.stop()
    assert "/followup" not in log, log
    assert "Error handling request" not in log, log


@pytest.mark.slow
def test_reviewer_downloads_vietnamese_names_through_gunicorn(
    env: dict[str, str],
    database: Database,
    settings: Settings,
    tmp_path: Path,
) -> None:
    account = make_account(database, settings, "thanhtra.an", units=("intake",))
    allow_next_code(database, account)
    case_id, _receipt = store_case_with_files(database, settings)
    with GunicornServer(env, tmp_path / "review.log", workers=1, app="wsgi:review_app") as server:
        browser = Browser(server.port)
        staff_login(browser, account.username, account.password, code(account.secret))
        _check_downloads(
            browser,
            f"/cases/{case_id}",
            re.compile(rf'href="(/cases/{case_id}/attachments/[0-9a-f]+)"'),
        )
    log = server.stop()
    assert "Error handling request" not in log, log


@pytest.mark.slow
def test_unreadable_file_gets_the_intake_page_and_no_logged_path(
    env: dict[str, str],
    database: Database,
    settings: Settings,
    case_with_files: tuple[str, str],
    tmp_path: Path,
) -> None:
    """A real failure through gunicorn: the stored file is damaged. The reporter gets the
    intake's own page in Vietnamese (English when chosen); nothing logs the path."""
    case_id, receipt = case_with_files
    with database.read_session() as db:
        keys = db.scalars(
            select(Blob.storage_key)
            .where(Blob.case_id == case_id, Blob.kind == BlobKind.ATTACHMENT.value)
            .order_by(Blob.position)
        ).all()
    (settings.blob_path / keys[0]).write_bytes(b"age-encryption.org/v1\n-> X25519 hong\n")
    with GunicornServer(env, tmp_path / "intake.log", workers=1) as server:
        browser = Browser(server.port)
        page = browser.open_case(receipt)
        links = re.findall(r'href="(/followup/attachments/[0-9a-f]+)"', page.text)
        broken = browser.request("GET", links[0])
        assert broken.status == 500
        assert "Không đọc được tệp này" in broken.text and '<html lang="vi">' in broken.text
        assert "Content-Disposition" not in broken.headers
        browser.request("GET", "/followup/case?lang=en")
        english = browser.request("GET", links[0])
        assert english.status == 500 and "This file cannot be read" in english.text
        assert browser.request("GET", links[1]).status == 200  # the others still open
    log = server.stop()
    assert "/followup" not in log and "Error handling request" not in log, log
