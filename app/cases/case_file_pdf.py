"""The case file (app.cases.case_file) as PDF, with the bundled Vietnamese font of the
notices (assets/fonts, see app.cases.notices.as_pdf for why it is bundled).

Every page carries the confidentiality mark and the export stamp in its header and
footer, so a single page found on a desk still says what it is and whose copy it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from app.cases.case_file import CaseFile, Entry
from app.cases.notices.as_pdf import FAMILY, FONT_DIRECTORY, FONT_FILES

MARGIN = 18.0
BODY, SMALL, HEAD = 10.5, 8.5, 13.0


class _CaseFileWriter(FPDF):
    def __init__(self, content: CaseFile, mark: str, page_label: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        for style, name in FONT_FILES.items():
            self.add_font(FAMILY, style, str(FONT_DIRECTORY / name))
        self.set_margins(MARGIN, MARGIN + 6, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN + 4)
        self.content = content
        self.mark = mark
        self.page_label = page_label

    def header(self) -> None:
        self.set_y(8)
        self.set_font(FAMILY, "B", SMALL)
        self.cell(0, 5, f"{self.mark} · {self.content.reference}", align="C")
        self.ln(8)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FAMILY, "", SMALL)
        self.cell(0, 5, self.page_label.format(page=self.page_no(), pages="{nb}"), align="C")

    def paragraph(self, text: str, style: str = "", size: float = BODY) -> None:
        self.set_font(FAMILY, style, size)
        self.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def section(self, title: str) -> None:
        self.ln(3)
        self.paragraph(title, "B", HEAD - 1)
        self.ln(1)

    def pairs(self, rows: list[tuple[str, str]]) -> None:
        for label, value in rows:
            self.paragraph(f"{label}: {value}")

    def entries(self, entries: list[Entry], empty: str) -> None:
        if not entries:
            self.paragraph(empty, "I")
        for entry in entries:
            self.paragraph(entry.heading, "B", SMALL + 1)
            if entry.text:
                self.paragraph(entry.text)
            self.ln(1.5)


@dataclass(frozen=True)
class CaseFileWords:
    """The fixed words of the file, in the exporting reviewer's language."""

    mark: str  # e.g. "MẬT — hồ sơ vụ việc đã giải mã"
    stamp: str  # "Exported by {user} on {when}"
    page: str  # "Page {page} of {pages}"
    summary: str
    report: str
    attachments: str
    thread: str
    notes: str
    timeline: str
    none: str
    referral: str
    outcome: str
    ledger: str
    recovered: str  # "Recovered so far"
    links: str


def _pairs_or_none(pdf: _CaseFileWriter, rows: list[tuple[str, str]], none: str) -> None:
    if rows:
        pdf.pairs(rows)
    else:
        pdf.paragraph(none, "I")


def render_case_file_pdf(content: CaseFile, words: CaseFileWords) -> tuple[bytes, int]:
    """The PDF and its number of pages. Dated with the export's own day (a staff action),
    with no author and no software time stamp beyond it."""
    stamp = words.stamp.format(
        user=content.exported_by, when=content.exported_at.strftime("%d/%m/%Y %H:%M")
    )
    pdf = _CaseFileWriter(content, words.mark, f"{stamp} · {words.page}")
    at = content.exported_at
    pdf.set_creation_date(at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC))
    pdf.set_title(f"{content.reference} — {words.mark}")
    pdf.set_lang("vi")
    pdf.alias_nb_pages("{nb}")
    pdf.add_page()
    pdf.paragraph(content.reference, "B", HEAD + 3)
    pdf.paragraph(words.mark, "B", BODY)
    pdf.paragraph(stamp, "I", SMALL + 1)
    pdf.section(words.summary)
    pdf.pairs(content.summary)
    pdf.section(words.report)
    if content.answers:
        pdf.pairs(content.answers)
    else:
        pdf.paragraph(words.none, "I")
    pdf.section(words.attachments)
    for name in content.attachments or [words.none]:
        pdf.paragraph(f"• {name}")
    pdf.section(words.referral)
    _pairs_or_none(pdf, content.referral, words.none)
    pdf.section(words.outcome)
    _pairs_or_none(pdf, content.outcome, words.none)
    pdf.section(words.ledger)
    pdf.entries(content.ledger, words.none)
    if content.ledger:
        pdf.paragraph(f"{words.recovered}: {content.recovered}", "B")
    pdf.section(words.links)
    for line in content.links or [words.none]:
        pdf.paragraph(f"• {line}")
    pdf.section(words.thread)
    pdf.entries(content.thread, words.none)
    pdf.section(words.notes)
    pdf.entries(content.notes, words.none)
    pdf.section(words.timeline)
    pdf.entries(content.timeline, words.none)
    return bytes(pdf.output()), pdf.page_no()
