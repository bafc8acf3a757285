"""The office's copy as DOCX (python-docx): the hồ sơ copy that the office edits,
numbers, prints and signs, in the fonts and margins its other documents use.

Deterministic and dateless below the day: python-docx stamps the package's core
properties with its own author and the current time, and zipfile stamps every entry
with the time of saving. Both are replaced here - no author, created and modified at
00:00 UTC of the notice's day, every zip entry dated that day at 00:00 - so the file
says no more about when it was made than the notice's own date does (DESIGN.md
promise 7), and two renderings of one notice are the same bytes.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.shared import Cm, Length, Mm, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph as DocxParagraph

from app.cases.notices.compose import MOTTO, NATIONAL_TITLE, Audience, Layout, compose
from app.cases.notices.model import Notice
from app.cases.notices.templates import NoticeTemplates, Style, load_templates
from app.cases.office_package import dated_package

# Decree 30/2020/NĐ-CP, Annex I: Times New Roman (Unicode, TCVN 6909:2001), A4, margins
# top and bottom 20-25 mm, left 30-35 mm, right 15-20 mm; the body at 13-14 pt. The
# office machines have the font; the DOCX names it and embeds nothing.
FONT = "Times New Roman"
BODY_SIZE = Pt(14)
HEAD_SIZE = Pt(12)  # the national title and the bodies: 12-13 pt; 12 keeps each on one line
RULE = "\u2014" * 6  # the short rule under the issuing body and under the motto


def _line(
    target: _Cell | None,
    document: DocumentObject,
    text: str,
    *,
    size: Pt = BODY_SIZE,
    bold: bool = False,
    italic: bool = False,
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.CENTER,
    first: bool = False,
) -> DocxParagraph:
    paragraph: DocxParagraph
    if target is not None:
        paragraph = target.paragraphs[0] if first else target.add_paragraph()
    else:
        paragraph = document.add_paragraph()
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(0)
    run = paragraph.add_run(text)
    run.font.size, run.bold, run.italic = size, bold, italic
    return paragraph


def _two_columns(document: DocumentObject, left: Length, right: Length) -> tuple[_Cell, _Cell]:
    """A borderless one-row table of two fixed columns (about the 16 cm between margins).
    Word reads the cells' widths, LibreOffice the grid's: both are set."""
    table = document.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    cells = table.rows[0].cells
    for column, cell, width in zip(table.columns, cells, (left, right), strict=True):
        column.width = cell.width = width
    return cells[0], cells[1]


def _heading(document: DocumentObject, layout: Layout) -> None:
    left, right = _two_columns(document, Cm(6.8), Cm(9.7))
    first = True
    if layout.parent_unit:
        _line(left, document, layout.parent_unit, size=HEAD_SIZE, first=True)
        first = False
    _line(left, document, layout.issuing_unit, size=HEAD_SIZE, bold=True, first=first)
    _line(left, document, RULE, size=HEAD_SIZE)
    if layout.number_line:
        _line(left, document, layout.number_line, size=HEAD_SIZE)
    if layout.national_heading:
        _line(right, document, NATIONAL_TITLE, size=HEAD_SIZE, bold=True, first=True)
        _line(right, document, MOTTO, size=Pt(13), bold=True)
        _line(right, document, RULE)
        _line(right, document, layout.place_date, italic=True)
    else:
        _line(right, document, layout.place_date, italic=True, first=True)


def _signature(document: DocumentObject, layout: Layout) -> None:
    left, right = _two_columns(document, Cm(8), Cm(8))
    if layout.receivers:
        _line(left, document, "Nơi nhận:", size=Pt(12), bold=True, italic=True,
              align=WD_ALIGN_PARAGRAPH.LEFT, first=True)  # fmt: skip
        for receiver in layout.receivers:
            _line(left, document, receiver, size=Pt(11), align=WD_ALIGN_PARAGRAPH.LEFT)
    if layout.signer_title:
        _line(right, document, layout.signer_title, bold=True, first=True)
        _line(right, document, layout.signature_hint, size=Pt(12), italic=True)
        for _ in range(3):  # room for the signature and the seal
            _line(right, document, "")
        if layout.signer_name:
            _line(right, document, layout.signer_name, bold=True)


def _document(layout: Layout) -> DocumentObject:
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(20)
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = BODY_SIZE

    _heading(document, layout)
    _line(None, document, "")
    _line(None, document, layout.title, bold=True)
    if layout.subject:
        _line(None, document, layout.subject, bold=True)
    _line(None, document, "")
    if layout.greeting:
        _line(None, document, layout.greeting)
        _line(None, document, "")
    for paragraph in layout.paragraphs:
        if paragraph.style is Style.HEADING:
            _line(None, document, paragraph.text, bold=True)
            continue
        body = _line(None, document, paragraph.text, align=WD_ALIGN_PARAGRAPH.JUSTIFY,
                     italic=paragraph.style is Style.NOTE,
                     size=Pt(12) if paragraph.style is Style.NOTE else BODY_SIZE)  # fmt: skip
        body.paragraph_format.first_line_indent = Cm(1)
        body.paragraph_format.space_after = Pt(6)
    _line(None, document, "")
    _signature(document, layout)
    _set_properties(document, layout)
    return document


def _set_properties(document: DocumentObject, layout: Layout) -> None:
    # python-docx's starting package carries a thumbnail of some other, empty page;
    # a file browser would show it as this notice's preview. Its relationship goes, and
    # with it the part (only related parts are written).
    package = document.part.package
    for rel_id, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del package.rels[rel_id]
    day = datetime(layout.issued_on.year, layout.issued_on.month, layout.issued_on.day, tzinfo=UTC)
    core = document.core_properties
    core.author = ""
    core.last_modified_by = ""
    core.comments = ""
    core.keywords = ""
    core.category = ""
    core.subject = ""
    core.title = layout.metadata_title
    core.revision = 1
    core.created = day
    core.modified = day
    core.last_printed = day


def render_docx(notice: Notice, templates: NoticeTemplates | None = None) -> bytes:
    """The office's DOCX of ``notice``; a ``NoticeError`` before anything is built."""
    layout = compose(notice, load_templates() if templates is None else templates, Audience.OFFICE)
    buffer = io.BytesIO()
    _document(layout).save(buffer)
    return dated_package(buffer.getvalue(), layout.issued_on)
