"""Issue 13's done-when path, from the case page to the reporter's thread (the report
form's track choice is another helper's: the case is made named in the database): an
inspector accepts a named denunciation, the reporter sees the acceptance notice (a PDF)
and the resolution day; an extension moves the day and notifies; bad input changes
nothing; the office's DOCX is for readers of the case only; and the typed reason is
nowhere in clear at rest."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select, update

from app.cases import legal_process
from app.cases.legal_periods import resolution_due
from app.database import Database
from app.models import Case, CaseNotice
from app.web.dates import format_day
from config import Settings
from tests.cases.notices.readback import docx_text
from tests.conftest import CsrfClient
from tests.factories import Report, open_case
from tests.review.conftest import ReportFactory, StaffFactory, case_state

CONTENT = "Việc cấp phép xây dựng trên đường Nguyễn Văn Cừ, phường Ninh Kiều"
REASON = "LÝ-DO-GIA-HẠN: phải xác minh ở Cái Răng và Ô Môn; chứng cứ mâu thuẫn"


def dmy(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _named(database: Database, report: ReportFactory) -> tuple[Report, date]:
    sent = report()
    with database.session() as db:
        db.execute(update(Case).where(Case.id == sent.case_id).values(track="named"))
        received = db.scalars(select(Case.created_day).where(Case.id == sent.case_id)).one()
    return sent, received


def _flash(response: Any, client: CsrfClient) -> str:
    assert response.status_code == 303
    return str(client.get(response.headers["Location"]).get_data(as_text=True))


def _reporter_pdfs(intake_client: CsrfClient, sent: Report) -> list[str]:
    page = intake_client.get("/followup/case").get_data(as_text=True)
    texts = []
    for blob_id in _attachment_ids(page):
        response = intake_client.get(f"/followup/attachments/{blob_id}")
        assert response.status_code == 200
        reader = PdfReader(io.BytesIO(response.get_data()))
        texts.append(" ".join(p.extract_text() for p in reader.pages))
    return texts


def _attachment_ids(page: str) -> list[str]:
    import re

    return re.findall(r'/followup/attachments/([0-9a-f]+)"', page)


def test_accept_then_extend_reaches_the_reporter(
    staff: StaffFactory,
    report: ReportFactory,
    database: Database,
    intake_client: CsrfClient,
) -> None:
    đạt = staff("dat-tiep-nhan", "intake")
    sent, received = _named(database, report)
    today = received  # the case arrived today

    with database.read_session() as db:
        case = db.get(Case, sent.case_id)
        assert case is not None
        state = legal_process.statutory_state(case, today)
        assert state is not None and state.decision is None
    page = đạt.client.get(f"/cases/{sent.case_id}?lang=vi").get_data(as_text=True)
    assert f"Hạn thụ lý: {dmy(state.acceptance_due)}" in page
    assert "Hạn giải quyết" not in page  # no resolution clock before the acceptance

    accepted = đạt.post(
        f"/cases/{sent.case_id}/accept",
        {"day": today.isoformat(), "decision_number": "12/QĐ-TTr", "content": CONTENT},
    )
    shown = _flash(accepted, đạt.client)
    resolution = resolution_due(
        today, 0, (), legal_process.work_calendar(), legal_process.denunciation_periods()
    )
    assert f"Hạn giải quyết: {dmy(resolution)}" in shown and "Đã thụ lý ngày" in shown
    assert ".docx" in shown and "Hạn thụ lý:" not in shown
    inbox = đạt.client.get("/inbox?lang=vi").get_data(as_text=True)
    assert f"Hạn giải quyết: {dmy(resolution)}" in inbox

    # The reporter: the notice in the thread, the resolution day on the page.
    assert open_case(intake_client, sent.receipt).status_code == 303
    mine = intake_client.get("/followup/case").get_data(as_text=True)
    assert "thong-bao-thu-ly-to-cao.pdf" in mine
    assert f"Hạn giải quyết: {dmy(resolution)}" in mine
    (notice,) = _reporter_pdfs(intake_client, sent)
    assert "Về việc thụ lý tố cáo" in notice
    assert dmy(received) in notice and dmy(resolution) in notice
    assert "Nguyễn Văn Cừ" in notice
    assert sent.reference not in notice  # the office's mark stays off the reporter's copy

    # An extension moves the day and sends the decision.
    extended = đạt.post(
        f"/cases/{sent.case_id}/extend",
        {"reason": REASON, "criteria": ["several_places", "contradictory_evidence"]},
    )
    _flash(extended, đạt.client)
    later = resolution_due(
        today, 1, (), legal_process.work_calendar(), legal_process.denunciation_periods()
    )
    assert later > resolution
    assert f"Hạn giải quyết: {dmy(later)}" in intake_client.get("/followup/case").get_data(
        as_text=True
    )
    english = đạt.client.get(f"/cases/{sent.case_id}?lang=en").get_data(as_text=True)
    assert f"Resolution due: {format_day(later, 'en')}" in english
    theirs = intake_client.get("/followup/case?lang=en").get_data(as_text=True)
    assert f"Resolution due: {format_day(later, 'en')}" in theirs
    assert "extensions granted: 1" in theirs
    pdfs = _reporter_pdfs(intake_client, sent)
    assert len(pdfs) == 2
    assert "Về việc gia hạn giải quyết tố cáo" in pdfs[1] and dmy(later) in pdfs[1]
    assert "LÝ-DO-GIA-HẠN" in pdfs[1]

    # The conclusion: its notice, and the reporter's page says it was concluded.
    concluded = đạt.post(
        f"/cases/{sent.case_id}/conclude",
        {
            "day": today.isoformat(),
            "conclusion_number": "9/KL-TTr",
            "outcome": "Tố cáo đúng một phần: giấy phép cấp sai ở phường Ninh Kiều",
        },
    )
    assert f"Concluded on {format_day(today, 'en')}" in _flash(concluded, đạt.client)
    mine = intake_client.get("/followup/case?lang=vi").get_data(as_text=True)
    assert f"Đã có kết luận ngày {dmy(today)}" in mine and "Hạn giải quyết" not in mine
    last = _reporter_pdfs(intake_client, sent)[-1]
    assert "Về kết luận nội dung tố cáo" in last and "giấy phép cấp sai" in last


def test_bad_input_is_refused_in_words_and_changes_nothing(
    staff: StaffFactory, report: ReportFactory, database: Database
) -> None:
    đạt = staff("dat-tiep-nhan", "intake")
    sent, received = _named(database, report)
    before = case_state(database, sent.case_id)
    cases = [
        ("accept", {"day": "", "decision_number": "12/QĐ-TTr", "content": CONTENT}),
        ("accept", {"day": "31/02/2027", "decision_number": "12/QĐ-TTr", "content": CONTENT}),
        ("accept", {"day": received.isoformat(), "decision_number": "", "content": CONTENT}),
        ("refuse", {"reason": "   "}),
        ("transfer", {"authority": "", "reason": "Không thuộc thẩm quyền"}),
        ("extend", {"reason": REASON, "criteria": "several_places"}),  # not accepted yet
        ("accept", {"day": received.isoformat(), "decision_number": "1", "content": "x" * 5000}),
    ]
    for action, form in cases:
        response = đạt.post(f"/cases/{sent.case_id}/{action}", form)
        page = _flash(response, đạt.client)
        assert "flash-error" in page, (action, form)
        assert case_state(database, sent.case_id) == before, (action, form)
    with database.read_session() as db:
        assert db.scalars(select(CaseNotice)).all() == []


def test_second_acceptance_is_refused(
    staff: StaffFactory, report: ReportFactory, database: Database
) -> None:
    đạt = staff("dat-tiep-nhan", "intake")
    sent, received = _named(database, report)
    form = {"day": received.isoformat(), "decision_number": "12/QĐ-TTr", "content": CONTENT}
    _flash(đạt.post(f"/cases/{sent.case_id}/accept", form), đạt.client)
    before = case_state(database, sent.case_id)
    page = _flash(đạt.post(f"/cases/{sent.case_id}/accept", form), đạt.client)
    assert "flash-error" in page
    assert case_state(database, sent.case_id) == before


def test_anonymous_case_offers_no_statutory_action(
    staff: StaffFactory, report: ReportFactory, database: Database, intake_client: CsrfClient
) -> None:
    đạt = staff("dat-tiep-nhan", "intake")
    sent = report()
    page = đạt.client.get(f"/cases/{sent.case_id}").get_data(as_text=True)
    assert 'id="statutory"' not in page and "/accept" not in page
    named, _ = _named(database, report)
    assert 'id="statutory"' in đạt.client.get(f"/cases/{named.case_id}").get_data(as_text=True)
    # The inbox: the named case has its acceptance clock, the anonymous one none.
    inbox = đạt.client.get("/inbox?lang=vi").get_data(as_text=True)
    assert inbox.count("Hạn thụ lý:") == 1

    # Acknowledging anonymous information sends its system notice (art. 25), once.
    assert open_case(intake_client, sent.receipt).status_code == 303
    assert _reporter_pdfs(intake_client, sent) == []
    _flash(đạt.post(f"/cases/{sent.case_id}/acknowledge"), đạt.client)
    (notice,) = _reporter_pdfs(intake_client, sent)
    assert "THÔNG BÁO CỦA HỆ THỐNG" in notice


def test_docx_for_readers_only_and_the_reason_never_in_clear_at_rest(
    staff: StaffFactory,
    report: ReportFactory,
    database: Database,
    settings: Settings,
) -> None:
    đạt = staff("dat-tiep-nhan", "intake")
    outsider = staff("uy-dieu-tra", "investigation")
    sent, _received = _named(database, report)
    reason = "LÝ-DO-KHÔNG-THỤ-LÝ: đơn không nêu rõ người vi phạm"
    _flash(đạt.post(f"/cases/{sent.case_id}/refuse", {"reason": reason}), đạt.client)
    with database.read_session() as db:
        (notice_id,) = db.scalars(select(CaseNotice.id)).all()
    path = f"/cases/{sent.case_id}/notices/{notice_id}.docx"

    download = đạt.client.get(path)
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    text = docx_text(download.get_data())
    assert "LÝ-DO-KHÔNG-THỤ-LÝ" in text and sent.reference in text
    assert outsider.client.get(path).status_code == 404
    assert đạt.client.get(f"/cases/{sent.case_id}/notices/{notice_id + 1}.docx").status_code == 404

    # That DOCX is the positive control: the reason is in the notice's fields once
    # decrypted with the staff key (app.cases.legal_process.office_copy).

    # At rest: the database file and every blob file.
    needle = reason.encode()
    database_file = Path(settings.database_url.removeprefix("sqlite:///"))
    rest = [database_file, *database_file.parent.glob(database_file.name + "-*")]
    rest += [p for p in Path(settings.blob_path).rglob("*") if p.is_file()]
    assert len(rest) > 3
    for path_at_rest in rest:
        data = path_at_rest.read_bytes()
        assert needle not in data, path_at_rest
        assert reason.split(":")[0].encode("utf-16-le") not in data
