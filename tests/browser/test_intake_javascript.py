"""The JavaScript path end to end: the browser encrypts, the server only stores ciphertext.

Plaintext markers (canaries) are typed into the form, put inside an attached file and
its name, and written in a follow-up message. They must come back decrypted on the
reporter's case page and in the reviewer's decryption, and appear nowhere in between:
not in any request body, not in the database file, not in the blob store.

Request bodies are captured twice - in the browser (Playwright's route) and at the
server (a WSGI middleware) - and compared; the no-JavaScript form post is the positive
control showing the capture does see plaintext when plaintext is sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Route, expect
from sqlalchemy import func, select

from app.cases.keys import unwrap_identity_with_keys
from app.database import Database
from app.models import Blob, Case, CaseKey, Message
from app.models.vocabulary import BlobKind, KeyKind
from config import Settings
from crypto import decrypt_bytes, padme_length
from tests.browser.conftest import (
    RECEIPT,
    REPORT_ANSWERS,
    BrowserSession,
    Canaries,
    LiveIntake,
    fill_report,
    found_in,
    stored_files,
)
from tests.factories import make_reviewer

pytestmark = pytest.mark.browser

OpenSession = Callable[..., BrowserSession]


def _count(database: Database, model: type) -> int:
    with database.read_session() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def _check_api_post(
    session: BrowserSession, live: LiveIntake, path: str, part_names: list[str]
) -> bytes:
    """The one POST to ``path``: its body as the browser sent it, proven complete."""
    sent = session.traffic.posts(path)
    assert len(sent) == 1, [r.url for r in session.traffic.posts()]
    body = sent[0].body
    assert body is not None, f"Playwright did not expose the body of POST {path}"
    assert sent[0].headers["content-type"].startswith("multipart/form-data; boundary=")
    for name in part_names:
        assert f'name="{name}"'.encode() in body, name
    assert b"age-encryption.org/v1" in body
    # The server received exactly these bytes: the checked body is the real one.
    received = live.recorder.bodies("POST", path)
    assert [r.body for r in received] == [body]
    return body


def test_report_is_encrypted_in_the_browser_and_reads_back(
    open_session: OpenSession,
    live_intake: LiveIntake,
    database: Database,
    settings: Settings,
) -> None:
    reviewer = make_reviewer(database, "intake")
    canaries = Canaries.new()
    attachment = canaries.attachment_bytes()
    session = open_session()
    page = session.page

    page.goto("/report")
    fill_report(page, canaries)
    page.click("#report-form button[type=submit]")
    expect(page.locator("#receipt-view")).to_be_visible(timeout=30_000)
    expect(page.locator("#receipt-code")).to_have_text(re.compile(RECEIPT))
    receipt = page.inner_text("#receipt-code").strip()
    expect(page.locator("#report-form")).to_be_hidden()
    assert page.locator("#q-details").input_value() == ""  # plaintext dropped from the page

    # What left the browser: one multipart POST of ciphertext, checked as the server got it.
    report_body = _check_api_post(
        session,
        live_intake,
        "/api/v1/reports",
        ["ticket", "category", "sector", "report", "case_key_wrap", "staff_key_wrap", "attachment"],
    )
    assert len(report_body) > len(attachment)  # the encrypted attachment is in there
    assert b'filename="attachment-0.age"' in report_body
    assert [r.url.rsplit("/api/v1", 1)[-1] for r in session.traffic.posts()] == [
        "/tickets",
        "/reports",
    ]

    # Follow up with the receipt: the server decrypts for display only.
    page.goto("/followup")
    page.fill("#receipt", receipt)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/followup/case")
    answers = page.locator("dl.answers")
    expect(answers).to_contain_text(canaries.details)
    expect(answers).to_contain_text(REPORT_ANSWERS["summary"])
    expect(page.get_by_role("link", name=canaries.filename)).to_be_visible()

    # A message through the JavaScript form: encrypted, sent, shown after the reload.
    page.fill("#body", f"Tôi có thêm hóa đơn. {canaries.message}")
    page.click("#message-form button[type=submit]")
    expect(page.locator("ol.thread li.from-reporter")).to_contain_text(canaries.message)
    message_body = _check_api_post(session, live_intake, "/api/v1/followup/messages", ["message"])
    assert not found_in([message_body], canaries.all())

    # No plaintext in any request, as the browser sent it or as the server received it.
    browser_bodies = list(session.traffic.bodies())
    server_bodies = [r.body for r in live_intake.recorder.received]
    assert found_in(browser_bodies, canaries.all()) == set()
    assert found_in(server_bodies, canaries.all()) == set()
    urls = [u.encode() for u in session.traffic.urls]
    assert found_in(urls, canaries.all()) == set()
    # The receipt went to the server once, when the follow-up page's script opened the
    # case (JSON, with its proof of work), never before and never in a URL.
    assert [r.path for r in live_intake.recorder.bodies() if receipt.encode() in r.body] == [
        "/api/v1/followup/open"
    ]
    assert not [u for u in session.traffic.urls if receipt.replace(" ", "") in u.replace(" ", "")]

    # Nothing was loaded from another origin.
    assert session.traffic.urls
    foreign = [u for u in session.traffic.urls if not u.startswith(live_intake.url + "/")]
    assert foreign == []
    assert {r.url for r in session.traffic.requests} <= set(session.traffic.urls)

    # The database: one case as chosen, ciphertext only.
    with database.read_session() as db:
        case = db.scalars(select(Case)).one()
        wraps = {k.kind: k.wrap for k in db.scalars(select(CaseKey))}
        blobs = db.scalars(select(Blob).order_by(Blob.created_day, Blob.position)).all()
        messages = db.scalars(select(Message)).all()
    assert (case.category, case.sector) == (REPORT_ANSWERS["category"], REPORT_ANSWERS["sector"])
    assert len(messages) == 1
    kinds = sorted(b.kind for b in blobs)
    assert kinds == sorted([BlobKind.REPORT, BlobKind.ATTACHMENT, BlobKind.MESSAGE])

    files = stored_files(settings)
    assert found_in(files.values(), canaries.all()) == set()
    # Positive control of the file scan: it does read what the database holds in clear.
    sqlite_files = [p for p in files if p.name.startswith("liemchinh.sqlite3")]
    assert found_in([files[p] for p in sqlite_files], {"ref": case.reference.encode()})
    blob_files = [files[(settings.blob_path / b.storage_key).resolve()] for b in blobs]
    assert all(data.startswith(b"age-encryption.org/v1\n") for data in blob_files)

    # The intake reviewer opens the case key and reads what the reporter wrote.
    case_identity = unwrap_identity_with_keys(wraps[KeyKind.CASE], [reviewer.identity])
    assert str(case_identity.recipient) == case.case_recipient
    unwrap_identity_with_keys(wraps[KeyKind.STAFF], [reviewer.identity])
    by_kind = {b.kind: b for b in blobs}

    def plaintext(kind: BlobKind) -> bytes:
        data = (settings.blob_path / by_kind[kind].storage_key).read_bytes()
        return decrypt_bytes(data, [case_identity])

    report = json.loads(plaintext(BlobKind.REPORT))
    assert canaries.details in report["answers"]["details"]
    assert "contact" not in report["answers"]
    assert report["answers"]["category"] == REPORT_ANSWERS["category"]
    assert report["attachments"] == [
        {"name": canaries.filename, "type": "text/plain", "size": len(attachment)}
    ]
    # The browser padded the file with zero bytes to its PADMÉ length (assets/js/padding.js).
    padded = plaintext(BlobKind.ATTACHMENT)
    assert padded == attachment + bytes(padme_length(len(attachment)) - len(attachment))
    assert canaries.message in json.loads(plaintext(BlobKind.MESSAGE))["text"]
    # The message's place in the thread travels inside it: nothing was on the page yet.
    assert json.loads(plaintext(BlobKind.MESSAGE))["after"] is None


def test_capture_sees_plaintext_when_the_form_posts_without_javascript(
    open_session: OpenSession, live_intake: LiveIntake, database: Database, settings: Settings
) -> None:
    """Positive control: the same capture, on the no-JavaScript form post, finds the
    canaries - so finding none on the JavaScript path means something."""
    make_reviewer(database, "intake")
    canaries = Canaries.new()
    session = open_session(javascript=False)
    page = session.page
    page.goto("/report")
    fill_report(page, canaries)
    page.click("#report-form button[type=submit]")
    expect(page.locator("#receipt-code")).to_have_text(re.compile(RECEIPT))

    sent = session.traffic.posts("/report")
    assert len(sent) == 1 and sent[0].body is not None
    received = live_intake.recorder.bodies("POST", "/report")
    assert [r.body for r in received] == [sent[0].body]
    assert sent[0].headers["content-type"].startswith("multipart/form-data; boundary=")
    expected = {"details", "attachment", "filename"}
    assert found_in(session.traffic.bodies(), canaries.all()) == expected
    assert found_in([r.body for r in received], canaries.all()) == expected
    # The server encrypted while receiving: still nothing in clear on disk.
    assert _count(database, Case) == 1
    assert found_in(stored_files(settings).values(), canaries.all()) == set()


def test_refused_ticket_shows_the_error_and_keeps_the_form(
    open_session: OpenSession, live_intake: LiveIntake, database: Database, settings: Settings
) -> None:
    make_reviewer(database, "intake")
    canaries = Canaries.new()
    session = open_session()
    page = session.page

    def refuse(route: Route) -> None:
        route.fulfill(
            status=400,
            content_type="application/json",
            body=json.dumps({"error": "invalid_pow", "message": "MOCK-REFUSED"}),
        )

    page.route("**/api/v1/tickets", refuse)
    page.goto("/report")
    fill_report(page, canaries)
    typed_details = page.input_value("#q-details")
    page.click("#report-form button[type=submit]")

    failed = page.get_attribute("#report-form", "data-msg-failed")
    assert failed
    expect(page.locator("#js-status")).to_have_text(f"{failed} MOCK-REFUSED")
    expect(page.locator("#report-form")).to_be_visible()
    expect(page.locator("#report-form button[type=submit]")).to_be_enabled()
    expect(page.locator("#receipt-view")).to_be_hidden()
    assert page.input_value("#q-details") == typed_details
    assert page.input_value("#q-summary") == REPORT_ANSWERS["summary"]
    assert page.input_value("#q-category") == REPORT_ANSWERS["category"]
    assert page.eval_on_selector("#attachments", "el => el.files.length") == 1

    assert live_intake.recorder.bodies("POST", "/api/v1/reports") == []
    assert live_intake.recorder.bodies("POST", "/api/v1/tickets") == []  # never left
    assert _count(database, Case) == 0 and _count(database, Blob) == 0
    assert [p for p in settings.blob_path.rglob("*") if p.is_file()] == []
