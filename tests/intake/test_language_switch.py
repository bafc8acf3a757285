"""Changing the language of a half-filled report form without JavaScript keeps it filled.

The language choice on the form is a submit button of the form (formaction
/report/language): the same form comes back in the other language with every answer,
and nothing is stored - no case, no blob, no spent form nonce, no spent rate budget.
Files cannot survive without JavaScript: the page names them and asks for them again.
"""

from __future__ import annotations

import io
import logging
import re
from html import unescape
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.database import Database
from app.models import Blob, Case
from config import Settings, load_settings
from tests.conftest import CsrfClient
from tests.factories import ReviewerKeys, receipt_from, report_answers

SUMMARY = "Chủ tịch phường Hưng Lợi nhận phong bì LANG-CANARY-5e1"
DETAILS = "Đoàn kiểm tra được ông Đặng Văn Ủy đưa đi ăn uống, quà tặng trị giá 30 triệu đồng."
FILE_NAME = "biên bản họp.pdf"
FILE_BYTES = b"%PDF-1.4 bien ban hop kin LANG-CANARY-FILE " * 500


def half_filled(client: CsrfClient, **extra: Any) -> dict[str, Any]:
    """The form as a reporter leaves it when they want another language."""
    return {
        **client.hidden_fields("/report"),
        **report_answers(summary=SUMMARY, details=DETAILS, location=""),
        "excluded_units": ["investigation"],
        "attachments": [(io.BytesIO(FILE_BYTES), FILE_NAME)],
        **extra,
    }


def switch(client: CsrfClient, data: dict[str, Any], lang: str = "en") -> Any:
    return client.post(
        "/report/language",
        data={**data, "lang": lang},
        content_type="multipart/form-data",
    )


def count(database: Database, model: type) -> int:
    with database.read_session() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def stored_files(settings: Settings) -> list[str]:
    return [str(p) for p in settings.blob_path.rglob("*") if p.is_file()]


def test_the_form_offers_the_switch_as_its_own_button(intake_client: CsrfClient) -> None:
    html = intake_client.get("/report").get_data(as_text=True)
    button = re.search(r'<button type="submit" form="report-form"[^>]*value="en"[^>]*>', html, re.S)
    assert button, "the English choice is a submit button of the report form"
    assert 'formaction="/report/language"' in button.group(0)
    assert "formnovalidate" in button.group(0)
    # The header's choice leads to it, instead of loading an empty form.
    nav = html[html.index('<nav class="lang"') : html.index("</nav>")]
    assert re.search(r'\shref="#switch-language"', nav)
    assert not re.search(r'\shref="/report\?lang=en"', nav)


def test_switching_keeps_the_answers_and_stores_nothing(
    intake_client: CsrfClient,
    database: Database,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # SQL and its parameters too
    response = switch(intake_client, half_filled(intake_client))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Send a report" in html and "Gửi phản ánh" not in html
    assert f'value="{SUMMARY}"' in html
    assert f">{DETAILS}</textarea>" in unescape(html)
    assert re.search(r'<option value="corruption" selected>', html)
    assert re.search(r'value="investigation" checked', html)
    # The file could not be kept: the page says so, and names it.
    notice = html[html.index('id="files-dropped"') :]
    assert "attach your files again" in notice
    assert FILE_NAME in notice[: notice.index("</div>")]

    # Nothing stored: no case, no blob row, no file (not even a temporary one).
    assert count(database, Case) == 0 and count(database, Blob) == 0
    assert stored_files(settings) == []
    # Nothing of the answers or the file was logged (SQL at DEBUG included).
    assert "LANG-CANARY" not in caplog.text
    assert caplog.text  # positive control: the capture does record the requests' SQL

    # The language is remembered for the next page.
    assert '<html lang="en">' in intake_client.get("/report").get_data(as_text=True)
    back = switch(intake_client, half_filled(intake_client), lang="vi")
    assert '<html lang="vi">' in back.get_data(as_text=True)
    assert "đính kèm lại" in back.get_data(as_text=True)  # the Vietnamese notice


def test_switching_spends_neither_the_form_nonce_nor_the_budget(
    env: dict[str, str], database: Database, intake_reviewer: ReviewerKeys
) -> None:
    from app.factory import create_intake_app

    app: Flask = create_intake_app(
        load_settings({**env, "LIEMCHINH_INTAKE_RATE_LIMIT": "2 per minute"}), database
    )
    app.test_client_class = CsrfClient
    client = app.test_client()
    assert isinstance(client, CsrfClient)

    form = half_filled(client)
    tokens = {k: form[k] for k in ("csrf_token", "form_nonce")}
    for lang in ("en", "vi", "en", "vi", "en"):  # more switches than the budget allows posts
        assert switch(client, {**form, "attachments": []}, lang).status_code == 200

    # The very form that was switched (same nonce) is then sent, and stored once.
    sent = client.post(
        "/report",
        data={**tokens, **report_answers(summary=SUMMARY, details=DETAILS)},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 200, sent.get_data(as_text=True)[:500]
    receipt_from(sent)
    assert count(database, Case) == 1

    # Positive control: the budget of 2 is real - a second report passes, a third does not.
    second = client.submit("/report", report_answers(), content_type="multipart/form-data")
    assert second.status_code == 200
    third = client.submit("/report", report_answers(), content_type="multipart/form-data")
    assert third.status_code == 429
    assert count(database, Case) == 2


def test_switching_needs_the_csrf_token(intake_client: CsrfClient, database: Database) -> None:
    data = half_filled(intake_client)
    del data["csrf_token"]
    response = switch(intake_client, data)
    assert response.status_code == 400
    assert SUMMARY not in response.get_data(as_text=True)
    assert count(database, Case) == 0
