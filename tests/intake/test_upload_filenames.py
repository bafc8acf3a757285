"""A file name with a raw CR/LF in a multipart header never loses the file silently.

A raw line break inside ``filename="…"`` ends the part's header line, so Werkzeug's
parser finds no filename and takes the file for a text field: today's intake then
stores the report without the file and shows a receipt. Now the whole request is
refused with a clear 400 in the reporter's language and nothing is stored - on the
no-JavaScript form, the follow-up message form and the JSON API, through real
gunicorn with raw bodies. A name that carries the line break RFC 2231-encoded
(``filename*=``) parses, and is kept with the line break cleaned out: checked by
decrypting the stored case with the installation's recovery key.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select

from app.cases.blobs import decrypt_blob
from app.cases.keys import unwrap_identity_with_keys
from app.cases.payloads import decode_report
from app.cases.pow import solve
from app.database import Database
from app.models import Blob, Case, CaseKey, Message
from app.models.vocabulary import BlobKind, KeyKind
from app.storage import BlobStore
from config import Settings
from crypto import Identity, decrypt_bytes
from tests.factories import make_reviewer
from tests.reliability.harness import (
    Browser,
    GunicornServer,
    api_report_parts,
    assert_store_consistent,
    case_count,
    count_rows,
    hidden_fields_in,
    report_answers,
)

CRLF_NAME = "biên bản\r\nhọp.pdf"
CLEAN_NAME = "biên bản họp.pdf"
VI_REFUSAL = "Không đọc được tên của một tệp đính kèm"
EN_REFUSAL = "The name of an attached file could not be read"
CONTENT = "%PDF-1.4 Biên bản cuộc họp ngày 3/4 - Ủy ban phường".encode() * 50


def multipart(
    fields: dict[str, str], files: list[tuple[str, str, bytes]], *, rfc2231: bool = False
) -> tuple[bytes, str]:
    """A multipart body written byte by byte, raw CR/LF in names included (a
    browser would have escaped them as %0D%0A)."""
    boundary = "----lc" + secrets.token_hex(8)
    out = b""
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    for name, filename, content in files:
        if rfc2231:
            param = f"filename*=UTF-8''{quote(filename, safe='')}"
        else:
            param = f'filename="{filename}"'
        out += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; {param}\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def post(browser: Browser, path: str, body: tuple[bytes, str], **headers: str) -> tuple[int, str]:
    reply = browser.request("POST", path, body[0], {"Content-Type": body[1], **headers})
    return reply.status, reply.text


def recovery_report(
    database: Database, settings: Settings, recovery: Identity
) -> tuple[list[str], list[bytes]]:
    """The one stored case, read as the offline recovery key holder would: names listed
    in the report, and the attachments' plaintext."""
    store = BlobStore(settings.blob_path)
    with database.read_session() as db:
        case = db.scalars(select(Case)).one()
        wrap = db.scalars(
            select(CaseKey.wrap).where(
                CaseKey.case_id == case.id, CaseKey.kind == KeyKind.CASE.value
            )
        ).one()
        key = unwrap_identity_with_keys(wrap, [recovery])
        blobs = db.scalars(
            select(Blob)
            .where(Blob.case_id == case.id, Blob.message_id.is_(None))
            .order_by(Blob.position)
        ).all()
        report = next(b for b in blobs if b.kind == BlobKind.REPORT.value)
        names = [a.name for a in decode_report(decrypt_blob(store, report, key)).attachments]
        files = [
            decrypt_bytes(store.read(b.storage_key), [key])
            for b in blobs
            if b.kind == BlobKind.ATTACHMENT.value
        ]
    return names, files


@pytest.mark.slow
def test_no_javascript_report_with_crlf_file_name(
    env: dict[str, str],
    database: Database,
    settings: Settings,
    recovery_identity: Identity,
    tmp_path: Path,
) -> None:
    make_reviewer(database, "intake")
    with GunicornServer(env, tmp_path / "gunicorn.log", workers=1) as server:
        browser = Browser(server.port)
        hidden = browser.hidden_fields("/report")
        status, page = post(
            browser,
            "/report",
            multipart({**hidden, **report_answers()}, [("attachments", CRLF_NAME, CONTENT)]),  # type: ignore[dict-item]
        )
        assert status == 400, page[:500]
        assert VI_REFUSAL in page
        assert 'id="receipt-code"' not in page
        assert case_count(database) == 0
        assert_store_consistent(database, settings)
        assert count_rows(database, Blob) == 0

        # English when chosen.
        browser.request("GET", "/report?lang=en")
        hidden = browser.hidden_fields("/report")
        status, page = post(
            browser,
            "/report",
            multipart({**hidden, **report_answers()}, [("attachments", CRLF_NAME, CONTENT)]),  # type: ignore[dict-item]
        )
        assert status == 400 and EN_REFUSAL in page, page[page.find("<main") :][:800]

        # The same line break, RFC 2231-encoded: the file is kept, its name cleaned.
        hidden = browser.hidden_fields("/report")
        status, page = post(
            browser,
            "/report",
            multipart(
                {**hidden, **report_answers()},  # type: ignore[dict-item]
                [("attachments", CRLF_NAME, CONTENT)],
                rfc2231=True,
            ),
        )
        assert status == 200 and 'id="receipt-code"' in page, page[:500]
    assert recovery_report(database, settings, recovery_identity) == ([CLEAN_NAME], [CONTENT])
    assert_store_consistent(database, settings)


@pytest.mark.slow
def test_followup_message_with_crlf_file_name(
    env: dict[str, str],
    database: Database,
    settings: Settings,
    recovery_identity: Identity,
    tmp_path: Path,
) -> None:
    make_reviewer(database, "intake")
    with GunicornServer(env, tmp_path / "gunicorn.log", workers=1) as server:
        browser = Browser(server.port)
        receipt = browser.submit_report(report_answers()).receipt()
        assert receipt is not None
        page = browser.open_case(receipt)
        assert page.status == 200
        token = hidden_fields_in(page.text)["csrf_token"]
        status, text = post(
            browser,
            "/followup/message",
            multipart(
                {"csrf_token": token, "body": "Tôi gửi thêm biên bản họp."},
                [("attachments", CRLF_NAME, CONTENT)],
            ),
        )
        assert status == 400, text[:500]
        assert VI_REFUSAL in text
        assert count_rows(database, Message) == 0
        assert count_rows(database, Blob) == 1  # the report only
        assert_store_consistent(database, settings)


@pytest.mark.slow
def test_api_report_with_crlf_file_name(
    env: dict[str, str], database: Database, settings: Settings, tmp_path: Path
) -> None:
    make_reviewer(database, "intake")
    with GunicornServer(env, tmp_path / "gunicorn.log", workers=1) as server:
        browser = Browser(server.port)
        token = browser.hidden_fields("/report")["csrf_token"]
        info = json.loads(browser.request("GET", "/api/v1/submission").body)
        pow_ = info["pow"]
        answer = solve(pow_["challenge"], pow_["difficulty"])
        reply = browser.request(
            "POST",
            "/api/v1/tickets",
            json.dumps({"pow_challenge": pow_["challenge"], "pow_nonce": answer}).encode(),
            {"Content-Type": "application/json", "X-CSRFToken": token},
        )
        assert reply.status == 201, reply.text
        parts = api_report_parts(info, json.loads(reply.body), [CONTENT])
        fields = {k: v for k, v in parts.items() if isinstance(v, str)}
        files = [
            ("report", "report.age", parts["report"]),
            ("attachment", CRLF_NAME, parts["attachment"][0]),
            ("case_key_wrap", "case.age", parts["case_key_wrap"]),
            ("staff_key_wrap", "staff.age", parts["staff_key_wrap"]),
        ]
        status, text = post(
            browser, "/api/v1/reports", multipart(fields, files), **{"X-CSRFToken": token}
        )
        assert status == 400, text
        body = json.loads(text)
        assert body["error"] == "unreadable_file_name"
        assert VI_REFUSAL in body["message"]
        assert case_count(database) == 0
        assert count_rows(database, Blob) == 0
        assert_store_consistent(database, settings)
