"""``flask --app wsgi:review_app report --year 2026 --quarter 4 -o FILE``: the quarter's
figures as DOCX (read back with python-docx) and as CSV (UTF-8 BOM, Vietnamese
headings), the same cells withheld as on the dashboard, the export audited, and bad
input refused with nothing written."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from sqlalchemy import select

from app.database import Database
from app.models import AuditEvent, Case
from tests.cases.test_outcome_statistics import seed_outcomes
from tests.factories import insert_recovery


def run(cli: Any, *args: str) -> Any:
    return cli.invoke(args=["report", *args])


def _rows(path: Path) -> dict[str, list[str]]:
    """The DOCX table's rows by their number (STT)."""
    [table] = Document(str(path)).tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0] == ["STT", "Chỉ tiêu", "Đơn vị tính", "Số liệu"]
    return {row[0]: row for row in rows[1:]}


def test_the_quarter_as_docx(cli: Any, database: Database, tmp_path: Path) -> None:
    seed_outcomes(database)
    out = tmp_path / "báo cáo quý IV.docx"
    result = run(cli, "--year", "2026", "--quarter", "4", "-o", str(out))
    assert result.exit_code == 0, result.output
    document = Document(str(out))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Quý IV/2026 (số liệu từ ngày 15/09/2026 đến ngày 14/12/2026)" in text
    assert "Thông tư số 01/2024/TT-TTCP" in text
    rows = _rows(out)
    assert rows["1"][1:] == ["Số phản ánh, tố cáo tiếp nhận trong kỳ", "vụ việc", "16"]
    assert rows["2"][3] == "5"  # accepted
    assert rows["3"][3] == "12"  # concluded on the merits
    assert rows["3.1"][3] == "7"  # founded or partly founded
    assert rows["4"][3] == "5"  # referred
    assert rows["5"][3] == "< 5"  # two prosecutions: withheld
    assert rows["6"][2:] == ["người", "6"]
    assert rows["6.1"][1:] == ["Khiển trách", "người", "< 5"]
    assert rows["7"][1:] == ["Số quyết định xử phạt vi phạm hành chính", "quyết định", "5"]
    assert rows["8"][2:] == ["đồng", "7.500.000.000\u00a0₫"]
    assert rows["10"][3] == "1.900.000.000\u00a0₫"
    assert rows["11"][3] == "31,7"
    # No author and no time of making in the file.
    assert document.core_properties.author == ""
    assert document.core_properties.created is not None
    assert document.core_properties.created.date().isoformat() == "2026-12-14"
    with database.read_session() as db:
        event = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "dashboard.exported")
        ).one()
    assert event.actor.startswith("cli:")
    assert '"report": "2026-Q4"' in event.details and '"docx"' in event.details


def test_amounts_from_fewer_than_5_cases_are_withheld_in_the_report(
    cli: Any, database: Database, tmp_path: Path
) -> None:
    seed_outcomes(database)
    out = tmp_path / "q4.docx"
    # Quarter I of 2027 starts on 15/12/2026: nothing in it but nothing small either.
    assert run(cli, "--year", "2027", "--quarter", "1", "-o", str(out)).exit_code == 0
    assert _rows(out)["10"][3] == "0\u00a0₫"
    with database.read_session() as db:
        case_id = db.scalars(select(Case.id).where(Case.category == "waste")).one()
    # One case's recovery in the quarter: its sum is not published, nor the rate.
    insert_recovery(database, case_id, date(2026, 12, 20), 70_000_000)
    out2 = tmp_path / "q1 again.docx"
    assert run(cli, "--year", "2027", "--quarter", "1", "-o", str(out2)).exit_code == 0
    assert _rows(out2)["10"][3] == "dưới 5 vụ việc"
    assert _rows(out2)["11"][3] == "—"


def test_the_quarter_as_csv(cli: Any, database: Database, tmp_path: Path) -> None:
    seed_outcomes(database)
    out = tmp_path / "q4.csv"
    result = run(cli, "--year", "2026", "--quarter", "4", "--csv", "-o", str(out))
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["STT", "Chỉ tiêu", "Đơn vị tính", "Số liệu"]
    by_number = {row[0]: row for row in rows[1:] if row[0]}
    assert by_number["1"][3] == "16"
    assert by_number["8"][3] == "7500000000"  # a bare number, for a spreadsheet
    assert by_number["5"][3] == "< 5"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--year", "2026", "--quarter", "5"], "the quarter is 1, 2, 3 or 4"),
        (["--year", "1999", "--quarter", "4"], "the year must be between 2000 and 2100"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    cli: Any, database: Database, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "không.docx"
    result = run(cli, *args, "-o", str(out))
    assert result.exit_code == 1
    assert f"error: {message}" in result.output
    assert not out.exists()
    with database.read_session() as db:
        exported = select(AuditEvent.seq).where(AuditEvent.action == "dashboard.exported")
        assert db.scalars(exported).all() == []


def test_an_existing_file_is_not_overwritten(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "đã có.docx"
    out.write_bytes(b"keep")
    result = run(cli, "--year", "2026", "--quarter", "4", "-o", str(out))
    assert result.exit_code == 1 and "exists" in result.output
    assert out.read_bytes() == b"keep"
