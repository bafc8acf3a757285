"""The reviewer's case page shows which units the reporter excluded, and why the case
cannot be routed when they excluded every route target."""

from __future__ import annotations

from app.database import Database
from config import Settings
from tests.factories import submit_case
from tests.review.conftest import StaffFactory


def test_the_case_page_names_the_exclusions_and_why_routing_is_unavailable(
    staff: StaffFactory, database: Database, settings: Settings
) -> None:
    reader = staff("pham-van-duc", "intake")
    reader.client.get("/?lang=vi")
    shut = submit_case(database, settings, excluded=("inspection", "investigation"))
    page = reader.client.get(f"/cases/{shut.case_id}").get_data(as_text=True)
    assert "Người phản ánh loại trừ" in page
    assert "Thanh tra thành phố, Cơ quan điều tra" in page
    assert "Không thể chuyển vụ việc này: người phản ánh đã loại trừ" in page
    assert 'action="/cases/' + shut.case_id + '/route"' not in page

    free = submit_case(database, settings)
    page = reader.client.get(f"/cases/{free.case_id}").get_data(as_text=True)
    assert "Không thể chuyển vụ việc này" not in page and "Người phản ánh loại trừ" not in page
    assert 'action="/cases/' + free.case_id + '/route"' in page  # positive control
