"""A notice and its template become one laid-out text, which both renderers draw.

The wording is decided here once, so the office's DOCX and the reporter's PDF cannot
say different things; they differ only in what the audience rule below removes.

The layout follows the presentation rules for administrative documents (Decree
30/2020/NĐ-CP on văn thư, Annex I): top left the parent body and the issuing body in
capitals with the number "Số: 15/TB-TTr" under them; top right the national title
"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", the motto "Độc lập - Tự do - Hạnh phúc" and the
place and date line in italics; then the document type and its subject, "Kính gửi",
the body, and at the bottom "Nơi nhận:" on the left and the signer's title on the
right. The forms annexed to Decree 31/2019/NĐ-CP follow the same frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from app.cases.notices.errors import ErrorCode, NoticeError
from app.cases.notices.model import ORDINALS, Notice, checked, complexity, dmy, long_date
from app.cases.notices.templates import (
    NoticeTemplate,
    NoticeTemplates,
    Paragraph,
    placeholders_of,
)

NATIONAL_TITLE = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
# Space the văn thư fills in by hand when the number is not known yet.
BLANK_NUMBER = "\u00a0" * 6
SIGNATURE_HINT = "(Ký, ghi rõ họ tên, đóng dấu)"


class Audience(StrEnum):
    OFFICE = "office"  # the DOCX for the hồ sơ: edited, signed, filed
    REPORTER = "reporter"  # the PDF delivered into the reporter's thread


@dataclass(frozen=True)
class Layout:
    parent_unit: str  # capitals, may be empty
    issuing_unit: str  # capitals
    number_line: str  # "Số: 15/TB-TTr"; empty for a system notice
    national_heading: bool
    place_date: str
    title: str
    subject: str
    greeting: str
    paragraphs: tuple[Paragraph, ...]
    receivers: tuple[str, ...]  # each "- ...", the last one the archive for the office
    signer_title: str
    signature_hint: str
    signer_name: str
    copy_note: str
    metadata_title: str
    issued_on: date  # the documents' creation date in their metadata: a day, no time


def _values(notice: Notice, template: NoticeTemplate) -> dict[str, str]:
    optional = {
        "received_on": notice.received_on,
        "accepted_on": notice.accepted_on,
        "due_on": notice.due_on,
        "concluded_on": notice.concluded_on,
    }
    values = {name: dmy(day) for name, day in optional.items() if day is not None}
    values.update(
        issuing_unit=notice.issuing_unit,
        place=notice.place,
        issued_on=dmy(notice.issued_on),
        issued_on_long=long_date(notice.issued_on),
        signer_title=(notice.signer_title or template.signer_title).upper(),
        case_reference=notice.case_reference,
    )
    for name in (
        "parent_unit",
        "decision_reference",
        "content",
        "reason",
        "transferred_to",
        "outcome",
    ):
        if getattr(notice, name):
            values[name] = getattr(notice, name)
    if notice.extension_number is not None:
        values["extension_ordinal"] = ORDINALS[notice.extension_number]
    if notice.extension_days is not None:
        values["extension_days"] = str(notice.extension_days)
    if notice.complexity_criteria:
        values["complexity"] = complexity(notice.complexity_criteria)
        values["complexity_criteria"] = "; ".join(notice.complexity_criteria)
    return values


def _fill(text: str, values: dict[str, str], notice: Notice) -> str:
    for name in placeholders_of(text):
        if name not in values:
            raise NoticeError(ErrorCode.MISSING_FIELD, field=name, kind=notice.kind.value)
    return text.format(**values)


def compose(notice: Notice, templates: NoticeTemplates, audience: Audience) -> Layout:
    """Check the notice, fill its template, and lay it out for ``audience``.

    Every placeholder is filled before anything is returned: a missing value is a
    ``NoticeError`` naming the field, and no renderer ever starts on a half notice."""
    notice = checked(notice)
    template = templates[notice.kind]
    values = _values(notice, template)
    recipient = notice.recipient_name or _fill(template.default_recipient, values, notice)
    values["recipient"] = recipient

    def fill(text: str) -> str:
        return _fill(text, values, notice)

    receivers = [f"- {fill(r)}" for r in template.receivers]
    if audience is Audience.OFFICE and template.archive:
        receivers.append(f"- {fill(template.archive)}")
    number = notice.document_number or BLANK_NUMBER
    title, subject = fill(template.title), fill(template.subject)
    return Layout(
        parent_unit=notice.parent_unit.upper(),
        issuing_unit=notice.issuing_unit.upper(),
        number_line=f"Số: {number}/{template.symbol}-{notice.unit_code}"
        if template.legal_act
        else "",
        national_heading=template.legal_act,
        place_date=f"{notice.place}, {long_date(notice.issued_on)}",
        title=title,
        subject=subject,
        greeting=fill(template.greeting),
        paragraphs=tuple(Paragraph(fill(p.text), p.style) for p in template.paragraphs),
        receivers=tuple(receivers),
        signer_title=values["signer_title"] if template.legal_act else "",
        signature_hint=SIGNATURE_HINT if template.legal_act else "",
        signer_name=notice.signer_name,
        copy_note=fill(template.copy_note) if audience is Audience.REPORTER else "",
        metadata_title=f"{title} {subject}".strip(),
        issued_on=notice.issued_on,
    )
