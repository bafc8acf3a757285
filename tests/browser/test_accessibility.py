"""axe-core on every page a reporter and an inspector use, at phone and desktop widths.

axe-core is the npm package of that name (pinned in package.json), injected into the
page as the page's own script would run; the context bypasses the CSP for that one
injected script only (the app's pages load nothing from elsewhere, tests/web checks it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyotp
import pytest
from flask import Flask

from app.database import Database
from config import Settings
from tests.browser.conftest import Canaries, LiveIntake, LiveServer, fill_report, serve
from tests.conftest import CsrfClient
from tests.factories import make_account, send_case

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (390, 1366)


def violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:3])
        for v in found
    ]


@pytest.fixture
def axe_page(browser: Browser) -> Iterator[Callable[[str, int], Page]]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` (make test does)")
    contexts = []

    def open_page(base_url: str, width: int) -> Page:
        context = browser.new_context(
            base_url=base_url, bypass_csp=True, viewport={"width": width, "height": 900}
        )
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def live_review(review_app: Flask) -> Iterator[LiveServer]:
    with serve(review_app, "live-review") as live:
        yield live


@pytest.mark.parametrize("width", WIDTHS)
def test_reporter_pages_have_no_violation(
    axe_page: Callable[[str, int], Page], live_intake: LiveIntake, width: int
) -> None:
    page = axe_page(live_intake.url, width)
    found: list[str] = []
    for path in ("/", "/report", "/followup", "/statistics", "/?lang=en", "/report?lang=en"):
        page.goto(path)
        found += violations(page)
    # The receipt, then the reporter's case page.
    page.goto("/report")
    fill_report(page, Canaries.new(), attach=False)
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#receipt-code:not(:empty)", timeout=60_000)
    found += violations(page)
    receipt = page.inner_text("#receipt-code")
    page.goto("/followup")
    page.fill("#receipt", receipt)
    page.click("#open-case-form button[type=submit]")
    page.wait_for_url(re.compile(r"/followup/case$"))
    found += violations(page)
    assert found == []


@pytest.mark.parametrize("width", WIDTHS)
def test_inspector_pages_have_no_violation(
    axe_page: Callable[[str, int], Page],
    live_review: LiveServer,
    intake_client: CsrfClient,
    database: Database,
    settings: Settings,
    width: int,
) -> None:
    admin = make_account(database, settings, "quan-tri", role="admin", units=("intake",))
    sent = send_case(intake_client, database)
    page = axe_page(live_review.url, width)
    found = []
    page.goto("/login")
    found += violations(page)
    page.fill("#username", admin.username)
    page.fill("#password", admin.password)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/login/totp")
    found += violations(page)
    page.fill("#totp", pyotp.TOTP(admin.secret).now())
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/inbox(\?.*)?$"))
    for path in (
        "/inbox",
        f"/cases/{sent.case_id}",
        "/dashboard",
        "/account/password",
        "/admin/reviewers",
        "/admin/units",
        "/admin/access",
        "/admin/keys",
        "/admin/audit",
        "/admin/notifications",
        "/inbox?lang=en",
    ):
        page.goto(path)
        found += violations(page)
    assert found == []
