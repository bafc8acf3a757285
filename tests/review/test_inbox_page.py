"""The review inbox page: its query string reaches the filters, the pager keeps them, and
the unread count shows. The rules themselves are tested in tests/cases/test_inbox.py;
here the view is checked to pass them through, the way a reviewer's browser asks."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert

from app.cases.inbox import PAGE_SIZE
from app.database import Database
from app.models import Message
from tests.factories import case_row, insert_cases, unit_ids
from tests.review.conftest import StaffFactory

LINK = re.compile(r'<a href="/cases/[0-9a-f]+">(CT-\d{4}-\d{5})</a>')


def _references(html: str) -> list[str]:
    return LINK.findall(html)


def _today() -> date:
    return datetime.now(UTC).date()


def test_filters_and_sort_from_the_query_string(database: Database, staff: StaffFactory) -> None:
    reviewer = staff("pham.thi.uy", "intake")
    intake = unit_ids(database)["intake"]
    today = _today()
    rows = [
        case_row(intake, created_day=today - timedelta(days=3), category="waste"),
        case_row(intake, created_day=today - timedelta(days=1), status="closed"),
        case_row(intake, created_day=today - timedelta(days=2), priority="urgent"),
    ]
    insert_cases(database, rows)
    waste, closed, urgent = (row["reference"] for row in rows)

    everything = reviewer.client.get("/inbox").get_data(as_text=True)
    assert _references(everything) == [closed, urgent, waste]  # newest first
    assert _references(reviewer.client.get("/inbox?category=waste").get_data(as_text=True)) == [
        waste
    ]
    assert _references(reviewer.client.get("/inbox?status=closed").get_data(as_text=True)) == [
        closed
    ]
    oldest = reviewer.client.get("/inbox?sort=oldest").get_data(as_text=True)
    assert _references(oldest) == [waste, urgent, closed]
    by_priority = reviewer.client.get("/inbox?sort=priority").get_data(as_text=True)
    assert _references(by_priority)[0] == urgent
    # A hand-edited query is ignored, not an error.
    odd = reviewer.client.get("/inbox?status=%C4%91%C3%A3-xong&page=abc&sort=x")
    assert odd.status_code == 200
    assert _references(odd.get_data(as_text=True)) == [closed, urgent, waste]


def test_the_pager_keeps_the_filters(database: Database, staff: StaffFactory) -> None:
    reviewer = staff("le.van.duc", "intake")
    intake = unit_ids(database)["intake"]
    waste = [case_row(intake, category="waste") for _ in range(PAGE_SIZE + 3)]
    insert_cases(database, [*waste, case_row(intake, category="corruption")])

    first = reviewer.client.get("/inbox?category=waste").get_data(as_text=True)
    assert len(_references(first)) == PAGE_SIZE
    assert f"{PAGE_SIZE + 3} case(s)" in first
    assert "Page 1 of 2" in first
    next_link = re.search(r'<a href="(/inbox\?[^"]+)">Next</a>', first)
    assert next_link, "no link to the next page"
    href = next_link.group(1).replace("&amp;", "&")
    assert "category=waste" in href and "page=2" in href
    second = reviewer.client.get(href).get_data(as_text=True)
    assert len(_references(second)) == 3 and "Page 2 of 2" in second
    every = set(_references(first)) | set(_references(second))
    assert every == {row["reference"] for row in waste}


def test_the_unread_count_shows(database: Database, staff: StaffFactory) -> None:
    reviewer = staff("ngo.thi.huong", "intake")
    intake = unit_ids(database)["intake"]
    [case_id] = insert_cases(database, [case_row(intake)])
    stamp = datetime(2026, 6, 14, tzinfo=UTC)
    with database.session() as db:
        db.execute(
            insert(Message),
            [
                {"case_id": case_id, "author_side": "reporter", "created_at": stamp}
                for _ in range(3)
            ],
        )
    html = reviewer.client.get("/inbox").get_data(as_text=True)
    assert "<strong>3</strong>" in html
    with database.session() as db:
        db.execute(insert(Message), [{"case_id": case_id, "author_side": "reviewer"}])
    assert "<strong>3</strong>" in reviewer.client.get("/inbox").get_data(as_text=True)
