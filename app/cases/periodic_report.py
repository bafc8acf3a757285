"""The quarterly figures for the inspectorate's periodic report to the province, as DOCX
and CSV (``flask --app wsgi:review_app report --year 2026 --quarter 4``).

What it models. The inspection sector reports quarterly under Thông tư 01/2024/TT-TTCP
(Thanh tra Chính phủ, 20/01/2024; it replaced Thông tư 02/2021/TT-TTCP): the report on
anti-corruption work covers, per Luật Phòng, chống tham nhũng 2018 art. 16(4)(b), the
detection and handling of corruption and the recovery of corrupt assets. The figures
below are the ones this system holds for those headings - reports received and
accepted, conclusions, referrals to the investigation agency and prosecutions, people
disciplined by form, administrative sanction decisions, amounts found, recommended and
recovered - for the circular's
data period of the quarter (app.cases.reporting_periods). The circular's annex (its
numbered data forms, "biểu số liệu") was not found in any source we could read
(docs/legal.md §9): the rows are named after the indicators, not after a form's row
numbers, so that the inspectorate can carry each figure into whichever form it fills.

The same suppression as everywhere (app.cases.outcome_statistics): this document leaves
the system, so a count of 1 to 4 reads "< 5" and an amount from fewer than 5 cases
reads "dưới 5 vụ việc", as on the dashboard and the public page.

Rendering is pure (figures in, bytes out): no time of making is written into the file
(python-docx's core properties and the zip entries carry the quarter's last day).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.shared import Mm, Pt

from app.cases.money import format_vnd
from app.cases.office_package import dated_package
from app.cases.outcome_statistics import Amount, Figure, Money, PeriodFigures
from app.cases.statistics import SMALL_LABEL, Count, Withheld
from app.models.vocabulary import DisciplineForm

FONT = "Times New Roman"  # Decree 30/2020/NĐ-CP, Annex I, as the notices
CIRCULAR = "Thông tư số 01/2024/TT-TTCP ngày 20/01/2024 của Thanh tra Chính phủ"
SMALL_AMOUNT = "dưới 5 vụ việc"
WITHHELD = "không công bố"
UTF8_BOM = "\ufeff"  # so that Excel reads the Vietnamese as UTF-8
CSV_HEADINGS = ("STT", "Chỉ tiêu", "Đơn vị tính", "Số liệu")

DISCIPLINE_NAMES = {
    DisciplineForm.REPRIMAND: "Khiển trách",
    DisciplineForm.WARNING: "Cảnh cáo",
    DisciplineForm.DEMOTION: "Hạ bậc lương, giáng chức",
    DisciplineForm.DISMISSAL: "Cách chức",
    DisciplineForm.FORCED_RESIGNATION: "Buộc thôi việc",
}


@dataclass(frozen=True)
class ReportLine:
    number: str  # "1", "6.2"; "" for a section heading
    label: str
    unit: str  # "vụ việc", "người", "đồng", "%"; "" for a heading
    value: str  # as printed; "" for a heading
    plain: str = ""  # the CSV's value: a bare number for amounts

    @property
    def is_heading(self) -> bool:
        return not self.unit


def _count(count: Count) -> str:
    if count.withheld is Withheld.SMALL:
        return SMALL_LABEL
    if count.withheld is Withheld.COMPLEMENTARY:
        return WITHHELD
    return str(count.value)


def _amount(amount: Amount, *, plain: bool) -> str:
    if amount.withheld is Withheld.SMALL:
        return SMALL_AMOUNT
    if amount.withheld is Withheld.COMPLEMENTARY:
        return WITHHELD
    value = amount.value or 0
    return str(value) if plain else format_vnd(value, "vi")


def _rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1f}".replace(".", ",")


def report_lines(figures: PeriodFigures) -> list[ReportLine]:
    """The rows of the report, in order."""
    counts, amounts = figures.counts, figures.amounts

    def count_line(number: str, label: str, figure: Figure, unit: str = "vụ việc") -> ReportLine:
        text = _count(counts[figure])
        return ReportLine(number, label, unit, text, text)

    def money_line(number: str, label: str, money: Money) -> ReportLine:
        amount = amounts[money]
        return ReportLine(
            number, label, "đồng", _amount(amount, plain=False), _amount(amount, plain=True)
        )

    rate = _rate(figures.rate)
    lines = [
        ReportLine("I", "Tiếp nhận, giải quyết phản ánh, tố cáo qua hệ thống", "", ""),
        count_line("1", "Số phản ánh, tố cáo tiếp nhận trong kỳ", Figure.RECEIVED),
        count_line("2", "Số đơn tố cáo (có danh tính) đã thụ lý giải quyết", Figure.ACCEPTED),
        count_line("3", "Số vụ việc đã giải quyết, có kết luận", Figure.HANDLED),
        count_line("3.1", "Trong đó: tố cáo đúng, đúng một phần", Figure.CONCLUDED),
        ReportLine("II", "Phát hiện, xử lý tham nhũng, tiêu cực", "", ""),
        count_line("4", "Số vụ việc chuyển cơ quan điều tra", Figure.REFERRED),
        count_line("5", "Số vụ việc cơ quan điều tra quyết định khởi tố", Figure.PROSECUTED),
        count_line("6", "Số người bị xử lý kỷ luật", Figure.DISCIPLINED, "người"),
    ]
    for i, form in enumerate(DisciplineForm, start=1):
        text = _count(figures.disciplined_by_form[form])
        lines.append(ReportLine(f"6.{i}", DISCIPLINE_NAMES[form], "người", text, text))
    lines += [
        count_line("7", "Số quyết định xử phạt vi phạm hành chính", Figure.SANCTIONS, "quyết định"),
        ReportLine("III", "Thu hồi tiền, tài sản", "", ""),
        money_line("8", "Tiền, tài sản sai phạm được phát hiện", Money.FOUND),
        money_line("9", "Kiến nghị thu hồi", Money.RECOMMENDED),
        money_line("10", "Đã thu hồi", Money.RECOVERED),
        ReportLine("11", "Tỷ lệ đã thu hồi so với kiến nghị thu hồi", "%", rate, rate),
    ]
    return lines


def _period_line(figures: PeriodFigures) -> str:
    period = figures.period
    return (
        f"{period.label_vi} (số liệu từ ngày {period.first_day:%d/%m/%Y} "
        f"đến ngày {period.last_day:%d/%m/%Y})"
    )


NOTES = (
    f"Kỳ số liệu theo {CIRCULAR} (quy định chế độ báo cáo công tác thanh tra, tiếp công "
    "dân, giải quyết khiếu nại, tố cáo và phòng, chống tham nhũng, tiêu cực).",
    "Mỗi số liệu được tính theo ngày của chính sự việc: ngày tiếp nhận, ngày thụ lý, "
    "ngày kết luận, ngày công văn chuyển cơ quan điều tra, ngày quyết định khởi tố, "
    "ngày ghi sổ thu hồi.",
    f"“{SMALL_LABEL}”: số liệu từ 1 đến 4 không công bố để không thể nhận ra người phản "
    f"ánh; “{SMALL_AMOUNT}”: số tiền tổng hợp từ dưới 5 vụ việc không công bố.",
)


def render_docx(figures: PeriodFigures) -> bytes:
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(20)
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(13)

    def paragraph(text: str, *, bold: bool = False, italic: bool = False) -> None:
        p = document.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run(text)
        run.bold, run.italic = bold, italic

    paragraph(
        "SỐ LIỆU KẾT QUẢ TIẾP NHẬN, XỬ LÝ PHẢN ÁNH, TỐ CÁO VỀ THAM NHŨNG, LÃNG PHÍ, TIÊU CỰC",
        bold=True,
    )
    paragraph("(qua hệ thống tiếp nhận phản ánh Liêm Chính)", italic=True)
    paragraph(_period_line(figures), bold=True)

    lines = report_lines(figures)
    table = document.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, heading in zip(table.rows[0].cells, CSV_HEADINGS, strict=True):
        cell.text = heading
        cell.paragraphs[0].runs[0].bold = True
    for line in lines:
        cells = table.add_row().cells
        for cell, text in zip(cells, (line.number, line.label, line.unit, line.value), strict=True):
            cell.text = text
            if line.is_heading:
                cell.paragraphs[0].runs[0].bold = bool(text)
        cells[3].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT

    document.add_paragraph()
    for note in NOTES:
        p = document.add_paragraph()
        run = p.add_run(note)
        run.italic = True
        run.font.size = Pt(11)

    _strip_properties(document, figures.period.last_day)
    buffer = io.BytesIO()
    document.save(buffer)
    return dated_package(buffer.getvalue(), figures.period.last_day)


def render_csv(figures: PeriodFigures) -> str:
    """The same rows as CSV, with a byte-order mark so that Excel reads the Vietnamese."""
    buffer = io.StringIO()
    buffer.write(UTF8_BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADINGS)
    writer.writerow(("", _period_line(figures), "", ""))
    for line in report_lines(figures):
        writer.writerow((line.number, line.label, line.unit, line.plain))
    return buffer.getvalue()


def _strip_properties(document: DocumentObject, day: date) -> None:
    # As the notices (app.cases.notices.as_docx): no author, no time of making, and no
    # thumbnail of python-docx's own blank page.
    package = document.part.package
    for rel_id, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del package.rels[rel_id]
    stamp = datetime(day.year, day.month, day.day, tzinfo=UTC)
    core = document.core_properties
    core.author = core.last_modified_by = core.comments = ""
    core.title = "Số liệu kết quả tiếp nhận, xử lý phản ánh, tố cáo"
    core.revision = 1
    core.created = core.modified = core.last_printed = stamp
