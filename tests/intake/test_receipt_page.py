"""The receipt page after a report sent without JavaScript cannot be lost.

Its language choice and its "continue" button post the code back (never in a URL); the
same receipt comes back in the other language; "continue" needs the box "I have written
down my code" ticked, checked by the server. The receipt is never stored or logged.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.database import Database
from app.models import Blob, Case, Message
from config import Settings
from crypto import new_receipt
from tests.conftest import CsrfClient
from tests.factories import ReviewerKeys, open_case, receipt_from, send_report
from tests.reliability.harness import Browser, GunicornServer, hidden_fields_in

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, html[:1000]
    return match.group(1)


def post_receipt(client: CsrfClient, page: str, **fields: str) -> Any:
    """What the receipt page's form sends: its CSRF token, the code, the pressed button."""
    receipt = receipt_from_html(page)
    return client.post("/receipt", data={"csrf_token": csrf_of(page), "receipt": receipt, **fields})


def receipt_from_html(html: str) -> str:
    match = re.search(r'id="receipt-code">(\d{4} \d{4} \d{4} \d{4} \d{4})<', html)
    assert match, html[:1000]
    return match.group(1)


def forms_of(receipt: str) -> list[str]:
    """Every way the code could be written down by a program."""
    digits = receipt.replace(" ", "")
    return [receipt, digits, receipt.replace(" ", "+"), receipt.replace(" ", "%20"), digits[:12]]


def counts(database: Database) -> tuple[int, int, int]:
    with database.read_session() as db:
        return tuple(  # type: ignore[return-value]
            int(db.scalar(select(func.count()).select_from(m)) or 0) for m in (Case, Blob, Message)
        )


def test_the_receipt_page_carries_its_code_in_a_form_not_in_links(
    intake_client: CsrfClient, intake_reviewer: ReviewerKeys
) -> None:
    response = send_report(intake_client)
    receipt = receipt_from(response)
    html = response.get_data(as_text=True)
    start = html.index('<form id="receipt-form"')
    form = html[start : html.index("</form>", start)]
    assert 'method="post" action="/receipt"' in form
    assert f'name="receipt" value="{receipt}"' in form
    assert re.search(r'type="checkbox"[^>]*name="written_down"[^>]*required', form)
    assert "Tôi đã ghi lại mã của mình" in form
    # The header's English choice is a button of that form, not a link to an empty form.
    nav = html[html.index('<nav class="lang"') : html.index("</nav>")]
    assert re.search(r'<button type="submit" form="receipt-form"[^>]*name="lang" value="en"', nav)
    assert "href=" not in nav
    # No link or form action anywhere on the page carries the code.
    for url in re.findall(r'(?:href|action|formaction|src)="([^"]*)"', html):
        assert not any(f in url for f in forms_of(receipt)), url


def test_language_switch_renders_the_same_receipt_in_english_and_stores_nothing(
    intake_client: CsrfClient,
    intake_reviewer: ReviewerKeys,
    database: Database,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # SQL and its parameters too
    first = send_report(intake_client)
    receipt = receipt_from(first)
    before = counts(database)

    english = post_receipt(intake_client, first.get_data(as_text=True), lang="en")
    assert english.status_code == 200
    html = english.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Your report has been stored" in html and "I have written down my code" in html
    assert receipt_from_html(html) == receipt
    assert "Location" not in english.headers

    # And back to Vietnamese, keeping the tick.
    vietnamese = post_receipt(intake_client, html, lang="vi", written_down="yes")
    page = vietnamese.get_data(as_text=True)
    assert '<html lang="vi">' in page and "Phản ánh của bạn đã được lưu" in page
    assert receipt_from_html(page) == receipt
    assert re.search(r'name="written_down" value="yes" required checked', page)

    # Nothing stored: the same rows, and the code nowhere on disk or in any log.
    assert counts(database) == before
    with database.read_session() as db:
        reference = db.scalars(select(Case.reference)).one()
    assert not any(f in caplog.text for f in forms_of(receipt))
    assert reference in caplog.text  # positive control: the capture sees what SQL wrote
    on_disk = [p.read_bytes() for p in Path(settings.instance_path).rglob("*") if p.is_file()]
    assert not any(f.encode() in data for f in forms_of(receipt) for data in on_disk)
    assert any(reference.encode() in data for data in on_disk)  # the scan sees the database

    # The code still opens the case: the page showed the real one.
    assert open_case(intake_client, receipt).status_code == 303


def test_continue_needs_the_box_ticked(
    intake_client: CsrfClient, intake_reviewer: ReviewerKeys, database: Database
) -> None:
    first = send_report(intake_client)
    receipt = receipt_from(first)
    refused = post_receipt(intake_client, first.get_data(as_text=True), **{"continue": "1"})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert receipt_from_html(html) == receipt  # shown again, not lost
    assert 'role="alert"' in html and "đánh dấu" in html  # Vietnamese error
    assert 'aria-invalid="true"' in html

    done = post_receipt(intake_client, html, written_down="yes", **{"continue": "1"})
    assert done.status_code == 303
    assert done.headers["Location"] == "/followup"
    assert counts(database)[0] == 1


def test_a_code_that_is_not_a_receipt_is_refused(intake_client: CsrfClient) -> None:
    token = csrf_of(intake_client.get("/report").get_data(as_text=True))
    good = new_receipt()
    typo = good[:-1] + str((int(good[-1]) + 1) % 10)  # the check digit catches it
    for bad in (typo, "12345", "<script>x</script>", ""):
        response = intake_client.post(
            "/receipt", data={"csrf_token": token, "receipt": bad, "lang": "en"}
        )
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "không phải là mã tiếp nhận" in html  # in Vietnamese, the default
        assert 'id="receipt-code"' not in html and "<script>x" not in html


def test_the_receipt_form_needs_the_csrf_token(
    intake_client: CsrfClient, intake_reviewer: ReviewerKeys
) -> None:
    receipt = receipt_from(send_report(intake_client))
    response = intake_client.post("/receipt", data={"receipt": receipt, "lang": "en"})
    assert response.status_code == 400
    assert receipt not in response.get_data(as_text=True)


@pytest.mark.slow
def test_real_server_logs_no_receipt_even_with_an_access_log(
    env: dict[str, str], database: Database, intake_reviewer: ReviewerKeys, tmp_path: Path
) -> None:
    """Through gunicorn with its access log on at DEBUG (the worst an operator could do):
    the log shows the requests and their query strings, never the receipt."""
    args = ["--access-logfile", "-", "--log-level", "debug"]
    with GunicornServer(env, tmp_path / "gunicorn.log", workers=1, extra_args=args) as server:
        browser = Browser(server.port)
        reply = browser.submit_report(
            {
                "category": "corruption",
                "sector": "land_construction",
                "summary": "Cán bộ phường đòi tiền",
                "details": "Ông Đỗ Văn Ủy nhận tiền để ký hồ sơ.",
            }
        )
        assert reply.status == 200, reply.text[:500]
        receipt = reply.receipt()
        assert receipt
        hidden = {**hidden_fields_in(reply.text), "receipt": receipt}
        english = browser.post_form("/receipt", {**hidden, "lang": "en"})
        assert english.status == 200 and english.receipt() == receipt
        assert "Your report has been stored" in english.text
        done = browser.post_form("/receipt", {**hidden, "written_down": "yes", "continue": "1"})
        assert done.status == 303 and done.headers["Location"] == "/followup"
        browser.get("/report?lang=vi")
    logged = server.stop()
    assert "POST /receipt" in logged and "lang=vi" in logged  # positive control
    assert not any(f in logged for f in forms_of(receipt))
