"""Issue 14, done when: a report followed from the intake to the referral, the
prosecution and the money recovered, all over HTTP as the staff of the right units;
then, once the quarter's data period has closed, the oversight dashboard, the
quarterly report (CSV and DOCX) and the intake's public page show the same figures for
it, in Vietnamese and English, with a small count withheld (and its complement).

The app's clock is fixed: every step happens on 20/11/2026, in quarter IV/2026 of
Thông tư 01/2024/TT-TTCP (15/09/2026-14/12/2026, app.cases.reporting_periods), and the
figures are read on 15/12/2026, the first day the quarter is completed."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from sqlalchemy import select

from app import clock
from app.cases import submission
from app.database import Database
from app.models import RecoveryEntry
from tests.conftest import CsrfClient
from tests.factories import Report, Staff
from tests.intake.test_public_statistics import _cell
from tests.review.conftest import ReportFactory, StaffFactory

EVENTS = date(2026, 11, 20)  # inside quarter IV/2026's data period
QUARTER_CLOSED = date(2026, 12, 15)  # the day after it ends
FOUND = 1_250_000_000
RECOMMENDED = 900_000_000
RECOVERED = 300_000_000
OVERPAID = 100_000_000  # one entry corrected by this much
WASTE = {
    "category": "waste",
    "summary": "Trụ sở phường xây xong bỏ hoang, lãng phí ngân sách",
    "details": "Công trình 12 tỷ đồng ở phường Cái Khế không sử dụng từ năm 2024.",
}


class Clock:
    """The app's day, and the day a new report is dated by, moved by the test (the
    reporter's session and proof of work keep the real day: they expire by it)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, day: date) -> None:
        self.day = day
        monkeypatch.setattr(clock, "today", lambda: self.day)
        monkeypatch.setattr(submission, "_today", lambda: self.day)


def done(who: Staff, response: Any) -> None:
    """A case action succeeded: redirected, and the next page flashes no refusal."""
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    shown = who.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "flash-error" not in shown and "flash-success" in shown, shown[:3000]


def refer(who: Staff, sent: Report) -> None:
    done(
        who,
        who.post(
            f"/cases/{sent.case_id}/route",
            {
                "unit": "investigation",
                "reason": "Có dấu hiệu tội tham ô tài sản",
                "agency": "csdt_can_tho",
                "dispatch_number": "125/TTr-NV",
                "dispatch_day": EVENTS.isoformat(),
                "confirm": "yes",
            },
        ),
    )


def follow_to_recovery(điều_tra: Staff, sent: Report, database: Database, first: bool) -> None:
    """The agency prosecutes; the case is closed founded with its figures; money comes
    back (on the first case, an entry written 100 triệu too high is corrected)."""
    path = f"/cases/{sent.case_id}"
    done(
        điều_tra,
        điều_tra.post(
            f"{path}/referral-result",
            {"result": "prosecuted", "day": EVENTS.isoformat(), "confirm": "yes"},
        ),
    )
    done(
        điều_tra,
        điều_tra.post(
            f"{path}/close",
            {
                "resolution": "substantiated",
                "damage_found": "1.250.000.000",
                "recovery_recommended": "900.000.000",
                "discipline_warning": "1",
                "confirm": "yes",
            },
        ),
    )
    amount = RECOVERED + OVERPAID if first else RECOVERED
    note = "Đã nộp vào tài khoản tạm giữ của Thanh tra thành phố"
    done(
        điều_tra,
        điều_tra.post(
            f"{path}/recovery",
            {"amount": f"{amount:_}".replace("_", "."), "note": note, "confirm": "yes"},
        ),
    )
    if first:
        with database.read_session() as db:
            entry = db.scalars(
                select(RecoveryEntry.id).where(RecoveryEntry.case_id == sent.case_id)
            ).one()
        done(
            điều_tra,
            điều_tra.post(
                f"{path}/recovery",
                {
                    "amount": "-100.000.000",
                    "corrects": str(entry),
                    "note": f"Bút toán #{entry} ghi thừa 100 triệu đồng",
                    "confirm": "yes",
                },
            ),
        )


def dashboard_row(html: str, table_id: str, label: str) -> list[str]:
    section = html.split(f'id="{table_id}-heading"', 1)[1].split("</table>", 1)[0]
    match = re.search(
        r'<tr(?: class="total")?><th scope="row">' + re.escape(label) + r"</th>(.*?)</tr>", section
    )
    assert match, f"no row {label!r} in {table_id}"
    return re.findall(r"<td>([^<]*)</td>", match.group(1))


def report_rows(cli: Any, tmp_path: Path, *, as_csv: bool) -> dict[str, list[str]]:
    out = tmp_path / ("báo cáo quý IV.csv" if as_csv else "báo cáo quý IV.docx")
    args = ["report", "--year", "2026", "--quarter", "4", "-o", str(out)]
    result = cli.invoke(args=[*args, "--csv"] if as_csv else args)
    assert result.exit_code == 0, result.output
    assert "note:" not in result.output  # the quarter is completed: final figures
    if as_csv:
        rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    else:
        [table] = Document(str(out)).tables
        rows = [[cell.text for cell in row.cells] for row in table.rows]
    return {row[0]: row for row in rows[1:] if row[0]}


@pytest.mark.both_backends
def test_a_report_followed_to_recovered_money_shows_alike_everywhere(
    staff: StaffFactory,
    report: ReportFactory,
    database: Database,
    intake_client: CsrfClient,
    cli: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    today = Clock(monkeypatch, EVENTS)
    tiếp_nhận = staff("dat-tiep-nhan", "intake")
    điều_tra = staff("dieu-tra-vien", "investigation")
    ban_chỉ_đạo = staff("ban-chi-dao", "oversight", role="observer")

    # Five corruption reports through the intake, each referred and prosecuted; one
    # waste report referred too, whose single referral is the small count.
    corruption = [report() for _ in range(5)]
    waste = report(answers=WASTE)
    for sent in [*corruption, waste]:
        refer(tiếp_nhận, sent)
    for i, sent in enumerate(corruption):
        follow_to_recovery(điều_tra, sent, database, first=i == 0)

    recovered = 5 * RECOVERED  # 1.500.000.000 đồng: the correction cancels the excess
    rate = round(100 * recovered / (5 * RECOMMENDED), 1)  # 33,3 %
    assert rate == 33.3

    # While the quarter runs, the public page does not show it.
    assert "Quý IV/2026" not in intake_client.get("/statistics").get_data(as_text=True)
    today.day = QUARTER_CLOSED

    # The oversight dashboard: all-time tables, here all of it in November 2026.
    for lang, total, month, amounts, rate_text, small, withheld, categories in [
        (
            "vi",
            "Tổng cộng",
            "11/2026",
            ["6.250.000.000\u00a0₫", "4.500.000.000\u00a0₫", "1.500.000.000\u00a0₫"],
            "33,3\u00a0%",
            "&lt; 5",
            "ẩn",
            ("Tham nhũng", "Lãng phí tiền, tài sản công"),
        ),
        (
            "en",
            "Total",
            "11/2026",
            ["6,250,000,000\u00a0₫", "4,500,000,000\u00a0₫", "1,500,000,000\u00a0₫"],
            "33.3\u00a0%",
            "&lt; 5",
            "withheld",
            ("Corruption", "Waste of public funds or assets"),
        ),
    ]:
        response = ban_chỉ_đạo.client.get(f"/dashboard?lang={lang}")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        # Received, accepted, concluded, referred, prosecuted, disciplined; found,
        # recommended, recovered; the rate.
        expected = ["6", "0", "5", "6", "5", "5", *amounts, rate_text]
        assert dashboard_row(html, "outcomes-by-category", total) == expected
        assert dashboard_row(html, "outcomes-by-month", month) == expected
        assert dashboard_row(html, "outcomes-by-sector", total) == expected
        # The waste report's single referral is withheld, and corruption's five with it
        # (else 6 - 5 would give it away); positive control: corruption's prosecutions,
        # five in a column with no small cell, are published.
        corruption_row = dashboard_row(html, "outcomes-by-category", categories[0])
        waste_row = dashboard_row(html, "outcomes-by-category", categories[1])
        assert waste_row[3] == small and corruption_row[3] == withheld
        assert waste_row[0] == small and corruption_row[0] == withheld  # received: 1 and 5
        assert corruption_row[4] == "5" and corruption_row[8] == amounts[2]

    # The quarterly report for quarter IV/2026: the same figures, as CSV and as DOCX.
    rows = report_rows(cli, tmp_path, as_csv=True)
    figures = {number: rows[number][3] for number in ("1", "3", "3.1", "4", "5", "6")}
    assert figures == {"1": "6", "3": "5", "3.1": "5", "4": "6", "5": "5", "6": "5"}
    assert [rows[n][3] for n in ("8", "9", "10", "11")] == [
        str(5 * FOUND),
        str(5 * RECOMMENDED),
        str(recovered),
        "33,3",
    ]
    docx = report_rows(cli, tmp_path, as_csv=False)
    assert {number: docx[number][3] for number in figures} == figures
    assert docx["10"][3] == "1.500.000.000\u00a0₫"

    # The public page, in Vietnamese (the intake's default) and in English.
    for query, label, money in [
        ("", "Quý IV/2026", "1.500.000.000\u00a0₫"),
        ("?lang=en", "Q4 2026", "1,500,000,000\u00a0₫"),
    ]:
        response = intake_client.get(f"/statistics{query}")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        public = {
            chart: _cell(html, chart, label)
            for chart in ("received", "handled", "concluded", "referred", "prosecuted")
        }
        assert public == {
            "received": figures["1"],
            "handled": figures["3"],
            "concluded": figures["3.1"],
            "referred": figures["4"],
            "prosecuted": figures["5"],
        }
        assert _cell(html, "recovered", label) == money
