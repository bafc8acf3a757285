"""The report form warns the reporter, without any script, once they have excluded every
inspection and investigation body (their case could then never be passed on)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.conftest import BrowserSession, LiveIntake

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [False, True])
def test_warning_appears_only_when_every_route_target_is_excluded(
    open_session: Callable[..., BrowserSession], live_intake: LiveIntake, javascript: bool
) -> None:
    page = open_session(javascript=javascript).page
    page.goto(live_intake("/report"))
    warning = page.locator(".all-routes-excluded")
    assert not warning.is_visible()
    page.get_by_label("Thanh tra thành phố").check()
    assert not warning.is_visible()  # investigation is still possible
    page.get_by_label("Cơ quan điều tra").check()
    assert warning.is_visible()
    assert "chỉ được tổ tiếp nhận xử lý" in warning.inner_text()
    page.get_by_label("Thanh tra thành phố").uncheck()
    assert not warning.is_visible()
