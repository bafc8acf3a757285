"""Quick exit ("Thoát nhanh") on every intake page, and the follow-up page's "Thoát"."""

from __future__ import annotations

import re

import pytest

from config import load_settings
from tests.conftest import CsrfClient
from tests.factories import open_case, receipt_from, send_report

INTAKE_PAGES = ["/", "/report", "/followup"]


@pytest.mark.parametrize("page", INTAKE_PAGES)
def test_every_intake_page_offers_quick_exit(intake_client: CsrfClient, page: str) -> None:
    html = intake_client.get(page).get_data(as_text=True)
    form = re.search(
        r'<form class="quick-exit" method="post" action="/exit" data-target="([^"]+)"', html
    )
    assert form and form.group(1) == "https://www.google.com.vn"
    assert "Thoát nhanh" in html
    assert '<script src="/static/js/exit.js" defer></script>' in html


def test_review_app_has_no_quick_exit(review_client: CsrfClient) -> None:
    html = review_client.get("/login").get_data(as_text=True)
    assert "quick-exit" not in html and "exit.js" not in html


def test_quick_exit_ends_the_follow_up_session_without_a_token(intake_client: CsrfClient) -> None:
    receipt = receipt_from(send_report(intake_client))
    assert open_case(intake_client, receipt).status_code == 303
    assert intake_client.get("/followup/case").status_code == 200  # positive control

    left = intake_client.post("/exit")  # no CSRF token: an expired page must still leave
    page = left.get_data(as_text=True)
    assert left.status_code == 200
    assert '<meta http-equiv="refresh" content="0; url=https://www.google.com.vn">' in page
    assert left.headers["Cache-Control"] == "no-store"
    # The case is no longer open in this browser: "Back" finds the receipt form.
    back = intake_client.get("/followup/case")
    assert back.status_code in (302, 303) and back.headers["Location"].endswith("/followup")


def test_quick_exit_target_is_configurable(env: dict[str, str], database: object) -> None:
    from app.factory import create_intake_app

    settings = load_settings({**env, "LIEMCHINH_QUICK_EXIT_URL": "https://thoitiet.vn/can-tho"})
    app = create_intake_app(settings, database)  # type: ignore[arg-type]
    html = app.test_client().get("/").get_data(as_text=True)
    assert 'data-target="https://thoitiet.vn/can-tho"' in html


def test_a_target_that_is_not_a_web_address_is_refused(env: dict[str, str]) -> None:
    from config.settings import ConfigError

    with pytest.raises(ConfigError, match="LIEMCHINH_QUICK_EXIT_URL"):
        load_settings({**env, "LIEMCHINH_QUICK_EXIT_URL": "javascript:alert(1)"})


def test_exit_on_the_case_page_asks_first(intake_client: CsrfClient) -> None:
    receipt = receipt_from(send_report(intake_client))
    assert open_case(intake_client, receipt).status_code == 303
    html = intake_client.get("/followup/case").get_data(as_text=True)
    assert "<summary>Thoát</summary>" in html and "Vâng, thoát" in html
    assert "Đóng phản ánh" not in html  # read as withdrawing the report
    left = intake_client.submit("/followup/case", {}, action="/followup/logout")
    assert left.status_code == 303
    assert intake_client.get("/followup/case").status_code in (302, 303)
