"""Route, close and recuse cannot be undone by the reviewer: each needs its "I understand"
box ticked (no JavaScript needed), and closing has no preselected resolution. (A recovery
ledger entry is confirmed too: tests/review/test_referral_outcome_views.py.)"""

from __future__ import annotations

import pytest

from app.database import Database
from app.models import Case
from tests.review.conftest import ReportFactory, StaffFactory, audit_count


def state(database: Database, case_id: str) -> tuple[str, int, str | None]:
    with database.read_session() as db:
        case = db.get(Case, case_id)
        assert case is not None
        return case.status, case.holding_unit_id, case.resolution


@pytest.mark.parametrize(
    ("action", "form"),
    [
        ("route", {"unit": "inspection", "reason": "Thuộc thẩm quyền Thanh tra thành phố"}),
        ("close", {"resolution": "duplicate", "message": "Đã xử lý trong vụ việc khác"}),
        ("recuse", {}),
    ],
)
def test_without_the_confirmation_nothing_happens(
    staff: StaffFactory,
    report: ReportFactory,
    database: Database,
    action: str,
    form: dict[str, str],
) -> None:
    reader = staff("vo-thi-lan", "intake")
    reader.client.get("/?lang=vi")
    sent = report()
    page = reader.client.get(f"/cases/{sent.case_id}").get_data(as_text=True)
    # route, close, recuse, and the recovery ledger's entry
    assert page.count('name="confirm" value="yes" required') == 4
    before, events = state(database, sent.case_id), audit_count(database)

    refused = reader.post(f"/cases/{sent.case_id}/{action}", form)
    assert refused.status_code == 303
    shown = reader.client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Hãy đánh dấu ô xác nhận: bước này không thể hoàn tác." in shown
    assert state(database, sent.case_id) == before
    assert audit_count(database) == events + 1  # only the page view just above

    # Positive control: the same form with the box ticked acts.
    done = reader.post(f"/cases/{sent.case_id}/{action}", {**form, "confirm": "yes"})
    assert done.status_code == 303
    assert state(database, sent.case_id) != before or action == "recuse"
    if action == "recuse":
        assert reader.client.get(f"/cases/{sent.case_id}").status_code == 404


def test_closing_has_no_default_resolution(
    staff: StaffFactory, report: ReportFactory, database: Database
) -> None:
    reader = staff("vo-thi-lan", "intake")
    reader.client.get("/?lang=vi")
    sent = report()
    page = reader.client.get(f"/cases/{sent.case_id}").get_data(as_text=True)
    assert '<option value="" selected disabled>— chọn —</option>' in page
    before = state(database, sent.case_id)
    refused = reader.post(f"/cases/{sent.case_id}/close", {"resolution": "", "confirm": "yes"})
    shown = reader.client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Hãy chọn kết quả xử lý vụ việc: không có kết quả mặc định." in shown
    assert state(database, sent.case_id) == before
