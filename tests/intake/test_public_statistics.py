"""The intake's public statistics (/statistics): completed quarters only (by the app's
clock), the same suppression as the dashboard, SVG with a table beside each chart, no
script, nothing from another origin, no login, Vietnamese by default and English by
the intake's own language choice; the landing page links to it."""

from __future__ import annotations

import re
from datetime import date

import pytest

from app import clock
from app.database import Database
from tests.cases.test_outcome_statistics import seed_outcomes
from tests.conftest import CsrfClient
from tests.factories import case_row, insert_cases, insert_recovery, unit_ids
from tests.intake.test_pages import audit


def _on(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    monkeypatch.setattr(clock, "today", lambda: day)


def _cell(html: str, chart: str, quarter: str) -> str:
    section = html.split(f'id="public-{chart}-heading"', 1)[1].split("</table>", 1)[0]
    match = re.search(r'<th scope="row">' + re.escape(quarter) + r"</th><td>([^<]*)</td>", section)
    assert match, f"no {quarter!r} in {chart}"
    return match.group(1)


def _page(client: CsrfClient, query: str = "") -> str:
    response = client.get(f"/statistics{query}")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return str(response.get_data(as_text=True))


def test_completed_quarters_only(
    intake_client: CsrfClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_outcomes(database)
    # Five reports on 16-20/12/2026: quarter I/2027 (15/12/2026 - 14/03/2027).
    intake = unit_ids(database)["intake"]
    insert_cases(database, [case_row(intake, created_day=date(2026, 12, 16 + i)) for i in range(5)])

    _on(monkeypatch, date(2026, 12, 20))
    html = _page(intake_client)
    assert "Phản ánh của bạn dẫn đến đâu?" in html
    for completed in ("Quý I/2026", "Quý II/2026", "Quý III/2026", "Quý IV/2026"):
        assert f'<th scope="row">{completed}</th>' in html
    assert "Quý I/2027" not in html  # the running quarter, with its five new reports
    assert _cell(html, "received", "Quý IV/2026") == "16"
    assert _cell(html, "handled", "Quý IV/2026") == "12"
    assert _cell(html, "concluded", "Quý IV/2026") == "7"
    assert _cell(html, "referred", "Quý IV/2026") == "5"
    assert _cell(html, "prosecuted", "Quý IV/2026") == "&lt; 5"
    assert _cell(html, "recovered", "Quý IV/2026") == "1.900.000.000\u00a0₫"
    assert _cell(html, "received", "Quý III/2026") == "0"

    # While quarter IV runs (until 14/12), none of it shows.
    _on(monkeypatch, date(2026, 12, 14))
    html = _page(intake_client)
    assert "Quý IV/2026" not in html and _cell(html, "received", "Quý III/2026") == "0"

    # Positive control: once quarter I/2027 is over, its five reports appear.
    _on(monkeypatch, date(2027, 3, 15))
    assert _cell(_page(intake_client), "received", "Quý I/2027") == "5"


def test_small_counts_and_amounts_from_few_cases_are_withheld(
    intake_client: CsrfClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = seed_outcomes(database)
    insert_recovery(database, ids["waste"][0], date(2027, 1, 5), 70_000_000)
    _on(monkeypatch, date(2027, 3, 15))
    html = _page(intake_client)
    assert _cell(html, "recovered", "Quý I/2027") == "dưới 5 vụ việc"
    assert "70.000.000" not in html
    assert _cell(html, "recovered", "Quý IV/2026") == "1.900.000.000\u00a0₫"  # six cases


def test_english_by_the_intakes_own_choice(
    intake_client: CsrfClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_outcomes(database)
    _on(monkeypatch, date(2026, 12, 20))
    # The browser's language is ignored: still Vietnamese.
    response = intake_client.get("/statistics", headers={"Accept-Language": "en-US, en"})
    assert "Phản ánh của bạn dẫn đến đâu?" in response.get_data(as_text=True)
    html = _page(intake_client, "?lang=en")
    assert "Where do reports lead?" in html
    assert _cell(html, "received", "Q4 2026") == "16"
    assert _cell(html, "recovered", "Q4 2026") == "1,900,000,000\u00a0₫"
    assert "Sep 15, 2026" in html and "Dec 14, 2026" in html


def test_no_script_no_other_origin_no_login(
    intake_client: CsrfClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_outcomes(database)
    _on(monkeypatch, date(2026, 12, 20))
    for query in ("", "?lang=en"):
        response = intake_client.get(f"/statistics{query}")
        html = response.get_data(as_text=True)
        assert response.status_code == 200  # nobody is logged in
        assert "<script" not in html
        assert audit(html).problems == []
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert html.count("<svg ") == 6 and html.count('<table class="chart-table">') == 6
        # The quick exit still works, by its form.
        assert 'class="quick-exit" method="post" action="/exit"' in html
    # Positive control: other intake pages do send the quick exit's script.
    assert "<script" in intake_client.get("/").get_data(as_text=True)


def test_a_visit_sets_no_cookie(intake_client: CsrfClient, database: Database) -> None:
    response = intake_client.get("/statistics")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    # Positive control: choosing a language is remembered in the session cookie.
    assert "Set-Cookie" in intake_client.get("/statistics?lang=en").headers


def test_the_landing_page_links_to_it(intake_client: CsrfClient) -> None:
    html = intake_client.get("/").get_data(as_text=True)
    assert 'href="/statistics"' in html and "Phản ánh của bạn dẫn đến đâu?" in html
    english = intake_client.get("/?lang=en").get_data(as_text=True)
    assert "Where do reports lead?" in english
