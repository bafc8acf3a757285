"""Every 500 is the app's own page, in Vietnamese (English when chosen), never
gunicorn's bare "Internal Server Error"; and the intake's error log names no request
path, holds no exception message and no time of day. Through real gunicorn, with the
failures that escape Flask's own error handling (tests/web/failing_wsgi.py), and with
a real one: a stored attachment that cannot be read.
"""

from __future__ import annotations

import http.client
import re
from pathlib import Path

import pytest

from app.database import Database
from tests.reliability.harness import Browser, GunicornServer

SECRET_MARKER = (
    "blob-ab12-secret-marker"  # as in tests/web/failing_wsgi.py (not imported: it builds apps)
)

VI_INTAKE_500 = "Hệ thống gặp lỗi. Nếu bạn chưa thấy mã tiếp nhận"
EN_INTAKE_500 = "Something went wrong on our side. If no receipt code was shown to you"
VI_REVIEW_500 = "Hệ thống gặp lỗi. Chưa có gì thay đổi."
EN_REVIEW_500 = "Something went wrong on our side. Nothing was changed."
FAILURES = ("/_test/bad-header", "/_test/broken-stream")
TIME_OF_DAY = re.compile(r"\b\d{2}:\d{2}:\d{2}\b")


def _assert_own_page(port: int, path: str, vi: str, en: str) -> None:
    browser = Browser(port)  # a new visitor: Vietnamese, until they choose English
    reply = browser.request("GET", path)
    assert reply.status == 500, (path, reply.status)
    assert '<html lang="vi">' in reply.text and vi in reply.text, reply.text[:300]
    assert "Internal Server Error" not in reply.text
    assert reply.headers["Content-Security-Policy"].startswith("default-src 'none'")
    english = browser.request("GET", path + "?lang=en")
    assert english.status == 500
    assert '<html lang="en">' in english.text and en in english.text
    # The choice is remembered, as on any page.
    again = browser.request("GET", path)
    assert again.status == 500 and en in again.text


def _read_cut_response(port: int, path: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        assert response.status == 200
        with pytest.raises(http.client.IncompleteRead) as cut:
            response.read()
        return cut.value.partial
    finally:
        conn.close()


@pytest.mark.slow
def test_intake_failures_get_its_own_page_and_log_no_request(
    env: dict[str, str], database: Database, tmp_path: Path
) -> None:
    app = "tests.web.failing_wsgi:intake_app"
    with GunicornServer(env, tmp_path / "intake.log", workers=1, app=app) as server:
        for path in FAILURES:
            _assert_own_page(server.port, path, VI_INTAKE_500, EN_INTAKE_500)
        # Part-way: the download is cut, never completed.
        assert len(_read_cut_response(server.port, "/_test/cut-stream")) == 70000
    log = server.stop()
    assert "unhandled builtins.RuntimeError" in log  # the errors were logged...
    assert "/_test" not in log  # ...without the request's path,
    assert SECRET_MARKER not in log  # the exception's message,
    assert TIME_OF_DAY.search(log) is None, log  # or a time of day.
    assert "Error handling request" not in log


@pytest.mark.slow
def test_positive_control_without_the_guard_gunicorn_answers_and_logs_the_path(
    env: dict[str, str], database: Database, tmp_path: Path
) -> None:
    app = "tests.web.failing_wsgi:intake_unguarded"
    with GunicornServer(env, tmp_path / "bare.log", workers=1, app=app) as server:
        reply = Browser(server.port).request("GET", "/_test/bad-header")
        assert reply.status == 500
        assert "Internal Server Error" in reply.text and "Hệ thống" not in reply.text
    log = server.stop()
    assert "/_test/bad-header" in log
    assert TIME_OF_DAY.search(log) is not None


@pytest.mark.slow
def test_review_failures_get_its_own_page(
    env: dict[str, str], database: Database, tmp_path: Path
) -> None:
    app = "tests.web.failing_wsgi:review_app"
    with GunicornServer(env, tmp_path / "review.log", workers=1, app=app) as server:
        for path in FAILURES:
            _assert_own_page(server.port, path, VI_REVIEW_500, EN_REVIEW_500)
        assert len(_read_cut_response(server.port, "/_test/cut-stream")) == 70000
    log = server.stop()
    assert "Error handling request" not in log
