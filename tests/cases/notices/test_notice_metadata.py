"""The documents carry no time of day and no author (DESIGN.md promise 7): the PDF's
information dictionary and the DOCX's core properties and zip entries say the notice's
day at 00:00, whenever they were rendered. Each check is shown to see a real time."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime

import docx
import pypdf
import pytest
from fpdf import FPDF

from app.cases.notices import NoticeKind, render_docx, render_pdf
from tests.cases.notices.readback import docx_times_of_day, pdf_times_of_day
from tests.factories import make_notice


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_the_pdf_is_dated_to_the_day_without_an_author(kind) -> None:
    data = render_pdf(make_notice(kind))
    assert pdf_times_of_day(data) == []
    metadata = pypdf.PdfReader(io.BytesIO(data)).metadata
    assert metadata is not None
    assert metadata.creation_date == datetime(2027, 3, 22, tzinfo=UTC)
    assert "/Author" not in metadata and "/ModDate" not in metadata


def test_the_pdf_check_sees_a_time_of_day() -> None:
    # Positive control: fpdf2 left to itself, stamped at 14:37:05.
    pdf = FPDF()
    pdf.set_creation_date(datetime(2027, 3, 22, 14, 37, 5, tzinfo=UTC))
    pdf.add_page()
    assert pdf_times_of_day(bytes(pdf.output())) == ["/CreationDate=D:20270322143705Z"]


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_the_docx_is_dated_to_the_day_without_an_author(kind) -> None:
    data = render_docx(make_notice(kind))
    assert docx_times_of_day(data) == []
    core = docx.Document(io.BytesIO(data)).core_properties
    assert core.created == core.modified == datetime(2027, 3, 22, tzinfo=UTC)
    assert core.author == core.last_modified_by == ""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert {info.date_time for info in package.infolist()} == {(2027, 3, 22, 0, 0, 0)}
        # python-docx's own thumbnail (of another page) is not passed off as this one's.
        assert not [name for name in package.namelist() if "thumbnail" in name]


def test_the_docx_check_sees_a_time_of_day() -> None:
    # Positive control: python-docx's own file - its template's properties carry a time,
    # and a zip entry written at 14:37:05 is seen as well.
    plain = io.BytesIO()
    docx.Document().save(plain)
    assert any(found.startswith("created=") for found in docx_times_of_day(plain.getvalue()))
    assert docx.Document(io.BytesIO(plain.getvalue())).core_properties.author != ""
    stamped = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(render_docx(make_notice("accept")))) as source,
        zipfile.ZipFile(stamped, "w") as target,
    ):
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=(2027, 3, 22, 14, 37, 4))
            target.writestr(info, source.read(entry.filename))
    assert "word/document.xml@(2027, 3, 22, 14, 37, 4)" in docx_times_of_day(stamped.getvalue())


def test_the_date_is_the_notices_not_the_clocks() -> None:
    # Rendered today, dated on the notice's day: a later rendering of an old notice
    # gives the same file.
    old = make_notice("refuse", issued_on=date(2026, 12, 31), concluded_on=None, due_on=None,
                      accepted_on=None, received_on=date(2026, 12, 21))  # fmt: skip
    meta = pypdf.PdfReader(io.BytesIO(render_pdf(old))).metadata
    assert meta is not None and meta.creation_date == datetime(2026, 12, 31, tzinfo=UTC)
    core = docx.Document(io.BytesIO(render_docx(old))).core_properties
    assert core.created == datetime(2026, 12, 31, tzinfo=UTC)
