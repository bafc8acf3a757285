"""The no-JavaScript path in a real browser: plain forms, the server encrypts."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.database import Database
from app.models import Case, Message
from tests.browser.conftest import (
    RECEIPT,
    REPORT_ANSWERS,
    BrowserSession,
    Canaries,
    LiveIntake,
    fill_report,
)
from tests.factories import make_reviewer

pytestmark = pytest.mark.browser

OpenSession = Callable[..., BrowserSession]


def test_report_follow_up_and_message_without_javascript(
    open_session: OpenSession, live_intake: LiveIntake, database: Database
) -> None:
    make_reviewer(database, "intake")
    canaries = Canaries.new()
    session = open_session(javascript=False)
    page = session.page

    page.goto("/report")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    fill_report(page, canaries)
    page.click("#report-form button[type=submit]")
    expect(page.locator("#receipt-view")).to_be_visible()
    expect(page.locator("#receipt-code")).to_have_text(re.compile(RECEIPT))
    receipt = page.inner_text("#receipt-code").strip()
    assert receipt not in page.url

    # The receipt page's "continue" leads to the follow-up form once the box is ticked.
    page.check("#receipt-written")
    page.click("#receipt-continue")
    page.wait_for_url("**/followup")
    page.fill("#receipt", receipt)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/followup/case")
    assert receipt.replace(" ", "") not in page.url.replace("%20", "")
    expect(page.locator("dl.answers")).to_contain_text(canaries.details)
    expect(page.get_by_role("link", name=canaries.filename)).to_be_visible()

    # The message form posts to the server, which redirects back to the case.
    page.fill("#body", f"Bổ sung thông tin. {canaries.message}")
    page.click("#message-form button[type=submit]")
    page.wait_for_url("**/followup/case")
    expect(page.locator("ol.thread li.from-reporter")).to_contain_text(canaries.message)
    assert [r.url.removeprefix(live_intake.url) for r in session.traffic.posts()] == [
        "/report",
        "/receipt",
        "/followup",
        "/followup/message",
    ]

    # Language switch: the page comes back in English, and the choice is remembered.
    vietnamese_title = page.inner_text("h1")
    page.click("nav.lang a[lang=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Your report")
    assert vietnamese_title != "Your report"
    expect(page.locator("nav.lang strong[lang=en]")).to_have_text("English")
    expect(page.locator("ol.thread")).to_contain_text(canaries.message)
    page.goto("/report")
    expect(page.locator("h1")).to_have_text("Send a report")

    with database.read_session() as db:
        case = db.scalars(select(Case)).one()
        assert (case.category, case.sector) == (
            REPORT_ANSWERS["category"],
            REPORT_ANSWERS["sector"],
        )
        assert len(db.scalars(select(Message)).all()) == 1
    # JavaScript really was off: no script ran, so no API call was made.
    assert not [u for u in session.traffic.urls if "/api/" in u]
