"""Related cases on the case page and the dashboard (issue 14 §5): the link form, the
list on both cases with the other case's reference as a link, refusals in Vietnamese
that change nothing, nothing shown across units, and unique matters on the dashboard."""

from __future__ import annotations

import html

import pytest

import app.review.dashboard
from app.database import Database
from tests.cases.test_statistics import TODAY, seed_known_cases
from tests.factories import Report, Staff, hold_case, insert_cases, insert_links
from tests.factories import case_row as make_row
from tests.factories import unit_ids as units_of
from tests.review.conftest import ReportFactory, StaffFactory, audit_count, case_state

pytestmark = pytest.mark.both_backends

REASON = "Cùng dự án đường Nguyễn Văn Cừ, ông Đỗ Ủy"
LINKED = "Đã liên kết. Liên kết hiển thị ở cả hai vụ việc."


def page(who: Staff, case_id: str) -> str:
    response = who.client.get(f"/cases/{case_id}")
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def link(who: Staff, case: Report, other: str, kind: str = "duplicate") -> str:
    """Submit the case page's link form; the page the reviewer lands on."""
    response = who.post(
        f"/cases/{case.case_id}/link", {"other_reference": other, "kind": kind, "reason": REASON}
    )
    assert response.status_code == 303
    return str(who.client.get(response.headers["Location"]).get_data(as_text=True))


def test_a_link_made_on_one_case_shows_on_both(
    staff: StaffFactory, report: ReportFactory, database: Database
) -> None:
    reader = staff("vo-thi-lan", "intake")
    reader.client.get("/?lang=vi")
    a, b = report(), report()
    assert f'action="/cases/{a.case_id}/link"' in page(reader, a.case_id)

    shown = link(reader, a, b.reference)
    assert LINKED in shown
    assert f'<a href="/cases/{b.case_id}">{b.reference}</a>' in shown
    assert "Đơn trùng" in shown and html.escape(REASON) in shown

    other = page(reader, b.case_id)
    assert f'<a href="/cases/{a.case_id}">{a.reference}</a>' in other
    assert html.escape(REASON) in other
    assert "Liên kết với vụ việc liên quan" in other  # the timeline

    # Unlinking from the other side, with a reason, removes it from both pages.
    link_id = other.split('name="link" value="', 1)[1].split('"', 1)[0]
    removed = reader.post(f"/cases/{b.case_id}/unlink", {"link": link_id, "reason": "Nhầm lẫn"})
    assert removed.status_code == 303
    assert "Đã gỡ liên kết." in reader.client.get(removed.headers["Location"]).get_data(
        as_text=True
    )
    for case in (a, b):
        assert "Chưa có vụ việc liên kết." in page(reader, case.case_id)


def test_refusals_say_why_and_change_nothing(
    staff: StaffFactory, report: ReportFactory, database: Database
) -> None:
    reader = staff("vo-thi-lan", "intake")
    reader.client.get("/?lang=vi")
    a, b = report(), report()
    link(reader, a, b.reference)
    before = (case_state(database, a.case_id), case_state(database, b.case_id))
    events = audit_count(database)

    refusals = [
        (a, a.reference, "Không thể liên kết một vụ việc với chính nó."),
        (b, a.reference, "Hai vụ việc này đã được liên kết. Không có gì thay đổi."),
        (a, "CT-2026-99999", "Không có vụ việc nào mà bạn được đọc với số hiệu này."),
    ]
    for case, other, message in refusals:
        assert message in link(reader, case, other, kind="related")
    unknown = reader.post(f"/cases/{a.case_id}/unlink", {"link": "abc", "reason": "Lý do"})
    assert "Liên kết này không còn nữa." in reader.client.get(unknown.headers["Location"]).get_data(
        as_text=True
    )
    assert (case_state(database, a.case_id), case_state(database, b.case_id)) == before
    # Only the page views after each refusal were recorded.
    assert audit_count(database) == events + len(refusals) + 1


def test_nothing_of_a_link_shows_across_units(
    staff: StaffFactory, report: ReportFactory, database: Database
) -> None:
    both = staff("do-thi-uyen", "intake", "inspection")
    intake_only = staff("le-van-duc", "intake")
    intake_only.client.get("/?lang=vi")
    a, b = report(), report()
    hold_case(database, b.case_id, "inspection")
    link(both, a, b.reference, kind="related")

    # Positive control: the reviewer of both units sees the link, its reference and reason.
    seen = page(both, a.case_id)
    assert b.reference in seen and f"/cases/{b.case_id}" in seen and html.escape(REASON) in seen
    assert "Linked to a related case" in seen

    hidden = page(intake_only, a.case_id)
    for trace in (b.reference, b.case_id, html.escape(REASON), "Liên kết với vụ việc liên quan"):
        assert trace not in hidden
    assert "Chưa có vụ việc liên kết." in hidden
    assert intake_only.client.get(f"/cases/{b.case_id}").status_code == 404

    # Trying to link to it answers as for a case that does not exist, and changes nothing.
    before = case_state(database, a.case_id)
    refused = link(intake_only, a, b.reference)
    assert "Không có vụ việc nào mà bạn được đọc với số hiệu này." in refused
    assert b.case_id not in refused and case_state(database, a.case_id) == before


@pytest.fixture
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.review.dashboard, "_today", lambda: TODAY)


@pytest.mark.usefixtures("fixed_today")
def test_the_dashboard_counts_a_group_of_duplicates_once(
    staff: StaffFactory, database: Database
) -> None:
    observer = staff("ban-chi-dao", "oversight", role="observer")
    observer.client.get("/?lang=vi")
    seeded = seed_known_cases(database)  # 15 cases
    ids = [case_id for group in seeded.values() for case_id in group]
    # A chain A–B, B–C and a pair D–E: 15 cases, 12 unique matters. A related link
    # merges nothing.
    insert_links(database, [(ids[0], ids[1]), (ids[1], ids[2]), (ids[3], ids[4])])
    insert_links(database, [(ids[5], ids[6])], kind="related")

    shown = observer.client.get("/dashboard").get_data(as_text=True)
    assert "Vụ việc riêng biệt (đơn trùng tính một lần)" in shown
    assert '<dd id="unique-matters">12</dd>' in shown
    csv_text = observer.client.get("/dashboard.csv").get_data(as_text=True)
    assert "total,unique_matters,12" in csv_text and "total,cases,15" in csv_text


def test_a_small_number_of_unique_matters_is_withheld(
    staff: StaffFactory, database: Database
) -> None:
    observer = staff("ban-chi-dao", "oversight", role="observer")
    intake = units_of(database)["intake"]
    ids = insert_cases(database, [make_row(intake) for _ in range(6)])
    # Positive control: without links, the 6 cases are 6 matters, shown as they are.
    shown = observer.client.get("/dashboard").get_data(as_text=True)
    assert "Unique matters (duplicates counted once)" in shown
    assert '<dd id="unique-matters">6</dd>' in shown
    insert_links(database, [(ids[0], ids[1]), (ids[1], ids[2])])  # 6 cases, 4 matters
    shown = observer.client.get("/dashboard").get_data(as_text=True)
    assert '<dd id="unique-matters">&lt; 5</dd>' in shown
