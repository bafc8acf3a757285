"""Canary: the plaintext of a report never touches disk, logs or the database.

A random ``CANARY-<hex>`` string goes into the report's details, an attachment's name
and its content (about 2 MB: far above Werkzeug's 500 KB spooling threshold), and a
follow-up message with another such attachment. Afterwards the raw bytes of the SQLite
database (with its ``-wal`` and ``-shm`` files), every file of the instance folder and
blob store, the temp folder, everything logged at DEBUG (SQL included) and everything
written to stdout/stderr are searched for it - on the no-JavaScript path and on the
JavaScript path (emulated in Python as in test_api.py).

Temp files: Werkzeug's default stream factory spools into ``SpooledTemporaryFile`` /
``TemporaryFile``, which Linux unlinks at creation, so a directory listing would never
show them. The ``spool_dir`` fixture swaps them (and ``NamedTemporaryFile``) for files
that stay on disk in a fresh temp folder; a positive control shows that a plain Flask
app then leaves the canary there, so its absence after the intake means something.
"""

from __future__ import annotations

import base64
import io
import logging
import secrets
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import werkzeug.formparser
from flask import Flask, request
from sqlalchemy import func, select

from app.database import Database
from app.models import Blob, Case
from app.models.vocabulary import BlobKind
from config import Settings
from crypto import Recipient, encrypt_bytes
from tests.conftest import CsrfClient
from tests.factories import ReviewerKeys, open_case, receipt_from, report_answers
from tests.intake.conftest import multipart_body
from tests.intake.test_api import BrowserSession, encrypted_report

ATTACHMENT_BYTES = 2 * 1024 * 1024
_TEMP_NAMES = ("SpooledTemporaryFile", "TemporaryFile", "NamedTemporaryFile")


@pytest.fixture
def canary() -> str:
    value = f"CANARY-{secrets.token_hex(16)}"
    assert len(value) % 3 == 0  # keeps base64 needles simple (see needles())
    return value


def canary_file(canary: str, size: int = ATTACHMENT_BYTES) -> bytes:
    unit = (canary + "\n").encode()
    data = unit * (size // len(unit) + 1)
    return data[:size]


def needles(canary: str) -> list[bytes]:
    """The canary as raw bytes, and base64 windows of the canary-filled attachment at the
    three possible alignments (a copy of the file encoded as base64 would contain one)."""
    found = [canary.encode(), canary.encode("utf-16-le")]
    unit = (canary + "\n").encode()
    period = unit * 8
    for shift in range(3):
        window = period[shift : shift + 3 * len(unit)]
        found.append(base64.b64encode(window))
    return found


def files_under(*roots: Path) -> list[Path]:
    seen: set[Path] = set()
    for root in roots:
        if root.is_file():
            seen.add(root)
        elif root.is_dir():
            seen.update(p for p in root.rglob("*") if p.is_file())
    return sorted(seen)


def hits(paths: Iterable[Path], canary: str) -> list[str]:
    found: list[str] = []
    for path in paths:
        data = path.read_bytes()
        found.extend(f"{path}: {n[:20]!r}" for n in needles(canary) if n in data)
    return found


def sqlite_files(database: Database) -> list[Path]:
    name = database.engine.url.database
    assert name, "these tests read the SQLite file itself"
    main = Path(name)
    return [p for p in (main, Path(f"{main}-wal"), Path(f"{main}-shm")) if p.exists()]


@pytest.fixture
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh temp folder where every temporary file stays visible after use."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    real_named = tempfile.NamedTemporaryFile
    monkeypatch.setattr(tempfile, "tempdir", str(folder))

    def persistent(mode: str = "w+b") -> Any:
        return real_named(mode="w+b" if "b" in mode else mode, delete=False, dir=folder)

    def fake_spooled(max_size: int = 0, mode: str = "w+b", *_a: Any, **_kw: Any) -> Any:
        return persistent(mode)

    def fake_temporary(mode: str = "w+b", *_a: Any, **_kw: Any) -> Any:
        return persistent(mode)

    fakes = {
        "SpooledTemporaryFile": fake_spooled,
        "TemporaryFile": fake_temporary,
        "NamedTemporaryFile": fake_temporary,
    }
    for name in _TEMP_NAMES:
        monkeypatch.setattr(tempfile, name, fakes[name])
    patched = [name for name in _TEMP_NAMES if getattr(werkzeug.formparser, name, None)]
    assert patched, "werkzeug.formparser no longer imports a temp file class by name"
    for name in patched:
        monkeypatch.setattr(werkzeug.formparser, name, fakes[name])
    return folder


@pytest.fixture
def watched(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture every log record at DEBUG, SQL statements and parameters included."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")
    return caplog


def assert_nowhere(
    canary: str,
    *,
    database: Database,
    settings: Settings,
    spool_dir: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    db_files = sqlite_files(database)
    assert db_files and db_files[0].stat().st_size > 0
    # The scan does see what is stored in clear: the sector is a plain column.
    assert b"land_construction" in b"".join(p.read_bytes() for p in db_files) or (
        b"education" in b"".join(p.read_bytes() for p in db_files)
    )
    assert hits(db_files, canary) == []

    stored = files_under(settings.blob_path)
    assert len(stored) >= 4  # report, attachment, message, message attachment
    assert hits(stored, canary) == []
    assert hits(files_under(settings.instance_path), canary) == []

    assert hits(files_under(spool_dir), canary) == []
    assert files_under(spool_dir) == [], "the intake created temp files"

    # The capture is live: SQL is logged with its parameters.
    assert "INSERT INTO cases" in caplog.text
    logged = caplog.text + "\n".join(repr(r.args) for r in caplog.records)
    assert canary not in logged
    out, err = capfd.readouterr()
    assert canary not in out and canary not in err


def test_positive_control_default_flask_spools_plaintext_to_the_temp_folder(
    spool_dir: Path, canary: str
) -> None:
    app = Flask("control")

    @app.post("/upload")
    def upload() -> str:
        return str(len(request.files["attachments"].read()))

    body, content_type = multipart_body(
        {"details": canary, "attachments": (canary_file(canary), "evidence.pdf")}
    )
    response = app.test_client().post("/upload", data=body, content_type=content_type)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == str(ATTACHMENT_BYTES)
    assert hits(files_under(spool_dir), canary), "the default stream factory left no trace"


def test_no_javascript_path_stores_and_logs_no_plaintext(
    intake_client: CsrfClient,
    intake_reviewer: ReviewerKeys,
    database: Database,
    settings: Settings,
    spool_dir: Path,
    canary: str,
    watched: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    evidence = canary_file(canary)
    body, content_type = multipart_body(
        {
            **intake_client.hidden_fields("/report"),  # CSRF and one-time form tokens
            **report_answers(details=f"Chi tiết: {canary} — ông A nhận tiền."),
            "attachments": (evidence, f"bien-ban-{canary}.pdf"),
        }
    )
    response = intake_client.post("/report", data=body, content_type=content_type)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    receipt = receipt_from(response)
    assert open_case(intake_client, receipt).status_code == 303

    # A message with another spooled-size attachment, sent without JavaScript.
    reply = canary_file(canary, ATTACHMENT_BYTES + 12345)
    body, content_type = multipart_body(
        {
            **intake_client.hidden_fields("/followup/case"),
            "body": f"Tôi gửi thêm {canary}",
            "attachments": (reply, f"them-{canary}.pdf"),
        }
    )
    sent = intake_client.post("/followup/message", data=body, content_type=content_type)
    assert sent.status_code == 303

    # Everything was stored and reads back for the reporter: the canary is real data.
    page = intake_client.get("/followup/case").get_data(as_text=True)
    assert f"Chi tiết: {canary}" in page and f"Tôi gửi thêm {canary}" in page
    assert f"bien-ban-{canary}.pdf" in page and f"them-{canary}.pdf" in page
    with database.read_session() as db:
        attachments = db.scalars(
            select(Blob).where(Blob.kind == BlobKind.ATTACHMENT.value).order_by(Blob.size)
        ).all()
    downloads = [intake_client.get(f"/followup/attachments/{b.id}").data for b in attachments]
    assert downloads == [evidence, reply]

    assert_nowhere(
        canary,
        database=database,
        settings=settings,
        spool_dir=spool_dir,
        caplog=watched,
        capfd=capfd,
    )


def test_javascript_path_stores_and_logs_no_plaintext(
    intake_client: CsrfClient,
    intake_reviewer: ReviewerKeys,
    database: Database,
    settings: Settings,
    spool_dir: Path,
    canary: str,
    watched: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from app.cases.payloads import AttachmentMeta, encode_message

    browser = BrowserSession(intake_client, intake_client.csrf_token("/report"))
    info = browser.get_info()
    ticket = browser.ticket(info)
    evidence = canary_file(canary)
    data = encrypted_report(info, ticket, details=f"Chi tiết: {canary}", files=[evidence])
    body, content_type = multipart_body(data)
    response = intake_client.post(
        "/api/v1/reports",
        data=body,
        content_type=content_type,
        headers={"X-CSRFToken": browser.token},
    )
    assert response.status_code == 201, response.get_json()
    assert open_case(intake_client, ticket["receipt"]).status_code == 303

    with database.read_session() as db:
        case_recipient = Recipient.parse(db.scalars(select(Case.case_recipient)).one())
    reply = canary_file(canary, ATTACHMENT_BYTES + 12345)
    message = encode_message(
        f"Tôi gửi thêm {canary}",
        [AttachmentMeta(f"them-{canary}.pdf", "application/pdf", len(reply))],
    )
    body, content_type = multipart_body(
        {
            "message": (io.BytesIO(encrypt_bytes(message, [case_recipient])), "message.age"),
            "attachment": (io.BytesIO(encrypt_bytes(reply, [case_recipient])), "a.age"),
            **browser.solved_challenge(),
        }
    )
    sent = intake_client.post(
        "/api/v1/followup/messages",
        data=body,
        content_type=content_type,
        headers={"X-CSRFToken": browser.token},
    )
    assert sent.status_code == 201, sent.get_json()

    page = intake_client.get("/followup/case").get_data(as_text=True)
    assert f"Chi tiết: {canary}" in page and f"Tôi gửi thêm {canary}" in page
    with database.read_session() as db:
        assert db.scalar(select(func.count()).select_from(Blob)) == 4
        attachments = db.scalars(
            select(Blob).where(Blob.kind == BlobKind.ATTACHMENT.value).order_by(Blob.size)
        ).all()
    downloads = [intake_client.get(f"/followup/attachments/{b.id}").data for b in attachments]
    assert downloads == [evidence, reply]

    assert_nowhere(
        canary,
        database=database,
        settings=settings,
        spool_dir=spool_dir,
        caplog=watched,
        capfd=capfd,
    )
