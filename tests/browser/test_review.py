"""The review app in headless Chromium, JavaScript off (the review app needs none):
log in with password then a TOTP code, see the case in the inbox, open it, read the
decrypted report, send a reply - and the reporter finds the reply with the receipt.

The review app is served like ``live_intake`` serves the intake: a real port, a
background thread, a fresh installation per test.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from app.database import Database
from app.models import AuditEvent, Message
from config import Settings
from tests.browser.conftest import LiveServer, Traffic, serve, stored_files
from tests.conftest import CsrfClient
from tests.factories import Account, make_account, open_case, send_case

pytestmark = pytest.mark.browser


LiveReview = LiveServer


@pytest.fixture
def live_review(review_app: Flask) -> Iterator[LiveServer]:
    with serve(review_app, "live-review") as live:
        yield live


@pytest.fixture
def review_context(
    browser: Browser, live_review: LiveReview
) -> Iterator[Callable[[], tuple[BrowserContext, Traffic]]]:
    """Opens a fresh context on the review app, JavaScript off, Vietnamese."""
    contexts: list[BrowserContext] = []

    def _open() -> tuple[BrowserContext, Traffic]:
        context = browser.new_context(
            base_url=live_review.url,
            java_script_enabled=False,
            locale="vi-VN",
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        traffic = Traffic()
        context.route("**/*", traffic.record)
        return context, traffic

    yield _open
    for context in contexts:
        context.close()


def test_login_with_totp_inbox_case_and_reply(
    review_context: Callable[[], tuple[BrowserContext, Traffic]],
    live_review: LiveReview,
    intake_client: CsrfClient,
    database: Database,
    settings: Settings,
) -> None:
    hana = make_account(database, settings, "hana", units=("intake",))
    sent = send_case(intake_client, database, attachment=True)
    context, traffic = review_context()
    page = context.new_page()

    # Logged out, the inbox sends us to the login form.
    page.goto("/inbox")
    page.wait_for_url(re.compile(r"/login"))
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.fill("#username", hana.username)
    page.fill("#password", hana.password)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/login/totp")

    # Second step: the code from the authenticator app (pyotp, as a phone would).
    page.fill("#totp", pyotp.TOTP(hana.secret).now())
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/inbox(\?.*)?$"))

    # The inbox lists the case; its link opens it.
    link = page.get_by_role("link", name=sent.reference)
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url(f"**/cases/{sent.case_id}")
    expect(page.locator("h1")).to_have_text(sent.reference)
    expect(page.locator("dl.answers")).to_contain_text(sent.canary)
    assert sent.attachment_name is not None
    expect(page.get_by_role("link", name=sent.attachment_name)).to_be_visible()
    assert "age-encryption.org" not in page.content()

    # Reply to the reporter.
    reply = "PHAN-HOI Cảm ơn anh/chị, xin cho biết thêm số hồ sơ."
    page.fill("#reply", reply)
    page.click("form[action$='/reply'] button[type=submit]")
    page.wait_for_url(f"**/cases/{sent.case_id}")
    expect(page.locator("ol.thread li.from-reviewer")).to_contain_text(reply)

    # What the browser posted: the two login steps and the reply, nothing else.
    posted = [r.url.removeprefix(live_review.url) for r in traffic.posts()]
    assert posted == ["/login", "/login/totp", f"/cases/{sent.case_id}/reply"]
    assert not [r for r in traffic.requests if not r.url.startswith(live_review.url)]

    # Stored encrypted, audited, and the reporter reads it with the receipt.
    with database.read_session() as db:
        messages = db.scalars(select(Message).where(Message.case_id == sent.case_id)).all()
        assert [(m.author_side, m.author_id) for m in messages] == [("reviewer", hana.id)]
        actions = db.scalars(
            select(AuditEvent.action).where(AuditEvent.case_id == sent.case_id)
        ).all()
        assert "case.viewed" in actions and "message.to_reporter" in actions
        login_actions = db.scalars(
            select(AuditEvent.action).where(AuditEvent.actor == f"reviewer:{hana.id}")
        ).all()
        assert "login.succeeded" in login_actions
    for path, content in stored_files(settings).items():
        assert b"PHAN-HOI" not in content, f"the reply is stored in clear in {path}"
    assert open_case(intake_client, sent.receipt).status_code == 303
    assert reply in intake_client.get("/followup/case").get_data(as_text=True)


def _log_in(page: Page, account: Account) -> None:
    page.goto("/login")
    page.fill("#username", account.username)
    page.fill("#password", account.password)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/login/totp")
    page.fill("#totp", pyotp.TOTP(account.secret).now())
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/inbox(\?.*)?$"))


def test_a_short_case_prints_as_the_case_not_its_forms(
    review_context: Callable[[], tuple[BrowserContext, Traffic]],
    intake_client: CsrfClient,
    database: Database,
    settings: Settings,
) -> None:
    hana = make_account(database, settings, "hana", units=("intake",))
    sent = send_case(intake_client, database)
    context, _traffic = review_context()
    page = context.new_page()
    _log_in(page, hana)
    page.goto(f"/cases/{sent.case_id}")

    def printed(media: str) -> tuple[int, str]:
        page.emulate_media(media=media)  # type: ignore[arg-type]
        reader = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=False)))
        return len(reader.pages), "\n".join(p.extract_text() for p in reader.pages)

    pages, text = printed("print")
    assert sent.canary in text and sent.reference in text  # the case itself
    assert "MẬT" in text and "hana" in text  # marked confidential, with who printed it
    for form_text in ("Chuyển đến", "Thêm ghi chú", "Đăng xuất"):
        assert form_text not in text, form_text
    # Positive control: the same page with the screen's styles carries every form.
    screen_pages, screen_text = printed("screen")
    assert "Thêm ghi chú" in screen_text
    assert pages <= 2 < screen_pages, (pages, screen_pages)
