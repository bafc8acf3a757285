"""The dashboard's outcome section: the known figures with small counts and amounts
from fewer than 5 cases withheld, amounts written 7.500.000.000 ₫, the overdue
referrals, and the outcomes CSV (UTF-8 BOM, Vietnamese headings, same cells, audited)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

import app.review.dashboard
from app.database import Database
from app.models import AuditEvent
from tests.cases.test_outcome_statistics import TODAY, seed_outcomes
from tests.factories import Staff
from tests.review.conftest import StaffFactory


@pytest.fixture
def observer(staff: StaffFactory, monkeypatch: pytest.MonkeyPatch) -> Staff:
    monkeypatch.setattr(app.review.dashboard, "_today", lambda: TODAY)
    return staff("ban-chi-dao", "oversight", role="observer")


def _row(html: str, table_id: str, label: str) -> list[str]:
    """The cells of the row ``label`` in the outcome table ``table_id``."""
    section = html.split(f'id="{table_id}-heading"', 1)[1].split("</table>", 1)[0]
    match = re.search(
        r'<tr(?: class="total")?><th scope="row">' + re.escape(label) + r"</th>(.*?)</tr>", section
    )
    assert match, f"no row {label!r} in {table_id}"
    return re.findall(r"<td>([^<]*)</td>", match.group(1))


def test_the_outcome_tables_show_the_known_figures(database: Database, observer: Staff) -> None:
    seed_outcomes(database)
    html = observer.client.get("/dashboard").get_data(as_text=True)
    # Received, accepted, concluded, referred, prosecuted, disciplined; found,
    # recommended, recovered; the rate.
    total = _row(html, "outcomes-by-category", "Total")
    assert total == [
        "16",
        "5",
        "7",
        "5",
        "&lt; 5",
        "6",
        "7,500,000,000\u00a0₫",
        "6,000,000,000\u00a0₫",
        "1,900,000,000\u00a0₫",
        "31.7\u00a0%",
    ]
    waste = _row(html, "outcomes-by-category", "Waste of public funds or assets")
    assert waste[0] == "&lt; 5"
    # One case's 2,5 tỷ is withheld as built from fewer than 5 cases, and corruption's
    # five-case sum with it.
    assert waste[6] == "fewer than 5 cases"
    assert _row(html, "outcomes-by-category", "Corruption")[6] == "withheld"
    # Positive control: the same sums are published where five cases make them.
    november = _row(html, "outcomes-by-month", "11/2026")
    assert november[6] == "7,500,000,000\u00a0₫"
    assert _row(html, "outcomes-by-month", "12/2026")[8] == "fewer than 5 cases"
    assert _row(html, "outcomes-by-sector", "Education")[1] == "5"
    # The seed's pending referrals belong to closed cases: none is overdue.
    assert '<th scope="row">Referral verification overdue</th><td>0</td>' in html
    assert "<script" not in html and "style=" not in html


def test_the_outcomes_csv_opens_in_excel_with_vietnamese_headings(
    database: Database, observer: Staff
) -> None:
    seed_outcomes(database)
    response = observer.client.get("/dashboard/outcomes.csv?lang=vi")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=liemchinh-outcomes-{TODAY.isoformat()}.csv"
    )
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the UTF-8 byte-order mark
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    heading = rows[0]
    assert heading[:3] == ["Bảng", "Nhóm", "Số phản ánh tiếp nhận"]
    assert "Đã thu hồi (đồng)" in heading
    total = [row for row in rows if row[1] == "Tổng cộng"][1]  # by category
    assert total[2:] == [
        "16",
        "5",
        "7",
        "5",
        "< 5",
        "6",
        "7500000000",
        "6000000000",
        "1900000000",
        "31,7\u00a0%",
    ]
    waste = [row for row in rows if row[1] == "Lãng phí tiền, tài sản công"]
    assert waste and waste[0][8] == "dưới 5 vụ việc"
    with database.read_session() as db:
        actions = db.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("dashboard.%"))
        ).all()
    assert actions == ["dashboard.exported"]
