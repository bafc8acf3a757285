"""The case file for the paper record: a decrypted PDF, confidential on every page,
stamped with who exported it, audited, and only for someone who may read the case."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from app.database import Database
from app.models import AuditEvent
from config import Settings
from tests.browser.conftest import stored_files
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
