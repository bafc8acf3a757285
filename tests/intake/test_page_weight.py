"""/report weighs at most 20 KB on the wire without JavaScript, 60 KB with (issue 15).

Counted as bench/js_submit.py counts it in Chromium (response headers and encoded bodies
of everything the page loads before the reporter starts writing), here without a
browser: the page, then what it names, each asked for with the Accept-Encoding that
Chromium sends, so the static files come compressed and the HTML (never compressed:
BREACH) as it is. The test client does not see the headers the server itself adds
(gunicorn's Date, Server, Connection): ``SERVER_HEADERS`` stands for them per response.
Without JavaScript: the page and its stylesheets. With JavaScript, besides: its scripts,
the proof-of-work worker (started at once), /api/v1/submission and the ticket. The
encryption worker, the scrub worker and the scrubber's texts load later (on writing, on
picking a file) and are outside both budgets, as in the bench.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.cases.pow import solve
from tests.conftest import CsrfClient
from tests.factories import ReviewerKeys

NO_JAVASCRIPT_BUDGET = 20 * 1024
JAVASCRIPT_BUDGET = 60 * 1024
CHROMIUM_ACCEPT_ENCODING = "gzip, deflate, br, zstd"
SERVER_HEADERS = 100  # "Date: ...", "Server: gunicorn", "Connection: ..." and their CRLFs

_STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"')
_SCRIPT = re.compile(r'<script src="([^"]+)"')
_POW_WORKER = re.compile(r'data-pow-worker="([^"]+)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def on_the_wire(response: Any) -> int:
    """Status line, headers and the body as sent (compressed or not)."""
    head = f"HTTP/1.1 {response.status}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in response.headers.items()
    )
    return len(head.encode("latin-1")) + 2 + SERVER_HEADERS + len(response.get_data())


def weigh(client: CsrfClient, path: str, weights: dict[str, int]) -> Any:
    response = client.get(path, headers={"Accept-Encoding": CHROMIUM_ACCEPT_ENCODING})
    assert response.status_code == 200, path
    weights[path] = on_the_wire(response)
    return response


def report_page(client: CsrfClient, *, javascript: bool) -> dict[str, int]:
    weights: dict[str, int] = {}
    html = weigh(client, "/report", weights).get_data(as_text=True)
    for href in _STYLESHEET.findall(html):
        weigh(client, href, weights)
    if javascript:
        for src in [*_SCRIPT.findall(html), *_POW_WORKER.findall(html)]:
            weigh(client, src, weights)
        token = _CSRF.search(html)
        assert token
        info = weigh(client, "/api/v1/submission", weights).get_json()
        pow_ = info["pow"]
        ticket = client.post(
            "/api/v1/tickets",
            json={
                "pow_challenge": pow_["challenge"],
                "pow_nonce": solve(pow_["challenge"], pow_["difficulty"]),
            },
            headers={"X-CSRFToken": token.group(1)},
        )
        assert ticket.status_code == 201, ticket.get_json()
        weights["/api/v1/tickets"] = on_the_wire(ticket)
    return weights


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_report_page_without_javascript_weighs_at_most_20_kb(
    intake_client: CsrfClient, intake_reviewer: ReviewerKeys, lang: str
) -> None:
    intake_client.get(f"/?lang={lang}")
    weights = report_page(intake_client, javascript=False)
    # Positive control: the page and its stylesheet were counted, the stylesheet compressed.
    assert set(weights) == {"/report", "/static/css/site.css"}
    assert weights["/static/css/site.css"] < 4000
    assert sum(weights.values()) <= NO_JAVASCRIPT_BUDGET, weights


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_report_page_with_javascript_weighs_at_most_60_kb(
    intake_client: CsrfClient, intake_reviewer: ReviewerKeys, lang: str
) -> None:
    intake_client.get(f"/?lang={lang}")
    weights = report_page(intake_client, javascript=True)
    assert {"/static/js/intake.js", "/static/js/pow-worker.js", "/api/v1/submission"} <= set(
        weights
    )
    assert "/static/js/crypto-worker.js" not in weights  # loads on writing: not counted
    assert sum(weights.values()) <= JAVASCRIPT_BUDGET, weights


def test_the_page_is_sent_uncompressed_and_its_static_files_compressed(
    intake_client: CsrfClient,
) -> None:
    """BREACH: the page carries the CSRF token; only the static files are compressed."""
    headers = {"Accept-Encoding": CHROMIUM_ACCEPT_ENCODING}
    page = intake_client.get("/report", headers=headers)
    assert "Content-Encoding" not in page.headers
    assert 'name="csrf_token"' in page.get_data(as_text=True)
    style = intake_client.get("/static/css/site.css", headers=headers)
    assert style.headers["Content-Encoding"] == "br"
