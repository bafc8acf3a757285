"""The case file for the paper record: a decrypted PDF, confidential on every page,
stamped with who exported it, audited, and only for someone who may read the case."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app import clock
from app.database import Database
from app.models import AuditEvent, RecoveryEntry
from app.web.dates import format_day
from config import Settings
from tests.browser.conftest import stored_files
from tests.conftest import CsrfClient
from tests.factories import (
    hold_case,
    insert_links,
    insert_outcome,
    insert_referral,
    open_case,
    send_protection_request,
)
from tests.review.conftest import ReportFactory, StaffFactory


def exports(database: Database, case_id: str) -> list[AuditEvent]:
    with database.read_session() as db:
        return list(
            db.scalars(
                select(AuditEvent).where(
                    AuditEvent.case_id == case_id, AuditEvent.action == "case.file_exported"
                )
            )
        )


def test_case_file_is_the_decrypted_case_marked_and_audited(
    staff: StaffFactory, report: ReportFactory, database: Database, settings: Settings
) -> None:
    reader = staff("tran-van-duc", "intake")
    sent = report(attachment=True)
    reader.client.get("/?lang=vi")
    reply = "Cơ quan đã nhận phản ánh về Ủy ban phường; xin bổ sung biên bản họp."
    replied = reader.client.submit(
        f"/cases/{sent.case_id}", {"message": reply}, action=f"/cases/{sent.case_id}/reply"
    )
    assert replied.status_code == 303

    response = reader.client.submit(
        f"/cases/{sent.case_id}", {}, action=f"/cases/{sent.case_id}/case-file"
    )
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    pdf = PdfReader(io.BytesIO(response.get_data()))
    pages = [page.extract_text() for page in pdf.pages]
    text = "\n".join(pages)
    assert sent.canary in text and sent.reference in text
    assert "Ông A đòi 20 triệu đồng" in text  # Vietnamese letters survive
    assert reply in text.replace("\n", " ")
    assert sent.attachment_name is not None and sent.attachment_name in text
    for page in pages:  # a single page found on a desk still says what it is
        assert "MẬT" in page and "tran-van-duc" in page
    (event,) = exports(database, sent.case_id)
    assert event.actor == f"reviewer:{reader.id}"

    # Built in memory: the decrypted text is in the PDF but in no file on disk.
    assert not [p for p, data in stored_files(settings).items() if sent.canary.encode() in data]


def test_someone_who_cannot_read_the_case_gets_nothing(
    staff: StaffFactory, report: ReportFactory, database: Database
) -> None:
    outsider = staff("le-thi-hoa", "inspection")
    sent = report()
    response = outsider.client.submit("/inbox", {}, action=f"/cases/{sent.case_id}/case-file")
    assert response.status_code == 404
    assert sent.canary not in response.get_data(as_text=True)
    assert exports(database, sent.case_id) == []


AGENCY = "Cơ quan CSĐT Công an TP Cần Thơ"
RECOVERY_NOTE = "Đã thu hồi tại Sở Tài nguyên và Môi trường"
CORRECTION_NOTE = "Sửa số tiền nhập nhầm ở bút toán trước"
PROTECTION_TEXT = "Tôi bị Ủy ban phường đe dọa trả thù sau khi tố cáo; xin bảo vệ."


@pytest.fixture
def env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """An agency list naming the Cần Thơ police investigation agency as the brief does."""
    agencies = tmp_path / "cơ quan điều tra.toml"
    agencies.write_text(
        f'[csdt_ct]\nname_vi = "{AGENCY}"\nname_en = "Cần Thơ police investigation agency"\n',
        encoding="utf-8",
    )
    return {**env, "LIEMCHINH_REFERRAL_AGENCIES_FILE": str(agencies)}


def _pdf_text(response: Any) -> str:
    assert response.status_code == 200
    pdf = PdfReader(io.BytesIO(response.get_data()))
    return "\n".join(page.extract_text() for page in pdf.pages)


def _ledger_ids(database: Database, case_id: str) -> list[int]:
    with database.read_session() as db:
        return list(
            db.scalars(
                select(RecoveryEntry.id)
                .where(RecoveryEntry.case_id == case_id)
                .order_by(RecoveryEntry.id)
            )
        )


@pytest.mark.both_backends
def test_case_file_holds_referral_outcome_ledger_links_and_protection(
    staff: StaffFactory,
    report: ReportFactory,
    database: Database,
    intake_client: CsrfClient,
) -> None:
    reader = staff("nguyen-thi-ngoc", "intake")
    sent = report()
    readable = report()
    hidden = report()
    hold_case(database, hidden.case_id, "inspection")  # the reader cannot read it
    insert_links(database, [(sent.case_id, readable.case_id), (sent.case_id, hidden.case_id)])

    today = clock.today()
    insert_referral(
        database,
        sent.case_id,
        today,
        agency="csdt_ct",
        dispatch_number="125/TTr-NV",
        procuracy_notified_day=today,
        result="prosecuted",
        result_day=today,
    )
    insert_outcome(
        database,
        sent.case_id,
        today,
        found=1_250_000_000,
        recommended=900_000_000,
        sanctions=2,
        disciplines={"warning": 3},
    )
    assert open_case(intake_client, sent.receipt).status_code == 303
    assert send_protection_request(intake_client, PROTECTION_TEXT).status_code == 303

    page = f"/cases/{sent.case_id}"
    recovery = f"/cases/{sent.case_id}/recovery"
    entry = {"amount": "500.000.000", "note": RECOVERY_NOTE, "confirm": "yes"}
    assert reader.client.submit(page, entry, action=recovery).status_code == 303
    (first,) = _ledger_ids(database, sent.case_id)
    correction = {
        "amount": "-50.000.000",
        "note": CORRECTION_NOTE,
        "corrects": str(first),
        "confirm": "yes",
    }
    assert reader.client.submit(page, correction, action=recovery).status_code == 303

    reader.client.get("/?lang=vi")
    text = _pdf_text(reader.client.submit(page, {}, action=f"/cases/{sent.case_id}/case-file"))
    flat = " ".join(text.split())
    vi_day = format_day(today, "vi")

    assert AGENCY in flat and "125/TTr-NV" in flat
    assert "Khởi tố vụ án hình sự" in flat  # the result: prosecuted
    assert "1.250.000.000 ₫" in flat and "900.000.000 ₫" in flat
    assert "Cảnh cáo: 3" in flat
    assert RECOVERY_NOTE in flat and CORRECTION_NOTE in flat
    assert f"#{first}" in flat and "500.000.000 ₫" in flat
    assert "450.000.000 ₫" in flat  # the running total after the correction
    assert PROTECTION_TEXT in flat and vi_day in flat and "hạn trả lời" in flat
    # Related cases: the readable one is there (positive control), the hidden one is not.
    assert readable.reference in flat
    assert hidden.reference not in flat


def test_case_file_in_english_formats_amounts_as_the_case_page_does(
    staff: StaffFactory, report: ReportFactory, database: Database
) -> None:
    reader = staff("tran-minh-duc", "intake")
    sent = report()
    insert_outcome(database, sent.case_id, clock.today(), found=1_250_000_000)
    reader.client.get("/?lang=en")
    text = _pdf_text(
        reader.client.submit(
            f"/cases/{sent.case_id}", {}, action=f"/cases/{sent.case_id}/case-file"
        )
    )
    flat = " ".join(text.split())
    assert "Outcome and recovery" in flat and "1,250,000,000 ₫" in flat
    assert "Referral to the investigation agency" in flat
