"""The browser re-wraps when the readers changed while the reporter was writing.

A reviewer joins the intake unit between the page's ``GET /api/v1/submission`` and its
``POST /api/v1/reports``: the server refuses the stale wraps (409, nothing stored), the
page fetches the readers again and sends wraps that open for the newcomer too.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Route, expect
from sqlalchemy import func, select

from app.database import Database
from app.models import Case, CaseKey
from crypto import decrypt_bytes
from tests.browser.conftest import RECEIPT, BrowserSession, Canaries, LiveIntake, fill_report
from tests.factories import ReviewerKeys, make_reviewer

pytestmark = pytest.mark.browser


def test_a_reader_who_joins_meanwhile_gets_the_key(
    open_session: Callable[..., BrowserSession], live_intake: LiveIntake, database: Database
) -> None:
    make_reviewer(database, "intake", username="pham-thi-uyen")
    joined: list[ReviewerKeys] = []

    def join_before_the_first_report(route: Route) -> None:
        if not joined:  # the wraps in this request were made for the old readers
            joined.append(make_reviewer(database, "intake", username="vo-van-duc"))
        route.continue_()

    session = open_session()
    page = session.page
    page.route("**/api/v1/reports", join_before_the_first_report)
    page.goto("/report")
    fill_report(page, Canaries.new(), attach=False)
    page.click("#report-form button[type=submit]")
    expect(page.locator("#receipt-view")).to_be_visible(timeout=30_000)
    expect(page.locator("#receipt-code")).to_have_text(re.compile(RECEIPT))

    received = live_intake.recorder.bodies("POST", "/api/v1/reports")
    assert len(received) == 2  # refused once (409), then sent again with new wraps
    # The readers were fetched again between the two.
    assert len(live_intake.recorder.bodies("GET", "/api/v1/submission")) == 2
    with database.read_session() as db:
        assert db.scalar(select(func.count()).select_from(Case)) == 1
        wraps = list(db.scalars(select(CaseKey.wrap)))
    assert len(wraps) == 2
    for wrap in wraps:
        assert decrypt_bytes(wrap, [joined[0].identity]).startswith(b"AGE-SECRET-KEY-1")
