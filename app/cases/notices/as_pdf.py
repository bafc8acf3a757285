"""The reporter's copy as PDF (fpdf2), delivered into their thread.

The font is bundled (assets/fonts/, Noto Serif 2.015, SIL Open Font License in
OFL.txt beside it) rather than taken from the system: a PDF must embed its glyphs, a
fresh machine may have no font with the Vietnamese letters (ư, ơ, đ and the stacked
tone marks such as ặ, ỗ), and the intake fetches nothing from another origin, so the
file has to be in the repository. fpdf2 embeds only the glyphs used.

Deterministic and dateless below the day: the creation date is the notice's day at
00:00 UTC, not the moment of rendering; no author; the file identifier is derived
from the content. Two renderings of one notice are the same bytes (DESIGN.md
promise 7: the file tells no time of day).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from app.cases.notices.compose import MOTTO, NATIONAL_TITLE, Audience, Layout, compose
from app.cases.notices.model import Notice
from app.cases.notices.templates import NoticeTemplates, Style, load_templates

FONT_DIRECTORY = Path(__file__).resolve().parents[3] / "assets" / "fonts"
FAMILY = "NotoSerif"
FONT_FILES = {"": "NotoSerif-Regular.ttf", "B": "NotoSerif-Bold.ttf", "I": "NotoSerif-Italic.ttf"}
# Decree 30/2020/NĐ-CP, Annex I margins (mm) on A4; sizes a little under the DOCX's
# Times New Roman because Noto Serif sets wider.
LEFT, RIGHT, TOP, BOTTOM = 30.0, 20.0, 20.0, 20.0
BODY, HEAD, SMALL = 12.5, 11.0, 10.5
LINE = 6.0  # mm between blocks
LEADING = 0.45  # mm of line height per point of font size
LEFT_COLUMN = 74.0  # the issuing body's column of the heading and of "Nơi nhận"
RULE = "\u2014" * 6


class _Writer(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        for style, name in FONT_FILES.items():
            self.add_font(FAMILY, style, str(FONT_DIRECTORY / name))
        self.set_margins(LEFT, TOP, RIGHT)
        self.set_auto_page_break(auto=True, margin=BOTTOM)

    def lines(self, x: float, width: float, items: list[tuple[str, str, float, str]]) -> float:
        """Write ``(text, style, size, align)`` lines in a column; the y where it ends."""
        for text, style, size, align in items:
            self.set_x(x)
            self.set_font(FAMILY, style, size)
            self.multi_cell(
                width, size * LEADING, text, align=align, new_x=XPos.LEFT, new_y=YPos.NEXT
            )
        return self.get_y()

    def columns(
        self,
        left: list[tuple[str, str, float, str]],
        right: list[tuple[str, str, float, str]],
    ) -> None:
        top = self.get_y()
        page_width = self.w - LEFT - RIGHT
        end_left = self.lines(LEFT, LEFT_COLUMN, left)
        self.set_y(top)
        end_right = self.lines(LEFT + LEFT_COLUMN, page_width - LEFT_COLUMN, right)
        self.set_y(max(end_left, end_right))


def _heading(pdf: _Writer, layout: Layout) -> None:
    left = []
    if layout.parent_unit:
        left.append((layout.parent_unit, "", HEAD, "C"))
    left += [(layout.issuing_unit, "B", HEAD, "C"), (RULE, "", HEAD, "C")]
    if layout.number_line:
        left.append((layout.number_line, "", HEAD, "C"))
    right = []
    if layout.national_heading:
        right += [(NATIONAL_TITLE, "B", HEAD, "C"), (MOTTO, "B", BODY, "C"), (RULE, "", BODY, "C")]
    right.append((layout.place_date, "I", BODY, "C"))
    pdf.columns(left, right)


def _body(pdf: _Writer, layout: Layout) -> None:
    width = pdf.w - LEFT - RIGHT
    pdf.ln(LINE)
    pdf.lines(LEFT, width, [(layout.title, "B", BODY + 1, "C")])
    if layout.subject:
        pdf.lines(LEFT, width, [(layout.subject, "B", BODY, "C")])
    pdf.ln(LINE / 2)
    if layout.greeting:
        pdf.lines(LEFT, width, [(layout.greeting, "", BODY, "C")])
        pdf.ln(LINE / 2)
    for paragraph in layout.paragraphs:
        if paragraph.style is Style.HEADING:
            pdf.lines(LEFT, width, [(paragraph.text, "B", BODY, "C")])
        elif paragraph.style is Style.NOTE:
            pdf.lines(LEFT, width, [(paragraph.text, "I", SMALL, "J")])
        else:
            pdf.lines(LEFT, width, [(paragraph.text, "", BODY, "J")])
        pdf.ln(LINE / 3)


def _signature(pdf: _Writer, layout: Layout) -> None:
    pdf.ln(LINE / 2)
    left = []
    if layout.receivers:
        left.append(("Nơi nhận:", "B", SMALL, "L"))
        left += [(receiver, "", SMALL - 0.5, "L") for receiver in layout.receivers]
    right = []
    if layout.signer_title:
        right += [(layout.signer_title, "B", BODY, "C"), (layout.signature_hint, "I", SMALL, "C")]
        right += [("", "", BODY, "C")] * 3
        if layout.signer_name:
            right.append((layout.signer_name, "B", BODY, "C"))
    if left or right:
        pdf.columns(left, right)
    if layout.copy_note:
        pdf.ln(LINE)
        pdf.lines(LEFT, pdf.w - LEFT - RIGHT, [(layout.copy_note, "I", SMALL - 1, "L")])


def render_pdf(notice: Notice, templates: NoticeTemplates | None = None) -> bytes:
    """The reporter's PDF of ``notice``; a ``NoticeError`` before anything is drawn."""
    layout = compose(
        notice, load_templates() if templates is None else templates, Audience.REPORTER
    )
    pdf = _Writer()
    day = layout.issued_on
    pdf.set_creation_date(datetime(day.year, day.month, day.day, tzinfo=UTC))
    pdf.set_title(layout.metadata_title)
    pdf.set_lang("vi")
    pdf.add_page()
    _heading(pdf, layout)
    _body(pdf, layout)
    _signature(pdf, layout)
    return bytes(pdf.output())
