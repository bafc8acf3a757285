"""Issue 14 on the case page: routing to the investigation unit records the referral
(agency, dispatch, BLTTHS art. 147 due day), the inbox and the case page show when the
agency's result is overdue, the investigation unit records the result; closing records
the outcome figures in đồng, refused with a clear message and nothing changed when they
are wrong; the recovery ledger is added to and corrected, never edited."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app import clock
from app.cases import referrals
from app.database import Database
from app.models import AuditEvent, CaseOutcome, RecoveryEntry, Referral
from app.web.dates import format_day
from tests.conftest import CsrfClient
from tests.factories import Report, Staff
from tests.review.conftest import ReportFactory, StaffFactory, case_state

AGENCY_VI = "Cơ quan Cảnh sát điều tra Công an TP Cần Thơ"
AGENCY_EN = "Criminal Police Investigation Agency, Cần Thơ City Police"
NOTE = "Đã thu hồi tại Sở Tài nguyên và Môi trường"


class Clock:
    """The app's day, moved by the test (the case arrives on the real local day)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.day = clock.today()
        monkeypatch.setattr(clock, "today", lambda: self.day)


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def page(client: CsrfClient, path: str, lang: str = "vi") -> str:
    return str(client.get(f"{path}?lang={lang}").get_data(as_text=True))


def flashed(response: Any, who: Staff) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    return str(who.client.get(response.headers["Location"]).get_data(as_text=True))


def vietnamese(who: Staff) -> Staff:
    """The session remembers the language chosen with ``?lang=``."""
    assert who.client.get("/inbox?lang=vi").status_code == 200
    return who


def vi(day: date) -> str:
    return format_day(day, "vi")


def count(database: Database, model: Any) -> int:
    with database.read_session() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def refer(who: Staff, sent: Report, day: date) -> Any:
    return who.post(
        f"/cases/{sent.case_id}/route",
        {
            "unit": "investigation",
            "reason": "Có dấu hiệu tội tham ô tài sản",
            "agency": "csdt_can_tho",
            "dispatch_number": "125/TTr-NV",
            "dispatch_day": day.isoformat(),
            "confirm": "yes",
        },
    )


def test_the_referral_on_the_pages_with_its_due_day_and_overdue_state(
    staff: StaffFactory, report: ReportFactory, database: Database, today: Clock
) -> None:
    đạt = vietnamese(staff("dat-tiep-nhan", "intake"))
    điều_tra = vietnamese(staff("dieu-tra-vien", "investigation"))
    sent = report()
    dispatched = today.day

    # Without the referral's facts, routing to investigation is refused, nothing changes.
    before = case_state(database, sent.case_id)
    refused = đạt.post(
        f"/cases/{sent.case_id}/route",
        {"unit": "investigation", "reason": "Có dấu hiệu tội phạm", "confirm": "yes"},
    )
    assert "hãy chọn cơ quan và ghi số, ngày công văn" in flashed(refused, đạt)
    assert case_state(database, sent.case_id) == before
    unknown = đạt.post(
        f"/cases/{sent.case_id}/route",
        {
            "unit": "investigation",
            "reason": "Có dấu hiệu tội phạm",
            "agency": "công-an-xã",
            "dispatch_number": "125/TTr-NV",
            "dispatch_day": dispatched.isoformat(),
            "confirm": "yes",
        },
    )
    assert "Hãy chọn cơ quan điều tra trong danh sách." in flashed(unknown, đạt)
    assert case_state(database, sent.case_id) == before

    assert refer(đạt, sent, dispatched).status_code == 303
    due = referrals.verification_due(dispatched)
    assert due == dispatched + timedelta(days=20)  # calendar days, art. 147(1)
    shown = page(điều_tra.client, f"/cases/{sent.case_id}")
    assert AGENCY_VI in shown and "125/TTr-NV" in shown and vi(due) in shown
    assert "deadline-open" in shown
    assert AGENCY_EN in page(điều_tra.client, f"/cases/{sent.case_id}", "en")
    inbox = page(điều_tra.client, "/inbox")
    assert vi(due) in inbox and "quá hạn" not in inbox.split("referral-due")[1][:200]

    today.day = due + timedelta(days=1)
    late = page(điều_tra.client, f"/cases/{sent.case_id}")
    assert "deadline-overdue" in late.split('id="referral"')[1][:3000]
    inbox = page(điều_tra.client, "/inbox")
    assert "referral-due deadline-overdue" in inbox

    # The agency's result, recorded by the investigation unit, ends the clock.
    result = điều_tra.post(
        f"/cases/{sent.case_id}/referral-result",
        {"result": "prosecuted", "day": today.day.isoformat(), "confirm": "yes"},
    )
    done = flashed(result, điều_tra)
    assert "deadline-met" in done.split('id="referral"')[1][:3000]
    assert "referral-due" not in page(điều_tra.client, "/inbox")
    with database.read_session() as db:
        referral = db.scalar(select(Referral))
        assert referral is not None and referral.result == "prosecuted"
        actions = db.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("referral.%"))
            .order_by(AuditEvent.seq)
        ).all()
    assert list(actions) == ["referral.sent", "referral.result_recorded"]


def test_closing_records_the_outcome_in_dong(
    staff: StaffFactory, report: ReportFactory, database: Database
) -> None:
    hùng = vietnamese(staff("hung-thanh-tra", "intake"))
    sent = report()
    path = f"/cases/{sent.case_id}"
    base = {"resolution": "substantiated", "confirm": "yes"}

    # Wrong amounts: a clear message in the reviewer's language, nothing changed.
    before = case_state(database, sent.case_id)
    for amount, words in [
        ("1,5", "không có phần thập phân"),
        ("-1.000.000", "không được âm"),
        ("99.999.999.999.999.999", "lớn hơn"),
        ("một tỷ", "không phải là số"),
    ]:
        shown = flashed(hùng.post(f"{path}/close", {**base, "damage_found": amount}), hùng)
        assert words in shown, (amount, shown[:3000])
        assert case_state(database, sent.case_id) == before
    hùng.client.get("/inbox?lang=en")
    english = flashed(hùng.post(f"{path}/close", {**base, "damage_found": "1,5"}), hùng)
    assert "Amounts are whole đồng, without decimals" in english
    vietnamese(hùng)
    # Figures need a founded conclusion; and the conclusion is never a default.
    shown = flashed(
        hùng.post(f"{path}/close", {**base, "resolution": "unsubstantiated", "damage_found": "5"}),
        hùng,
    )
    assert "có cơ sở" in shown and case_state(database, sent.case_id) == before
    shown = flashed(
        hùng.post(f"{path}/close", {**base, "resolution": "", "damage_found": "5"}), hùng
    )
    assert case_state(database, sent.case_id) == before and count(database, CaseOutcome) == 0

    closed = hùng.post(
        f"{path}/close",
        {
            **base,
            "damage_found": "1.250.000.000",
            "recovery_recommended": "900000000",
            "administrative_sanctions": "2",
            "discipline_warning": "3",
        },
    )
    shown = flashed(closed, hùng)
    assert "1.250.000.000\u00a0₫" in shown and "900.000.000\u00a0₫" in shown
    assert "Cảnh cáo: 3" in shown
    english = page(hùng.client, path, "en")
    assert "1,250,000,000\u00a0₫" in english
    with database.read_session() as db:
        outcome = db.scalar(select(CaseOutcome))
        assert outcome is not None and outcome.damage_found_vnd == 1_250_000_000


def test_the_ledger_is_added_to_and_corrected_never_edited(
    staff: StaffFactory, report: ReportFactory, database: Database
) -> None:
    hùng = vietnamese(staff("hung-thanh-tra", "intake"))
    sent = report()
    path = f"/cases/{sent.case_id}"
    added = hùng.post(f"{path}/recovery", {"amount": "300.000.000", "note": NOTE, "confirm": "yes"})
    shown = flashed(added, hùng)
    assert NOTE in shown and "300.000.000\u00a0₫" in shown
    with database.read_session() as db:
        first = db.scalar(select(RecoveryEntry.id))
    # Without the confirm box, or negative without naming the entry: nothing added.
    for data in (
        {"amount": "100.000.000", "note": NOTE},
        {"amount": "-100.000.000", "note": "Nhập sai", "confirm": "yes"},
        {"amount": "-400.000.000", "note": "Nhập sai", "corrects": str(first), "confirm": "yes"},
        {"amount": "12.5", "confirm": "yes"},
    ):
        flashed(hùng.post(f"{path}/recovery", data), hùng)
        assert count(database, RecoveryEntry) == 1, data
    corrected = hùng.post(
        f"{path}/recovery",
        {
            "amount": "-100.000.000",
            "corrects": str(first),
            "note": f"Bút toán #{first} ghi thừa 100 triệu",
            "confirm": "yes",
        },
    )
    shown = flashed(corrected, hùng)
    assert f"sửa bút toán #{first}" in shown or f"#{first}" in shown
    assert "200.000.000\u00a0₫" in shown  # the running total
    # There is no way to edit or delete an entry over HTTP.
    for action in ("recovery-edit", "recovery-delete"):
        assert hùng.post(f"{path}/{action}", {"entry": str(first)}).status_code == 404
    with database.read_session() as db:
        amounts = db.scalars(select(RecoveryEntry.amount_vnd).order_by(RecoveryEntry.id)).all()
    assert list(amounts) == [300_000_000, -100_000_000]
