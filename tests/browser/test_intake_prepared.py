"""The work before the click (issue 16), in Chromium: the proof of work runs in a Web
Worker as /report opens and the ticket is fetched before "Send"; what goes stale is
renewed and never sent; a click before the work is done waits, saying how much is
left, and sends once; the receipt after a JavaScript submission is the receipt page
alone; without JavaScript nothing of this runs.

The proof of work here is 2^16 hashes (16 puzzles of 12 bits), so that the progress
has steps to show and the tests stay fast.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from app.database import Database
from tests.browser.conftest import (
    RECEIPT,
    BrowserSession,
    Canaries,
    LiveIntake,
    fill_report,
    found_in,
)
from tests.factories import make_reviewer

pytestmark = pytest.mark.browser

OpenSession = Callable[..., BrowserSession]
PREPARING = "Đang chuẩn bị gửi an toàn…"


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "LIEMCHINH_POW_DIFFICULTY": "16"}


def _json_posts(live: LiveIntake, path: str) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in live.recorder.bodies("POST", path)]


def _sent_tickets(live: LiveIntake) -> list[bytes]:
    bodies = live.recorder.bodies("POST", "/api/v1/reports")
    return [
        re.search(rb'name="ticket"\r\n\r\n([A-Za-z0-9_-]+)\r\n', b.body).group(1) for b in bodies
    ]  # type: ignore[union-attr]


def _wait_for_ticket(page: Page, live: LiveIntake, count: int = 1) -> None:
    """Until the server has issued ``count`` tickets (the page runs meanwhile)."""
    for _ in range(200):
        if len(live.recorder.bodies("POST", "/api/v1/tickets")) >= count:
            page.wait_for_timeout(200)  # and the browser read the answer
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"fewer than {count} tickets were fetched")


def _visible_headings(page: Page) -> list[str]:
    return [h.strip() for h in page.locator("main h1:visible, main h2:visible").all_inner_texts()]


def test_the_ticket_is_ready_before_the_click_and_the_receipt_is_its_own_page(
    open_session: OpenSession, live_intake: LiveIntake, database: Database
) -> None:
    make_reviewer(database, "intake")
    session = open_session()
    page = session.page
    page.goto("/report")
    # Nothing typed yet: the challenge was solved in the PoW worker and redeemed.
    _wait_for_ticket(page, live_intake)
    [redeemed] = _json_posts(live_intake, "/api/v1/tickets")
    assert len(redeemed["pow_nonce"].split(".")) == 16
    worker_urls = [u for u in session.traffic.urls if u.endswith("-worker.js")]
    assert [u.rsplit("/", 1)[1] for u in worker_urls] == ["pow-worker.js"]  # no crypto yet

    canaries = Canaries.new()
    fill_report(page, canaries, attach=False)
    page.click("#report-form button[type=submit]")
    expect(page.locator("#receipt-code")).to_have_text(re.compile(RECEIPT))
    # The click did not pay for a proof of work or a ticket: still the one from before.
    assert len(live_intake.recorder.bodies("POST", "/api/v1/tickets")) == 1
    assert len(live_intake.recorder.bodies("POST", "/api/v1/reports")) == 1
    assert [u.rsplit("/", 1)[1] for u in session.traffic.urls if u.endswith("-worker.js")] == [
        "pow-worker.js",
        "crypto-worker.js",
    ]
    assert found_in(session.traffic.bodies(), canaries.all()) == set()

    # The same page as the receipt after a plain form post: its heading alone, its title.
    js_headings, js_title = _visible_headings(page), page.title()
    expect(page.locator("#report-form")).to_be_hidden()
    expect(page.locator("main .notice")).to_be_hidden()
    expect(page.locator("#switch-language")).to_be_hidden()
    plain = open_session(javascript=False).page
    plain.goto("/report")
    fill_report(plain, Canaries.new(), attach=False)
    plain.click("#report-form button[type=submit]")
    expect(plain.locator("#receipt-code")).to_have_text(re.compile(RECEIPT))
    assert js_headings == _visible_headings(plain) == ["Phản ánh của bạn đã được lưu"]
    assert js_title == plain.title()


def test_stale_challenge_and_ticket_are_renewed_and_never_sent(
    open_session: OpenSession, live_intake: LiveIntake, database: Database
) -> None:
    make_reviewer(database, "intake")
    session = open_session()
    page = session.page
    first: dict[str, str] = {}

    def short_challenge(route: Route) -> None:
        # The page's first challenge says it lives one second: stale once solved.
        response = route.fetch()
        body = response.json()
        first["challenge"] = body["pow"]["challenge"]
        body["pow"]["expires_in"] = 1
        route.fulfill(response=response, body=json.dumps(body))

    def short_ticket(route: Route) -> None:
        # The first ticket says it lives one second: stale before it could be used.
        page.unroute("**/api/v1/tickets", short_ticket)
        response = route.fetch()
        body = response.json()
        first["ticket"] = body["ticket"]
        body["expires_in"] = 1
        route.fulfill(response=response, body=json.dumps(body))

    page.route("**/api/v1/submission", short_challenge)
    page.route("**/api/v1/tickets", short_ticket)
    page.goto("/report")
    _wait_for_ticket(page, live_intake, 2)
    fill_report(page, Canaries.new(), attach=False)
    page.click("#report-form button[type=submit]")
    expect(page.locator("#receipt-code")).to_have_text(re.compile(RECEIPT))

    redeemed = [p["pow_challenge"] for p in _json_posts(live_intake, "/api/v1/tickets")]
    assert len(redeemed) == 2 and first["challenge"] not in redeemed  # dropped unsent
    sent = _sent_tickets(live_intake)
    assert len(sent) == 1 and sent[0].decode() != first["ticket"]  # the renewed one
    # Positive control: the stale ticket was issued, and would be found if it were sent.
    assert first["ticket"] and found_in([first["ticket"].encode()], {"t": first["ticket"].encode()})


def test_a_click_before_the_work_is_done_shows_progress_and_sends_once(
    open_session: OpenSession, live_intake: LiveIntake, database: Database
) -> None:
    make_reviewer(database, "intake")
    session = open_session()
    page = session.page
    held: list[Route] = []
    page.route("**/api/v1/submission", lambda route: held.append(route))  # answered after the click
    page.goto("/report")
    page.evaluate(
        """() => {
          window.statuses = [];
          const box = document.getElementById('js-status');
          new MutationObserver(() => window.statuses.push(box.textContent))
            .observe(box, {childList: true, characterData: true, subtree: true});
        }"""
    )
    fill_report(page, Canaries.new())
    page.click("#report-form button[type=submit]")
    expect(page.locator("#report-form button[type=submit]")).to_be_disabled()
    assert live_intake.recorder.bodies("POST", "/api/v1/tickets") == []
    assert len(held) == 1
    held[0].continue_()
    expect(page.locator("#receipt-code")).to_have_text(re.compile(RECEIPT), timeout=30_000)

    statuses: list[str] = page.evaluate("window.statuses")
    percents = [
        int(m.group(1))
        for s in statuses
        if (m := re.fullmatch(re.escape(PREPARING) + r" (\d+)%", s))
    ]
    assert percents and percents == sorted(percents), statuses
    assert len(set(percents)) >= 3 and max(percents) <= 99, statuses  # it moved, never "done" early
    encrypting = page.get_attribute("#report-form", "data-msg-encrypting")
    assert encrypting and statuses.index(encrypting) > statuses.index(
        f"{PREPARING} {percents[-1]}%"
    )
    assert len(live_intake.recorder.bodies("POST", "/api/v1/tickets")) == 1
    assert len(live_intake.recorder.bodies("POST", "/api/v1/reports")) == 1
    # The file's progress bar reached the end: encrypted (1), then sent (2).
    expect(page.locator("#report-form-files progress")).to_have_count(1)
    assert page.eval_on_selector("#report-form-files progress", "p => p.value") == 2


def test_without_javascript_nothing_is_prepared(
    open_session: OpenSession, live_intake: LiveIntake
) -> None:
    session = open_session(javascript=False)
    session.page.goto("/report")
    session.page.wait_for_timeout(500)
    assert not [u for u in session.traffic.urls if "/api/" in u or u.endswith(".js")]
    # Positive control: the same page with JavaScript asks for its challenge at once.
    other = open_session()
    other.page.goto("/report")
    _wait_for_ticket(other.page, live_intake)
    assert any(u.endswith("/api/v1/submission") for u in other.traffic.urls)
