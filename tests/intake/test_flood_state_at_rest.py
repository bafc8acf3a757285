"""What flood control leaves at rest: no time of day of a reporter's action.

Challenges, tickets and rate-limit counters used to be rows with exact expiry and use
times (``pow_challenges``, ``submission_tickets``, ``rate_limit_counters``), copied into
the WAL and every backup. Now challenges and tickets are sealed tokens held only by the
browser, a spent challenge is a hash and a calendar day, and counters live in the
volatile folder. The test drives both paths (report, opening the case, a message with a
file, a refused "busy" request) and then reads the database.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import inspect, select, text

from app.database import Database
from app.models import Case, SpentPowChallenge
from app.web.ratelimit import COUNTERS_FILE
from config import Settings
from crypto import Recipient, encrypt_bytes
from tests.conftest import CsrfClient
from tests.factories import ReviewerKeys, open_case, receipt_from, send_report
from tests.intake.test_api import BrowserSession, encrypted_report

OLD_TABLES = {"pow_challenges", "submission_tickets", "rate_limit_counters"}


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "LIEMCHINH_RATE_LIMIT_RECEIPTS": "1 per minute"}


@pytest.mark.both_backends
def test_flood_control_leaves_only_days_at_rest(
    intake_app: Flask,
    intake_reviewer: ReviewerKeys,
    database: Database,
    settings: Settings,
) -> None:
    intake_app.test_client_class = CsrfClient
    client = intake_app.test_client()
    assert isinstance(client, CsrfClient)
    browser = BrowserSession(client, client.csrf_token("/report"))
    # The JavaScript path: ticket, report, open with proof of work, message with a file.
    info = browser.get_info()
    ticket = browser.ticket(info)
    report = encrypted_report(info, ticket, files=[b"%PDF bien ban hop"])
    assert browser.post_report(report).status_code == 201
    opened = client.post(
        "/api/v1/followup/open",
        json={"receipt": ticket["receipt"], **browser.solved_challenge()},
        headers={"X-CSRFToken": browser.token},
    )
    assert opened.status_code == 200
    with database.read_session() as db:
        recipient = Recipient.parse(db.scalars(select(Case.case_recipient)).one())
    sent = client.post(
        "/api/v1/followup/messages",
        data={
            "message": (io.BytesIO(encrypt_bytes(b'{"version":1}', [recipient])), "m.age"),
            "attachment": (io.BytesIO(encrypt_bytes(b"%PDF", [recipient])), "a.age"),
            **browser.solved_challenge(),
        },
        content_type="multipart/form-data",
        headers={"X-CSRFToken": browser.token},
    )
    assert sent.status_code == 201, sent.get_json()
    # The no-JavaScript path: form, receipt, message with "biên bản họp.pdf", and a
    # receipt check refused as busy (its budget is 1 per minute here).
    plain = intake_app.test_client()
    assert isinstance(plain, CsrfClient)
    receipt = receipt_from(send_report(plain, files=[(b"%PDF", "biên bản họp.pdf")]))
    assert open_case(plain, receipt).status_code == 303
    message = plain.submit(
        "/followup/case",
        {"body": "Thêm tài liệu", "attachments": [(io.BytesIO(b"%PDF"), "biên bản họp.pdf")]},
        action="/followup/message",
        content_type="multipart/form-data",
    )
    assert message.status_code == 303
    assert open_case(intake_app.test_client(), receipt).status_code == 429  # type: ignore[arg-type]

    tables = set(inspect(database.engine).get_table_names())
    assert tables.isdisjoint(OLD_TABLES)
    assert "cases" in tables  # the inspection sees the real schema
    columns = {
        c["name"]: c["type"]
        for c in inspect(database.engine).get_columns(SpentPowChallenge.__tablename__)
    }
    assert set(columns) == {"challenge_hash", "day"}
    with database.read_session() as db:
        rows = db.execute(select(SpentPowChallenge.challenge_hash, SpentPowChallenge.day)).all()
        # Read raw, as a copy of the database would be: a date, no time in it.
        raw_days = db.execute(text("SELECT day FROM spent_pow_challenges")).scalars().all()
    assert len(rows) == 3  # ticket, opening, message: one row each
    assert all(type(day) is date for _, day in rows)
    for value in raw_days:
        assert ":" not in str(value), value
    # The tokens themselves were never written, nor the counters.
    if settings.database_url.startswith("sqlite"):
        dump = b"".join(
            p.read_bytes() for p in settings.instance_path.glob("liemchinh.sqlite3*") if p.is_file()
        )
        with database.read_session() as db:
            reference = db.scalars(select(Case.reference)).first()
        assert reference is not None and reference.encode() in dump  # positive control
        for token in (ticket["ticket"], info["pow"]["challenge"], "LIMITER/global"):
            assert token.encode() not in dump
    assert (settings.volatile_path / COUNTERS_FILE).exists()
    assert not settings.volatile_path.is_relative_to(settings.instance_path)
