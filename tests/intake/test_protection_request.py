"""A reporter asks for protection or reports retaliation from the follow-up page (issue
13 §5): on either track, without JavaScript and with it. The request is an encrypted
message flagged with its own due day; the reporter sees it flagged and the answer, in
Vietnamese and in English; its text is nowhere in clear at rest."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, update

from app import clock
from app.cases import unit_of_work
from app.cases.access import load_actor
from app.cases.legal_periods import protection_due
from app.cases.legal_process import protection_periods, work_calendar
from app.cases.payloads import pad
from app.cases.protection import answer_request
from app.database import Database
from app.models import Case, HeldAuditEvent, Message, ProtectionRequest
from app.storage import BlobStore
from app.web.dates import format_day
from config import Settings
from crypto import Recipient, encrypt_bytes
from tests.conftest import CsrfClient
from tests.factories import (
    ReviewerKeys,
    open_case,
    send_case,
    send_protection_request,
)
from tests.intake.test_canary import assert_nowhere, canary_file
from tests.intake.test_canary import spool_dir as spool_dir  # the fixture, re-exported
from tests.reliability.harness import solved_challenge

TEXT = "Tôi bị điều chuyển công tác sau khi tố cáo; trưởng phòng Đỗ Văn Đức đe doạ."
ANSWER = "Đã đề nghị Thủ trưởng cơ quan áp dụng biện pháp bảo vệ vị trí công tác."


def vi(day: date) -> str:
    return format_day(day, "vi")


def en(day: date) -> str:
    return format_day(day, "en")


def _answer(database: Database, settings: Settings, who: ReviewerKeys, case_id: str) -> None:
    with unit_of_work.transaction(database.sessionmaker) as db:
        request_id = db.scalars(
            select(ProtectionRequest.message_id).where(ProtectionRequest.case_id == case_id)
        ).one()
        case = db.get(Case, case_id)
        assert case is not None
        actor = load_actor(db, who.id, who.identity)
        answer_request(db, BlobStore(settings.blob_path), actor, case, request_id, ANSWER)


@pytest.mark.both_backends
@pytest.mark.parametrize("track", ["anonymous", "named"])
def test_protection_request_reaches_the_thread_flagged_with_its_due_day(
    track: str,
    intake_client: CsrfClient,
    intake_reviewer: ReviewerKeys,
    database: Database,
    settings: Settings,
) -> None:
    sent = send_case(intake_client, database)
    if track == "named":
        with database.session() as db:
            db.execute(update(Case).where(Case.id == sent.case_id).values(track="named"))
    assert open_case(intake_client, sent.receipt).status_code == 303

    # An ordinary message first: the positive control for "flagged".
    plain = intake_client.post(
        "/followup/message",
        data={**intake_client.hidden_fields("/followup/case"), "body": "Tin nhắn thường."},
        content_type="multipart/form-data",
    )
    assert plain.status_code == 303
    filed = send_protection_request(intake_client, TEXT, [(b"%PDF-1.4 qd", "quyết định.pdf")])
    assert filed.status_code == 303

    today = clock.today()
    due = protection_due(today, work_calendar(), protection_periods())
    with database.read_session() as db:
        (request,) = db.scalars(select(ProtectionRequest)).all()
        assert request.case_id == sent.case_id
        assert (request.filed_day, request.due_day) == (today, due)
        assert request.answered_at is None
        assert len(db.scalars(select(Message).where(Message.case_id == sent.case_id)).all()) == 2
        held = db.scalars(select(HeldAuditEvent.action)).all()
    assert "protection.requested" in held  # a reporter's event waits for the day's end

    page = intake_client.get("/followup/case?lang=vi").get_data(as_text=True)
    assert TEXT in page and "quyết định.pdf" in page
    assert page.count("Yêu cầu bảo vệ / báo bị trù dập, trả thù ·") == 1
    assert f"hạn trả lời: {vi(due)}" in page
    english = intake_client.get("/followup/case?lang=en").get_data(as_text=True)
    assert "Protection request / report of retaliation" in english
    assert f"answer due by {en(due)}" in english
    intake_client.get("/followup/case?lang=vi")

    _answer(database, settings, intake_reviewer, sent.case_id)
    page = intake_client.get("/followup/case?lang=vi").get_data(as_text=True)
    assert ANSWER in page
    assert f"đã trả lời ngày {vi(clock.today())}" in page
    assert f"Trả lời yêu cầu bảo vệ của bạn ngày {vi(today)}" in page
    english = intake_client.get("/followup/case?lang=en").get_data(as_text=True)
    assert f"Answer to your protection request of {en(today)}" in english
    assert "answer due by" not in english


@pytest.mark.both_backends
def test_protection_request_with_javascript(
    intake_client: CsrfClient, database: Database, settings: Settings
) -> None:
    sent = send_case(intake_client, database)
    assert open_case(intake_client, sent.receipt).status_code == 303
    with database.read_session() as db:
        recipient = Recipient.parse(db.get(Case, sent.case_id).case_recipient)  # type: ignore[union-attr]
    payload = {"version": 1, "text": TEXT, "attachments": [], "after": None}
    body = encrypt_bytes(pad(json.dumps(payload, ensure_ascii=False).encode()), [recipient])
    token = intake_client.csrf_token("/followup/case")
    posted = intake_client.post(
        "/api/v1/followup/messages",
        data={
            "message": (io.BytesIO(body), "message.age"),
            "protection": "yes",
            **solved_challenge(intake_client),
        },
        content_type="multipart/form-data",
        headers={"X-CSRFToken": token},
    )
    assert posted.status_code == 201, posted.get_json()
    with database.read_session() as db:
        (request,) = db.scalars(select(ProtectionRequest)).all()
    assert request.case_id == sent.case_id and request.filed_day == clock.today()
    page = intake_client.get("/followup/case").get_data(as_text=True)
    assert TEXT in page and "Yêu cầu bảo vệ / báo bị trù dập, trả thù ·" in page


def test_an_empty_request_is_refused_and_changes_nothing(
    intake_client: CsrfClient, database: Database
) -> None:
    sent = send_case(intake_client, database)
    assert open_case(intake_client, sent.receipt).status_code == 303
    refused = send_protection_request(intake_client, "   ")
    assert refused.status_code == 400
    assert "Vui lòng viết tin nhắn hoặc đính kèm tệp." in refused.get_data(as_text=True)
    with database.read_session() as db:
        assert db.scalars(select(ProtectionRequest)).all() == []
        assert db.scalars(select(Message)).all() == []


def test_protection_request_text_is_nowhere_in_clear(
    intake_client: CsrfClient,
    intake_reviewer: ReviewerKeys,
    database: Database,
    settings: Settings,
    spool_dir: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    import logging
    import secrets

    canary = f"CANARY-{secrets.token_hex(16)}"
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")
    sent = send_case(intake_client, database, attachment=True)
    assert open_case(intake_client, sent.receipt).status_code == 303
    filed = send_protection_request(
        intake_client,
        f"Bị trả thù: {canary}",
        [(canary_file(canary), f"bằng-chứng-{canary}.pdf")],
    )
    assert filed.status_code == 303
    # Positive control: the canary is real, stored data the reporter reads back.
    page = intake_client.get("/followup/case").get_data(as_text=True)
    assert f"Bị trả thù: {canary}" in page and f"bằng-chứng-{canary}.pdf" in page
    with database.read_session() as db:
        assert db.scalars(select(ProtectionRequest)).all() != []
    assert_nowhere(
        canary,
        database=database,
        settings=settings,
        spool_dir=spool_dir,
        caplog=caplog,
        capfd=capfd,
    )
