"""Switching language never loses what the page holds; the receipt cannot be lost.

With JavaScript (headless Chromium): a half-filled form with Vietnamese text and a file
named "biên bản họp.pdf" is switched to English - the answers and the file are still
there, and nothing of the form left the browser (request capture, with the
no-JavaScript switch as the positive control). After sending, the receipt survives a
switch too; copy and print work; "continue" waits for "I have written down my code";
leaving before that asks the browser to confirm.

Without JavaScript: the form's own language button re-renders it filled in (files must
be attached again), and the receipt page's buttons post the code back.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Dialog, FilePayload, Page, expect
from sqlalchemy import func, select

from app.database import Database
from app.models import Blob, Case
from app.models.vocabulary import BlobKind
from config import Settings
from tests.browser.conftest import (
    RECEIPT,
    BrowserSession,
    LiveIntake,
    found_in,
)
from tests.conftest import CsrfClient
from tests.factories import make_reviewer

pytestmark = pytest.mark.browser

OpenSession = Callable[..., BrowserSession]

SUMMARY = "Chủ tịch UBND phường Hưng Lợi nhận phong bì LANG-JS-CANARY-7d2"
DETAILS = "Đoàn kiểm tra được ông Đặng Văn Ủy đưa đi ăn uống; quà tặng trị giá 30 triệu đồng."
FILE_NAME = "biên bản họp.pdf"
# 70000 and 71000 bytes are in the same PADMÉ bucket (both stored as 71680 padded bytes).
FILE_BYTES = (b"%PDF-1.4 bien ban hop LANG-JS-FILE-CANARY " * 2000)[:70_000]
PHOTO_NAME = "ảnh hiện trường.jpg"
PHOTO_BYTES = (b"\xff\xd8 anh chup hien truong " * 3000)[:71_000]
CANARIES = {
    "summary": b"LANG-JS-CANARY-7d2",
    "details": "Đặng Văn Ủy".encode(),
    "file": b"LANG-JS-FILE-CANARY",
    "filename": FILE_NAME.encode(),
}


def fill_half(page: Page) -> None:
    """What a reporter typed before wanting English: two answers, a choice, two files."""
    page.select_option("#q-category", "corruption")
    page.fill("#q-summary", SUMMARY)
    page.fill("#q-details", DETAILS)
    files: list[FilePayload] = [
        {"name": FILE_NAME, "mimeType": "application/pdf", "buffer": FILE_BYTES},
        {"name": PHOTO_NAME, "mimeType": "image/jpeg", "buffer": PHOTO_BYTES},
    ]
    page.set_input_files("#attachments", files=files)


def chosen_files(page: Page) -> list[list[object]]:
    return page.eval_on_selector(
        "#attachments", "el => Array.from(el.files, (f) => [f.name, f.size, f.type])"
    )


def first_bytes_of_file(page: Page, index: int) -> str:
    return page.eval_on_selector(
        "#attachments", f"async (el) => (await el.files[{index}].slice(0, 42).text())"
    )


def is_background_preparation(url_or_path: str) -> bool:
    """The challenge and ticket the page prepares on its own while the reporter types, and
    the hidden-information worker and its texts it loads once files are picked (issue 15:
    GETs of a static script and of /scrub-texts/<lang>.json, no body; the English texts
    load when the files moved over are listed again)."""
    background = (
        "/api/v1/challenge",
        "/api/v1/tickets",
        "/static/js/scrub-worker.js",
        "/scrub-texts/",
    )
    return any(p in url_or_path for p in background)


def count(database: Database, model: type) -> int:
    with database.read_session() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_javascript_language_switch_keeps_answers_files_and_receipt(
    open_session: OpenSession,
    live_intake: LiveIntake,
    database: Database,
    settings: Settings,
    intake_app: Flask,
) -> None:
    make_reviewer(database, "intake")
    session = open_session()
    page = session.page
    page.goto("/report")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    fill_half(page)
    before = len(session.traffic.requests)
    received_before = len(live_intake.recorder.received)

    page.click("nav.lang a[lang=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main h1:visible")).to_have_text("Send a report")
    expect(page.locator("label[for=q-summary]")).to_have_text("Summary *")
    assert page.input_value("#q-summary") == SUMMARY
    assert page.input_value("#q-details") == DETAILS
    assert page.input_value("#q-category") == "corruption"
    assert chosen_files(page) == [
        [FILE_NAME, len(FILE_BYTES), "application/pdf"],
        [PHOTO_NAME, len(PHOTO_BYTES), "image/jpeg"],
    ]
    assert first_bytes_of_file(page, 0) == FILE_BYTES[:42].decode()
    expect(page.locator("#files-dropped")).to_have_count(0)  # nothing was lost

    # What left the browser for the switch: one GET of the empty English page, no body.
    # The proof of work keeps running in its worker while the reporter reads and types
    # (issue 16), so a challenge or ticket request may land in this window whenever the
    # work happens to finish; those carry no form content (the canary checks below cover
    # every body) and are not part of the switch.
    everything_sent = session.traffic.requests[before:]
    sent = [r for r in everything_sent if not is_background_preparation(r.url)]
    assert [(r.method, r.url.removeprefix(live_intake.url)) for r in sent] == [
        ("GET", "/report?lang=en")
    ]
    assert all(r.body in (None, b"") for r in sent)
    received = [
        r
        for r in live_intake.recorder.received[received_before:]
        if not is_background_preparation(r.path)
    ]
    assert [(r.method, r.path, r.body) for r in received] == [("GET", "/report", b"")]
    assert found_in([r.url.encode() for r in everything_sent], CANARIES) == set()
    assert found_in([r.body or b"" for r in everything_sent], CANARIES) == set()

    # Finish the form in English and send it: the JavaScript path, as before the switch.
    page.select_option("#q-sector", "health")
    page.click("#report-form button[type=submit]")
    expect(page.locator("#receipt-view")).to_be_visible(timeout=30_000)
    expect(page.locator("#receipt-code")).to_have_text(re.compile(RECEIPT))
    receipt = page.inner_text("#receipt-code").strip()
    expect(page.locator("#receipt-view h1")).to_have_text("Your report has been stored")
    assert found_in(session.traffic.bodies(), CANARIES) == set()
    assert found_in([r.body for r in live_intake.recorder.received], CANARIES) == set()

    # Switching language on the receipt keeps the receipt.
    page.check("#receipt-written")
    page.click("nav.lang a[lang=vi]")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("#receipt-view")).to_be_visible()
    expect(page.locator("#receipt-view h1")).to_have_text("Phản ánh của bạn đã được lưu")
    expect(page.locator("main h1:visible")).to_have_text("Phản ánh của bạn đã được lưu")  # alone
    expect(page.locator("#receipt-code")).to_have_text(receipt)
    expect(page.locator("#report-form")).to_be_hidden()
    expect(page.locator("#receipt-written")).to_be_checked()
    expect(page.locator("#receipt-continue")).to_be_enabled()
    # The receipt never went to the server (it came from it, in the ticket's answer).
    digits = receipt.replace(" ", "").encode()
    everything = [*session.traffic.bodies(), *(r.url.encode() for r in session.traffic.requests)]
    assert not [b for b in everything if digits in b.replace(b" ", b"").replace(b"%20", b"")]

    # Stored: padded files of one bucket look alike; downloads give back the exact bytes.
    with database.read_session() as db:
        files = db.scalars(
            select(Blob).where(Blob.kind == BlobKind.ATTACHMENT.value).order_by(Blob.position)
        ).all()
    assert count(database, Case) == 1 and len(files) == 2
    assert files[0].size == files[1].size
    sizes = {(settings.blob_path / b.storage_key).stat().st_size for b in files}
    assert sizes == {files[0].size}
    intake_app.test_client_class = CsrfClient
    client = intake_app.test_client()
    assert isinstance(client, CsrfClient)
    assert client.submit("/followup", {"receipt": receipt}).status_code == 303
    assert client.get(f"/followup/attachments/{files[0].id}").data == FILE_BYTES
    assert client.get(f"/followup/attachments/{files[1].id}").data == PHOTO_BYTES


def test_receipt_copy_print_continue_and_leave_warning(
    open_session: OpenSession, live_intake: LiveIntake, database: Database
) -> None:
    make_reviewer(database, "intake")
    session = open_session()
    session.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_intake.url)
    page = session.page
    page.goto("/report")
    page.select_option("#q-category", "waste")
    page.select_option("#q-sector", "education")
    page.fill("#q-summary", "Trường tiểu học mua bàn ghế giá gấp đôi")
    page.fill("#q-details", "Hiệu trưởng ký hợp đồng với công ty của em rể.")
    page.click("#report-form button[type=submit]")
    expect(page.locator("#receipt-code")).to_have_text(re.compile(RECEIPT), timeout=30_000)
    receipt = page.inner_text("#receipt-code").strip()

    # Continue waits for the box.
    expect(page.locator("#receipt-continue")).to_be_disabled()
    expect(page.locator("#receipt-written")).not_to_be_checked()
    expect(page.get_by_label("Tôi đã ghi lại mã của mình")).to_be_visible()

    # Copy: the code lands in the clipboard (read back on a same-origin page that is not
    # under the intake's Permissions-Policy, which forbids reading the clipboard).
    page.click("#receipt-copy")
    expect(page.locator("#receipt-tools-status")).to_contain_text("Đã sao chép mã")
    reader = session.context.new_page()
    reader.route(
        live_intake.url + "/clipboard-probe",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<p>probe</p>"),
    )
    reader.goto(live_intake.url + "/clipboard-probe")
    assert reader.evaluate("navigator.clipboard.readText()") == receipt
    reader.close()

    # Print: the button prints, and on paper only the code and its instructions remain.
    # (The statement ends with a number: Playwright would call a function it evaluates to.)
    page.evaluate("window.__printed = 0; window.print = () => { window.__printed += 1; }; 0")
    page.click("#receipt-print")
    assert page.evaluate("window.__printed") == 1
    page.emulate_media(media="print")
    expect(page.locator("#receipt-code")).to_be_visible()
    expect(page.locator("#receipt-view h1")).to_be_visible()
    expect(page.locator("#receipt-view p", has_text="Ai có mã này")).to_be_visible()
    for hidden in (
        "header.site-header",
        "#report-form",
        ".notice",
        "#receipt-tools",
        "#receipt-continue",
    ):
        expect(page.locator(hidden)).to_be_hidden()
    page.emulate_media(media="screen")
    expect(page.locator("header.site-header")).to_be_visible()

    # Leaving before ticking the box asks the browser to confirm; after, it does not.
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.close(run_before_unload=True)
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert not page.is_closed()
    page.check("#receipt-written")
    expect(page.locator("#receipt-continue")).to_be_enabled()
    page.click("#receipt-continue")
    page.wait_for_url("**/followup")
    assert dialogs == ["beforeunload"]  # no second warning once the code is written down


def test_no_javascript_switch_keeps_answers_asks_for_files_and_keeps_the_receipt(
    open_session: OpenSession, live_intake: LiveIntake, database: Database, settings: Settings
) -> None:
    """Also the positive control of the request capture above: this switch does send the
    form, so the capture sees the plaintext when it is there."""
    make_reviewer(database, "intake")
    session = open_session(javascript=False)
    page = session.page
    page.goto("/report")
    fill_half(page)
    page.click("nav.lang a[lang=en]")  # leads to the form's own language button
    assert page.url.endswith("/report#switch-language")
    page.click("#switch-language button[value=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.input_value("#q-summary") == SUMMARY
    assert page.input_value("#q-details") == DETAILS
    expect(page.locator("#files-dropped")).to_contain_text("attach your files again")
    expect(page.locator("#files-dropped li")).to_have_text([FILE_NAME, PHOTO_NAME])
    assert chosen_files(page) == []

    posted = session.traffic.posts("/report/language")
    assert len(posted) == 1 and posted[0].body is not None
    assert found_in([posted[0].body], CANARIES) == set(CANARIES)  # the capture sees it
    assert count(database, Case) == 0 and count(database, Blob) == 0
    assert [p for p in settings.blob_path.rglob("*") if p.is_file()] == []

    # Send without JavaScript, then switch the receipt page to Vietnamese.
    page.select_option("#q-sector", "health")
    page.click("#report-form button[type=submit]")
    expect(page.locator("#receipt-code")).to_have_text(re.compile(RECEIPT))
    receipt = page.inner_text("#receipt-code").strip()
    expect(page.locator("#receipt-copy")).to_be_hidden()  # copy and print need JavaScript
    page.click("nav.lang button[lang=vi]")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("#receipt-code")).to_have_text(receipt)
    assert all(
        receipt.replace(" ", "") not in u.replace(" ", "").replace("%20", "")
        for u in session.traffic.urls
    )

    # Continue without the box: the browser refuses; the server would too (tested there).
    posts = len(session.traffic.posts())
    page.click("#receipt-continue")
    expect(page.locator("#receipt-code")).to_have_text(receipt)
    assert len(session.traffic.posts()) == posts
    page.check("#receipt-written")
    page.click("#receipt-continue")
    page.wait_for_url("**/followup")
