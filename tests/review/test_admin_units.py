"""Admins add and rename units; a unit's kind cannot change under its cases."""

from __future__ import annotations

from sqlalchemy import select

from app.database import Database
from app.models import AuditEvent, Unit
from tests.review.conftest import ReportFactory, StaffFactory


def _unit(database: Database, slug: str) -> Unit | None:
    with database.read_session() as db:
        return db.scalar(select(Unit).where(Unit.slug == slug))


def test_admin_adds_and_renames_a_unit(staff: StaffFactory, database: Database) -> None:
    admin = staff("root", "intake", role="admin")
    page = admin.client.get("/admin/units").get_data(as_text=True)
    assert "Thanh tra thành phố" in page and "age1" in page  # units and the recovery key
    added = admin.post(
        "/admin/units",
        {
            "slug": "inspection-ninh-kieu",
            "kind": "inspection",
            "name_vi": "Thanh tra quận Ninh Kiều",
            "name_en": "Ninh Kiều Inspectorate",
        },
    )
    assert added.status_code == 303
    assert _unit(database, "inspection-ninh-kieu") is not None
    renamed = admin.post(
        "/admin/units/inspection-ninh-kieu",
        {"kind": "investigation", "name_vi": "Đội điều tra", "name_en": "Investigation team"},
    )
    assert renamed.status_code == 303
    unit = _unit(database, "inspection-ninh-kieu")
    assert unit is not None and unit.kind == "investigation" and unit.name_vi == "Đội điều tra"
    with database.read_session() as db:
        actions = db.scalars(select(AuditEvent.action)).all()
    assert "unit.updated" in actions


def test_bad_unit_input_changes_nothing(staff: StaffFactory, database: Database) -> None:
    admin = staff("root", "intake", role="admin")
    response = admin.post(
        "/admin/units", {"slug": "Bad Slug!", "kind": "inspection", "name_vi": "x", "name_en": "x"}
    )
    assert response.status_code == 303
    follow = admin.client.get("/admin/units").get_data(as_text=True)
    assert "Tên ngắn" in follow or "Short name" in follow
    with database.read_session() as db:
        assert len(db.scalars(select(Unit)).all()) == 4


def test_kind_cannot_change_under_cases(
    staff: StaffFactory, report: ReportFactory, database: Database
) -> None:
    admin = staff("root", "intake", role="admin")
    report()
    response = admin.post(
        "/admin/units/intake",
        {"kind": "inspection", "name_vi": "Tổ tiếp nhận", "name_en": "Intake"},
    )
    assert response.status_code == 303
    unit = _unit(database, "intake")
    assert unit is not None and unit.kind == "intake"


def test_units_page_is_for_admins_only(staff: StaffFactory) -> None:
    reviewer = staff("alice", "intake")
    assert reviewer.client.get("/admin/units").status_code == 403
    assert (
        reviewer.post(
            "/admin/units", {"slug": "x-unit", "kind": "inspection", "name_vi": "x", "name_en": "x"}
        ).status_code
        == 403
    )
