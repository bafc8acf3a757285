"""Opening a new case with ``LIEMCHINH_AUTO_ACKNOWLEDGE`` on: the view, the fixed message,
the transition and the "viewed" event land in the page's one commit; a blob store that
fails keeps nothing of the acknowledgment but still records the view."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.database import Database
from app.models import Case, Message
from app.storage import BlobStore, StorageError
from tests.review.conftest import ReportFactory, StaffFactory, audit_actions


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "LIEMCHINH_AUTO_ACKNOWLEDGE": "on"}


def _state(database: Database, case_id: str) -> tuple[str, list[str]]:
    with database.read_session() as db:
        case = db.get(Case, case_id)
        assert case is not None
        sides = list(db.scalars(select(Message.author_side).where(Message.case_id == case_id)))
        return case.status, sides


def test_the_first_view_acknowledges_in_one_commit(
    staff: StaffFactory, report: ReportFactory, database: Database
) -> None:
    hằng = staff("hang-tiep-nhan", "intake")
    sent = report()
    assert _state(database, sent.case_id) == ("new", [])

    first = hằng.client.get(f"/cases/{sent.case_id}")
    assert first.status_code == 303  # back to the page, with the notice
    # The fixed message and the information notice (anonymous information, art. 25).
    assert _state(database, sent.case_id) == ("triage", ["reviewer", "reviewer"])
    actions = audit_actions(database, sent.case_id)
    assert actions.count("case.viewed") == 1 and "message.to_reporter" in actions

    again = hằng.client.get(f"/cases/{sent.case_id}")
    assert again.status_code == 200
    assert "automatic acknowledgment" in again.get_data(as_text=True)
    assert _state(database, sent.case_id) == ("triage", ["reviewer", "reviewer"])  # once
    assert audit_actions(database, sent.case_id).count("case.viewed") == 2


def test_a_failing_store_keeps_no_acknowledgment_but_the_view(
    staff: StaffFactory,
    report: ReportFactory,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hằng = staff("hang-tiep-nhan", "intake")
    sent = report()

    def refuse(self: BlobStore, *args: Any, **kwargs: Any) -> Any:
        raise StorageError("đĩa đầy")

    monkeypatch.setattr(BlobStore, "create", refuse)
    page = hằng.client.get(f"/cases/{sent.case_id}")
    assert page.status_code == 200
    assert _state(database, sent.case_id) == ("new", [])
    actions = audit_actions(database, sent.case_id)
    assert actions.count("case.viewed") == 1
    assert "case.acknowledged" not in actions and "message.to_reporter" not in actions
