"""Inbox and case view say when a deadline is due soon or missed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.database import Database
from app.models import Case
from tests.review.conftest import ReportFactory, StaffFactory


def _set_ack_due(database: Database, case_id: str, days_from_today: int) -> None:
    today = datetime.now(UTC).date()
    with database.session() as db:
        db.execute(
            update(Case)
            .where(Case.id == case_id)
            .values(acknowledge_due=today + timedelta(days=days_from_today))
        )


def test_overdue_case_is_flagged_in_inbox_and_case_view(
    staff: StaffFactory, report: ReportFactory, database: Database
) -> None:
    reviewer = staff("hana", "intake")
    sent = report()
    _set_ack_due(database, sent.case_id, -1)
    inbox = reviewer.client.get("/inbox").get_data(as_text=True)
    assert "deadline-overdue" in inbox and "Overdue" in inbox
    assert sent.reference in reviewer.client.get("/inbox?overdue=1").get_data(as_text=True)
    page = reviewer.client.get(f"/cases/{sent.case_id}").get_data(as_text=True)
    assert "deadline-overdue" in page


def test_due_soon_and_on_time(
    staff: StaffFactory, report: ReportFactory, database: Database
) -> None:
    reviewer = staff("hana", "intake")
    sent = report()
    _set_ack_due(database, sent.case_id, 1)
    assert "Due soon" in reviewer.client.get("/inbox").get_data(as_text=True)
    _set_ack_due(database, sent.case_id, 6)
    inbox = reviewer.client.get("/inbox").get_data(as_text=True)
    assert "On time" in inbox
    assert sent.reference not in reviewer.client.get("/inbox?overdue=1").get_data(as_text=True)
