"""The intake's budgets as reporters meet them: a request refused by a cheap check never
spends one, and a flood through one way in (no JavaScript, receipt checks) leaves the
JavaScript path open.

Every budget is 3 per minute here, so a handful of requests would exhaust any of them.
"""

from __future__ import annotations

import io
import sqlite3
import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.database import Database
from app.models import Blob, Case
from app.web.ratelimit import COUNTERS_FILE
from config import Settings, load_settings
from crypto import Recipient, encrypt_bytes, new_receipt
from tests.conftest import CsrfClient
from tests.factories import ReviewerKeys, open_case, receipt_from, report_answers, send_report
from tests.intake.test_api import BrowserSession, encrypted_report

LIMIT = 3
JUNK = 60  # the loop: 60 requests, well over any budget
ATTACHMENT = (b"%PDF-1.4 bien ban hop " * 500, "biên bản họp.pdf")


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "LIEMCHINH_INTAKE_RATE_LIMIT": f"{LIMIT} per minute"}


@pytest.fixture
def app(intake_app: Flask, intake_reviewer: ReviewerKeys) -> Flask:
    intake_app.test_client_class = CsrfClient
    return intake_app


def _client(app: Flask) -> CsrfClient:
    client = app.test_client()
    assert isinstance(client, CsrfClient)
    return client


def _browser(app: Flask) -> BrowserSession:
    client = _client(app)
    return BrowserSession(client, client.csrf_token("/report"))


def _cases(database: Database) -> int:
    with database.read_session() as db:
        return int(db.scalar(select(func.count()).select_from(Case)) or 0)


def _stored_files(settings: Settings) -> set[str]:
    return {str(p) for p in settings.blob_path.rglob("*") if p.is_file()}


def _next_window(settings: Settings) -> None:
    """The minute has passed (every budget is full again)."""
    with sqlite3.connect(settings.volatile_path / COUNTERS_FILE) as conn:
        conn.execute("UPDATE counters SET expires_at = ?", (time.time() - 1,))


def _js_report(browser: BrowserSession) -> dict[str, Any]:
    """Ticket and report, as the page's script sends them; returns the ticket."""
    info = browser.get_info()
    ticket = browser.ticket(info)
    response = browser.post_report(encrypted_report(info, ticket, files=[ATTACHMENT[0]]))
    assert response.status_code == 201, response.get_json()
    return ticket


def _js_follow_up(browser: BrowserSession, receipt: str, database: Database) -> None:
    """Open the case with a proof of work and send a message with another."""
    opened = browser.client.post(
        "/api/v1/followup/open",
        json={"receipt": receipt, **browser.solved_challenge()},
        headers={"X-CSRFToken": browser.token},
    )
    assert opened.status_code == 200, opened.get_json()
    with database.read_session() as db:
        case = db.scalars(select(Case).order_by(Case.ref_number.desc())).first()
        assert case is not None
        recipient = Recipient.parse(case.case_recipient)
    from app.cases.payloads import encode_message

    body = encrypt_bytes(encode_message("Tôi gửi thêm biên bản họp", []), [recipient])
    sent = browser.client.post(
        "/api/v1/followup/messages",
        data={"message": (io.BytesIO(body), "message.age"), **browser.solved_challenge()},
        content_type="multipart/form-data",
        headers={"X-CSRFToken": browser.token},
    )
    assert sent.status_code == 201, sent.get_json()


# -- cheap refusals spend nothing ------------------------------------------------------------


def test_posts_without_csrf_token_lock_nobody_out(app: Flask) -> None:
    """The issue's loop: 60 POST /followup without a CSRF token used to answer "busy"
    to every reporter for a minute."""
    reporter = _client(app)
    receipt = receipt_from(send_report(reporter))
    flood = app.test_client()
    for path in ("/followup", "/followup/message", "/report"):
        for _ in range(JUNK):
            assert flood.post(path, data={"receipt": receipt}).status_code == 400
    assert open_case(reporter, receipt).status_code == 303
    assert reporter.get("/followup/case").status_code == 200


def test_typos_in_receipts_spend_nothing(app: Flask) -> None:
    reporter = _client(app)
    receipt = receipt_from(send_report(reporter))
    typo = receipt[:-1] + str((int(receipt[-1]) + 1) % 10)
    flood = _client(app)
    for bad in (typo, "1234", "abcd efgh", ""):
        for _ in range(JUNK // 4):
            assert open_case(flood, bad).status_code == 400
    assert open_case(reporter, receipt).status_code == 303


def test_wrong_receipts_spend_the_receipt_budget(app: Flask) -> None:
    """Positive control of the test above: a well-formed receipt costs an Argon2id run,
    so it does spend, and the budget then refuses."""
    flood = _client(app)
    for _ in range(LIMIT):
        assert open_case(flood, new_receipt()).status_code == 400
    busy = open_case(flood, new_receipt())
    assert busy.status_code == 429
    assert "Hiện có quá nhiều yêu cầu" in busy.get_data(as_text=True)


def test_fetching_submission_info_spends_nothing(app: Flask, database: Database) -> None:
    flood = _client(app)
    for _ in range(JUNK):
        assert flood.get("/api/v1/submission").status_code == 200
        assert flood.get("/api/v1/challenge").status_code == 200
    _js_report(_browser(app))
    assert _cases(database) == 1


def test_garbage_proofs_and_replayed_tickets_spend_nothing(app: Flask, database: Database) -> None:
    attacker = _browser(app)
    used = _js_report(attacker)  # one real report (one unit of the JS budget)
    info = attacker.get_info()
    for _ in range(JUNK // 3):
        garbage = attacker.client.post(
            "/api/v1/tickets",
            json={"pow_challenge": info["pow"]["challenge"], "pow_nonce": "not-solved"},
            headers={"X-CSRFToken": attacker.token},
        )
        assert garbage.status_code == 400
        forged = attacker.client.post(
            "/api/v1/tickets",
            json={"pow_challenge": "A" * 56, "pow_nonce": "1"},
            headers={"X-CSRFToken": attacker.token},
        )
        assert forged.status_code == 400
        replay = attacker.post_report(encrypted_report(info, used))
        assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_ticket"
    _js_report(_browser(app))  # the second unit: still there
    assert _cases(database) == 2


def test_a_used_form_token_and_invalid_answers_spend_nothing(
    app: Flask, database: Database
) -> None:
    reporter = _client(app)
    form = reporter.hidden_fields("/report")
    assert reporter.post("/report", data={**form, **report_answers()}).status_code == 200
    for _ in range(JUNK // 2):
        again = reporter.post("/report", data={**form, **report_answers()})
        assert again.status_code == 409  # "already sent", not stored again
        missing = send_report(reporter, answers=report_answers(summary=""))
        assert missing.status_code == 400
    assert send_report(reporter).status_code == 200
    assert _cases(database) == 2


# -- a busy refusal stores nothing ----------------------------------------------------------


def test_a_busy_form_stores_nothing_and_can_be_sent_again(
    app: Flask, database: Database, settings: Settings
) -> None:
    reporter = _client(app)
    for _ in range(LIMIT):
        assert send_report(reporter, files=[ATTACHMENT]).status_code == 200
    files = _stored_files(settings)
    form = reporter.hidden_fields("/report")
    data = {**form, **report_answers(), "attachments": [(io.BytesIO(ATTACHMENT[0]), ATTACHMENT[1])]}
    busy = reporter.post("/report", data=data, content_type="multipart/form-data")
    assert busy.status_code == 429
    assert int(busy.headers["Retry-After"]) >= 1
    assert _cases(database) == LIMIT
    assert _stored_files(settings) == files  # the encrypted upload was discarded
    assert not any((settings.blob_path / "tmp").glob("*"))
    # The reporter goes back and sends the same page again once the minute has passed:
    # its one-time token was not spent by the refusal.
    _next_window(settings)
    data["attachments"] = [(io.BytesIO(ATTACHMENT[0]), ATTACHMENT[1])]
    again = reporter.post("/report", data=data, content_type="multipart/form-data")
    assert again.status_code == 200 and receipt_from(again)
    assert _cases(database) == LIMIT + 1


def test_a_busy_message_stores_nothing(app: Flask, database: Database, settings: Settings) -> None:
    reporter = _client(app)
    receipt = receipt_from(send_report(reporter))
    assert open_case(reporter, receipt).status_code == 303
    for _ in range(LIMIT - 1):
        sent = reporter.submit(
            "/followup/case", {"body": "Thêm chi tiết"}, action="/followup/message"
        )
        assert sent.status_code == 303
    files = _stored_files(settings)
    busy = reporter.submit(
        "/followup/case",
        {"body": "Thêm tệp", "attachments": [(io.BytesIO(ATTACHMENT[0]), ATTACHMENT[1])]},
        action="/followup/message",
        content_type="multipart/form-data",
    )
    assert busy.status_code == 429
    assert _stored_files(settings) == files
    assert not any((settings.blob_path / "tmp").glob("*"))
    with database.read_session() as db:
        assert db.scalar(select(func.count()).select_from(Blob)) == 1 + (LIMIT - 1)


def test_a_busy_api_message_stores_nothing(
    app: Flask, database: Database, settings: Settings
) -> None:
    browser = _browser(app)
    ticket = _js_report(browser)  # one unit of the JS budget (the ticket's)
    opened = browser.client.post(
        "/api/v1/followup/open",
        json={"receipt": ticket["receipt"], **browser.solved_challenge()},
        headers={"X-CSRFToken": browser.token},
    )
    assert opened.status_code == 200  # the second
    browser.ticket(browser.get_info())  # the third
    with database.read_session() as db:
        recipient = Recipient.parse(db.scalars(select(Case.case_recipient)).one())
    files = _stored_files(settings)
    busy = browser.client.post(
        "/api/v1/followup/messages",
        data={
            "message": (io.BytesIO(encrypt_bytes(b"x" * 2048, [recipient])), "m.age"),
            "attachment": (io.BytesIO(encrypt_bytes(ATTACHMENT[0], [recipient])), "a.age"),
            **browser.solved_challenge(),
        },
        content_type="multipart/form-data",
        headers={"X-CSRFToken": browser.token},
    )
    assert busy.status_code == 429 and busy.get_json()["error"] == "busy"
    assert _stored_files(settings) == files
    assert not any((settings.blob_path / "tmp").glob("*"))


# -- separate budgets ------------------------------------------------------------------------


def test_a_no_javascript_flood_leaves_the_javascript_path_open(
    app: Flask, database: Database
) -> None:
    flood = _client(app)
    for _ in range(LIMIT):
        assert send_report(flood).status_code == 200
        assert open_case(flood, new_receipt()).status_code == 400  # wrong: spends
    # Both no-JavaScript budgets are exhausted...
    assert send_report(flood).status_code == 429
    assert open_case(flood, new_receipt()).status_code == 429
    # ...and a reporter with JavaScript still submits and follows up.
    browser = _browser(app)
    ticket = _js_report(browser)
    _js_follow_up(browser, ticket["receipt"], database)
    assert _cases(database) == LIMIT + 1


def test_a_javascript_flood_leaves_the_forms_open(app: Flask, database: Database) -> None:
    attacker = _browser(app)
    for _ in range(LIMIT):
        info = attacker.get_info()
        attacker.ticket(info)
    info = attacker.get_info()
    pow_ = info["pow"]
    from app.cases.pow import solve

    busy = attacker.client.post(
        "/api/v1/tickets",
        json={"pow_challenge": pow_["challenge"], "pow_nonce": solve(pow_["challenge"], 4)},
        headers={"X-CSRFToken": attacker.token},
    )
    assert busy.status_code == 429
    reporter = _client(app)
    receipt = receipt_from(send_report(reporter))
    assert open_case(reporter, receipt).status_code == 303


def test_budgets_are_sized_separately(env: dict[str, str], database: Database) -> None:
    settings = load_settings(
        {
            **env,
            "LIEMCHINH_RATE_LIMIT_FORMS": "1 per hour",
            "LIEMCHINH_RATE_LIMIT_RECEIPTS": "1 per hour",
        }
    )
    from app.factory import create_intake_app

    app = create_intake_app(settings, database)
    app.testing = True
    app.test_client_class = CsrfClient
    client = _client(app)
    assert send_report(client).status_code == 200
    assert send_report(client).status_code == 429
