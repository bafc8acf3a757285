"""The inbox as a reviewer works from it (issue 15): summaries, search, bulk actions,
and the listing recorded once per session. The domain rules are tested in
tests/cases/test_inbox_reading.py; here the pages pass them through."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.cases import inbox_reading
from app.database import Database
from app.models import AuditEvent, Case, WebSession
from config import Settings
from tests.factories import login, review_test_client, submit_case
from tests.review.conftest import StaffFactory

LAND = "Cán bộ địa chính phường Hưng Lợi đòi tiền để cấp sổ đỏ"
SCHOOL = "Trường tiểu học Bình Thủy thu tiền ngoài quy định"


def _count(database: Database, action: str) -> int:
    with database.read_session() as db:
        return db.scalar(select(func.count()).where(AuditEvent.action == action)) or 0


def _references(database: Database, ids: list[str]) -> list[str]:
    with database.read_session() as db:
        return [db.get(Case, case_id).reference for case_id in ids]  # type: ignore[union-attr]


def test_summaries_for_readers_only(
    database: Database, settings: Settings, staff: StaffFactory
) -> None:
    reader = staff("tran.thi.thuy", "intake")
    outsider = staff("ly.van.dong", "inspection")
    land = submit_case(database, settings, summary=LAND).case_id
    [reference] = _references(database, [land])

    mine = reader.client.get("/inbox").get_data(as_text=True)
    theirs = outsider.client.get("/inbox").get_data(as_text=True)
    assert LAND in mine and reference in mine  # positive control
    assert LAND not in theirs and reference not in theirs
    # Track and category are in the row; the summary is never written anywhere.
    assert "Anonymous information" in mine and "Corruption" in mine
    on_disk = [f for f in settings.instance_path.rglob("*") if f.is_file()]
    assert on_disk and not [f for f in on_disk if "Hưng Lợi".encode() in f.read_bytes()]


def test_listing_is_recorded_once_per_session(
    database: Database, settings: Settings, staff: StaffFactory, review_app: object
) -> None:
    reader = staff("hoang.thi.loan", "intake")
    submit_case(database, settings, summary=LAND)
    assert _count(database, "inbox.listed") == 0
    for path in ("/inbox", "/inbox?status=new", "/inbox?overdue=1&sort=oldest", "/inbox?page=2"):
        assert reader.client.get(path).status_code == 200
    assert _count(database, "inbox.listed") == 1
    # A new login is a new session: recorded again, once.
    again = review_test_client(review_app)  # type: ignore[arg-type]
    assert login(again, database, reader.account).status_code == 302
    again.get("/inbox")
    again.get("/inbox?category=waste")
    assert _count(database, "inbox.listed") == 2


def test_search_text_stays_out_of_urls_and_the_log(
    database: Database, settings: Settings, staff: StaffFactory
) -> None:
    reader = staff("dinh.van.phuc", "intake")
    land, school = (
        submit_case(
            database, settings, summary=LAND, details="Ông Trần Văn Đức nhận tiền."
        ).case_id,
        submit_case(database, settings, summary=SCHOOL).case_id,
    )
    land_ref, school_ref = _references(database, [land, school])
    posted = reader.post("/inbox/search", {"q": "tran van duc", "status": "new"})
    assert posted.status_code == 303
    location = posted.headers["Location"]
    assert "status=new" in location and "tran" not in location.lower()
    page = reader.client.get(location).get_data(as_text=True)
    assert land_ref in page and school_ref not in page
    assert "Searched the reports of 2 case(s)" in page
    reader.client.get("/inbox?sort=oldest")  # the search is kept for the session
    assert _count(database, "inbox.searched") == 1
    with database.read_session() as db:
        details = " ".join(db.scalars(select(AuditEvent.details)).all())
        sessions = b"".join(db.scalars(select(WebSession.payload)).all())
    assert "tran" not in details.lower() and b"tran van duc" not in sessions
    # Cleared: every case again.
    cleared = reader.post("/inbox/search", {"q": "tran van duc", "clear": "1"})
    page = reader.client.get(cleared.headers["Location"]).get_data(as_text=True)
    assert land_ref in page and school_ref in page


def test_the_search_cap_is_said_on_the_page(
    database: Database,
    settings: Settings,
    staff: StaffFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reader = staff("mai.thi.xuan", "intake")
    submit_case(database, settings, summary=LAND)
    submit_case(database, settings, summary=SCHOOL)
    monkeypatch.setattr(inbox_reading, "SEARCH_CAP", 1)
    reader.post("/inbox/search", {"q": "sổ đỏ"})
    page = reader.client.get("/inbox?lang=vi").get_data(as_text=True)
    assert "1 vụ việc cũ hơn khớp bộ lọc chưa được tìm" in page
    assert "mỗi lần tìm chỉ đọc tối đa 1 phản ánh" in page
    assert "Tìm trong nội dung phản ánh" in page


def test_bulk_acknowledge_and_assign(
    database: Database, settings: Settings, staff: StaffFactory
) -> None:
    reader = staff("cao.thi.bich", "intake")
    colleague = staff("to.van.anh", "intake")
    ids = [submit_case(database, settings, summary=s).case_id for s in (LAND, SCHOOL)]
    done = reader.post("/inbox/bulk", {"action": "acknowledge", "case": ids, "status": "new"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/inbox?status=new")
    assert "2 case(s) acknowledged." in reader.client.get("/inbox").get_data(as_text=True)
    assert _count(database, "case.acknowledged") == 2

    assigned = reader.post(
        "/inbox/bulk", {"action": "assign", "case": ids, "assignee": str(colleague.id)}
    )
    assert assigned.status_code == 303
    assert "2 case(s) assigned." in reader.client.get("/inbox").get_data(as_text=True)
    with database.read_session() as db:
        assert {db.get(Case, c).assignee_id for c in ids} == {colleague.id}  # type: ignore[union-attr]


def test_bulk_refusal_names_the_case_and_changes_nothing(
    database: Database, settings: Settings, staff: StaffFactory
) -> None:
    reader = staff("bui.thi.gam", "intake")
    ids = [submit_case(database, settings, summary=s).case_id for s in (LAND, SCHOOL)]
    assert reader.post(f"/cases/{ids[1]}/acknowledge").status_code == 303
    before = _count(database, "case.acknowledged")
    reader.client.get("/inbox?lang=vi")  # the error is written in the reviewer's language
    refused = reader.post("/inbox/bulk", {"action": "acknowledge", "case": ids})
    assert refused.status_code == 303
    page = reader.client.get("/inbox").get_data(as_text=True)
    reference = _references(database, [ids[1]])[0]
    assert f"{reference}: " in page and "Không vụ việc nào đã chọn bị thay đổi." in page
    assert _count(database, "case.acknowledged") == before
    with database.read_session() as db:
        assert db.get(Case, ids[0]).status == "new"  # type: ignore[union-attr]
    # Nothing selected, or no action: a clear error, nothing done.
    reader.client.get("/inbox?lang=en")
    reader.post("/inbox/bulk", {"action": "acknowledge"})
    assert "Select at least one case." in reader.client.get("/inbox").get_data(as_text=True)
    reader.post("/inbox/bulk", {"action": "xóa", "case": ids})
    assert "Choose an action" in reader.client.get("/inbox").get_data(as_text=True)
    reader.post("/inbox/bulk", {"action": "assign", "case": ids, "assignee": ""})
    assert "Choose who the selected cases" in reader.client.get("/inbox").get_data(as_text=True)
    with database.read_session() as db:
        assert {db.get(Case, c).assignee_id for c in ids} == {None}  # type: ignore[union-attr]


def test_bulk_on_a_case_of_another_unit_is_refused(
    database: Database, settings: Settings, staff: StaffFactory
) -> None:
    staff("ngo.thi.man", "intake")  # the intake has a reader with a key
    outsider = staff("luu.van.tam", "inspection")
    case_id = submit_case(database, settings, summary=LAND).case_id
    outsider.post("/inbox/bulk", {"action": "acknowledge", "case": [case_id]})
    page = outsider.client.get("/inbox").get_data(as_text=True)
    assert "no longer in your inbox" in page
    assert _references(database, [case_id])[0] not in page
    with database.read_session() as db:
        assert db.get(Case, case_id).status == "new"  # type: ignore[union-attr]
