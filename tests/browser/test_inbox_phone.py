"""The inbox on a phone (issue 15): at 390 px nothing scrolls sideways, each case is a
stacked card with its summary, axe-core finds no violation, and ticking two cases and
acknowledging them works as a form (no JavaScript needed)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pyotp
import pytest
from flask import Flask

from app.database import Database
from config import Settings
from tests.browser.conftest import LiveServer, serve
from tests.browser.test_accessibility import AXE, violations
from tests.factories import make_account, submit_case

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser

SUMMARIES = (
    "Cán bộ địa chính phường Hưng Lợi đòi tiền để cấp sổ đỏ cho hộ dân ở khu vực 4",
    "Trường tiểu học Bình Thủy thu tiền ngoài quy định, kèm biên bản họp.pdf",
)


@pytest.fixture
def live_inbox(review_app: Flask) -> Iterator[LiveServer]:
    with serve(review_app, "live-inbox") as live:
        yield live


def test_inbox_at_390_px(
    browser: Browser, live_inbox: LiveServer, database: Database, settings: Settings
) -> None:
    assert AXE.exists(), f"{AXE} is missing: run `npm ci` (make test does)"
    reader = make_account(database, settings, "thu.trang", units=("intake",))
    for summary in SUMMARIES:
        submit_case(database, settings, summary=summary)
    context = browser.new_context(
        base_url=live_inbox.url, bypass_csp=True, viewport={"width": 390, "height": 844}
    )
    try:
        page = context.new_page()
        page.goto("/login?lang=vi")
        page.fill("#username", reader.username)
        page.fill("#password", reader.password)
        page.click("main form button[type=submit]")
        page.wait_for_url("**/login/totp")
        page.fill("#totp", pyotp.TOTP(reader.secret).now())
        page.click("main form button[type=submit]")
        page.wait_for_url(re.compile(r"/inbox(\?.*)?$"))

        for summary in SUMMARIES:
            assert page.get_by_text(summary).is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the inbox scrolls sideways: {width} px"
        # Stacked: the second case's card starts below the first one, not beside it.
        boxes = [page.locator("table.inbox tbody tr").nth(i).bounding_box() for i in (0, 1)]
        assert boxes[0] and boxes[1] and boxes[1]["y"] >= boxes[0]["y"] + boxes[0]["height"]
        assert violations(page) == []

        for checkbox in page.locator("table.inbox input[type=checkbox]").all():
            checkbox.check()
        page.select_option("#bulk select[name=action]", "acknowledge")
        page.click("#bulk button[type=submit]")
        page.wait_for_url(re.compile(r"/inbox(\?.*)?$"))
        assert page.get_by_text("Đã xác nhận tiếp nhận 2 vụ việc.").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert violations(page) == []
    finally:
        context.close()
