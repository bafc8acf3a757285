"""Designating an identity custodian is an access change (issue 13 §2): one admin asks,
a second approves; only then is the reviewer a custodian. Removal is immediate."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.database import Database
from app.models import AccessChangeRequest, UnitCustodian
from tests.review.conftest import StaffFactory, audit_actions


def _custodians(database: Database) -> list[int]:
    with database.read_session() as db:
        return list(db.scalars(select(UnitCustodian.reviewer_id)))


def test_a_custodian_takes_two_administrators(database: Database, staff: StaffFactory) -> None:
    first = staff("quan-tri-an", "intake", role="admin")
    second = staff("quan-tri-binh", "intake", role="admin")
    head = staff("truong-phong-hung", "intake", logged_in=False)
    asked = first.post(
        "/admin/custodians/request",
        {"username": head.username, "unit": "intake", "reason": "Trưởng phòng tiếp nhận"},
    )
    assert asked.status_code == 303, asked.get_data(as_text=True)[:1500]
    assert _custodians(database) == []  # asked is not done
    with database.read_session() as db:
        request_id = db.scalars(select(AccessChangeRequest.id)).one()
    own = first.post(f"/admin/access/{request_id}/approve")
    assert own.status_code == 400
    assert _custodians(database) == []
    page = second.client.get("/admin/access").get_data(as_text=True)
    assert "Identity custodian of a unit" in page
    assert second.post(f"/admin/access/{request_id}/approve").status_code == 303
    assert _custodians(database) == [head.id]
    actions = audit_actions(database)
    assert {"access_change.requested", "access_change.approved", "custodian.designated"} <= set(
        actions
    )
    listing = first.client.get("/admin/custodians").get_data(as_text=True)
    assert head.username in listing
    remove = re.search(r'action="(/admin/custodians/\d+/\d+/remove)"', listing)
    assert remove
    assert first.post(remove.group(1)).status_code == 303
    assert _custodians(database) == []
    assert "custodian.removed" in audit_actions(database)


def test_only_a_member_of_the_unit_can_be_asked_for(
    database: Database, staff: StaffFactory
) -> None:
    first = staff("quan-tri-an", "intake", role="admin")
    outsider = staff("thanh-tra-vien-dung", "inspection", logged_in=False)
    response = first.post(
        "/admin/custodians/request",
        {"username": outsider.username, "unit": "intake", "reason": "Nhầm đơn vị"},
    )
    assert response.status_code == 400
    with database.read_session() as db:
        assert db.scalars(select(AccessChangeRequest)).all() == []
