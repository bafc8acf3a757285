"""Quick exit in Chromium: the intake page is replaced in the tab's history (so "Back"
does not return to it) and the reporter's session ends."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tests.browser.conftest import BrowserSession, LiveIntake

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

TARGET = "https://www.google.com.vn/"


def _neutral_site(session: BrowserSession) -> None:
    # No internet in tests: the target answers from here (later routes take precedence).
    def fulfil(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body="<title>Google</title>")

    session.context.route("https://www.google.com.vn/**", fulfil)


def _two_intake_pages(page: Page, live_intake: LiveIntake) -> int:
    page.goto(live_intake("/"))
    page.goto(live_intake("/report"))
    return int(page.evaluate("history.length"))


def test_quick_exit_replaces_the_page_in_history_and_ends_the_session(
    open_session: Callable[..., BrowserSession], live_intake: LiveIntake
) -> None:
    session = open_session()
    _neutral_site(session)
    page = session.page
    before = _two_intake_pages(page, live_intake)

    page.get_by_role("button", name="Thoát nhanh").click()
    page.wait_for_url(TARGET)
    assert page.evaluate("history.length") == before  # replaced, not added
    page.go_back()
    assert page.url == live_intake("/")  # "Back" skips the report form
    assert any(r.url.endswith("/exit") for r in session.traffic.posts("/exit"))


def test_positive_control_an_ordinary_navigation_adds_to_history(
    open_session: Callable[..., BrowserSession], live_intake: LiveIntake
) -> None:
    session = open_session()
    _neutral_site(session)
    page = session.page
    before = _two_intake_pages(page, live_intake)
    page.evaluate(f"location.assign({TARGET!r})")
    page.wait_for_url(TARGET)
    assert page.evaluate("history.length") == before + 1
    page.go_back()
    assert page.url == live_intake("/report")


def test_without_javascript_the_button_still_leaves(
    open_session: Callable[..., BrowserSession], live_intake: LiveIntake
) -> None:
    session = open_session(javascript=False)
    _neutral_site(session)
    page = session.page
    page.goto(live_intake("/report"))
    page.get_by_role("button", name="Thoát nhanh").click()
    page.wait_for_url(TARGET)
