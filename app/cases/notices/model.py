"""What a notice says, as plain values: the caller (the case workflow) fills a
``Notice`` and gets document bytes back; nothing here reads the database.

The identity rule (Luật Tố cáo 2018 art. 47: the name, address and handwriting of a
denouncer are kept secret): a notice names its recipient only when the caller passes
``recipient_name`` - the workflow does so only after an unsealing it is entitled to.
Otherwise the recipient is the template's neutral wording ("Người tố cáo ..."), never
a name, an address or the receipt (the receipt opens the case: it is a credential and
goes into no document). The reviewers' case reference is the office's filing mark and
appears only in the office's DOCX, never in the reporter's PDF (app/cases/references.py
says why a reporter is not shown it).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from app.cases.notices.errors import ErrorCode, NoticeError


class NoticeKind(StrEnum):
    """One template per kind, ``config/notices/<kind>.toml``."""

    ACCEPT = "accept"  # thụ lý (Decree 31/2019 Mẫu 05; Law art. 29(3))
    REFUSE = "refuse"  # không thụ lý (Law art. 24(1)); no statutory form
    TRANSFER = "transfer"  # chuyển đơn (Law art. 24(2)); no form in Decree 31
    EXTEND = "extend"  # gia hạn (Decree 31/2019 Mẫu 01; Law art. 30(4))
    CONCLUDE = "conclude"  # notice of the conclusion (Law art. 35(3)); no statutory form
    INFORMATION = "information"  # anonymous information (Law art. 25): a system notice


# The longest text a field may hold. Short fields are single lines of a letterhead;
# the long ones are the inspector's own paragraphs.
SHORT = 200
LONG = 4000
# Fields that may hold several lines (rendered as line breaks); every other field is
# one line, so a value cannot push fake lines (a false "Nơi nhận", a signature) into
# the document.
MULTILINE = frozenset({"reason", "content", "outcome"})

# Decree 31/2019/NĐ-CP art. 3(2)-(3): a case meeting one of the listed criteria is
# complex (one extension, Law art. 30(2)); meeting two or more, especially complex (up
# to two extensions, art. 30(3)). Each extension adds at most 30 days (art. 30).
MAX_EXTENSION_DAYS = 30
ORDINALS = {1: "lần thứ nhất", 2: "lần thứ hai"}


@dataclass(frozen=True)
class Notice:
    """One notice. Dates are calendar days (no time of day: DESIGN.md promise 7)."""

    kind: NoticeKind
    issuing_unit: str  # as written in running text: "Thanh tra thành phố Cần Thơ"
    unit_code: str  # the register's short code, "TTr" in "Số: 15/TB-TTr"
    place: str  # "Cần Thơ" in "Cần Thơ, ngày 05 tháng 01 năm 2027"
    issued_on: date
    case_reference: str  # the office's filing mark (CT-2026-00042); DOCX only
    parent_unit: str = ""  # cơ quan chủ quản above the issuing unit, if any
    document_number: str = ""  # blank: the văn thư writes it in when the act is signed
    signer_title: str = ""  # blank: the template's default ("CHÁNH THANH TRA")
    signer_name: str = ""  # blank: left for the signature
    recipient_name: str = ""  # only after an unsealing the caller is entitled to
    received_on: date | None = None
    accepted_on: date | None = None
    due_on: date | None = None
    concluded_on: date | None = None
    decision_reference: str = ""  # số of the act announced (QĐ thụ lý, Kết luận)
    content: str = ""  # the content accepted for resolution (Law art. 29(2))
    reason: str = ""  # why not accepted, or why extended
    transferred_to: str = ""  # the competent body (Law art. 24(2))
    outcome: str = ""  # what the conclusion found (Law art. 35(3))
    extension_number: int | None = None  # 1 or 2 (Law art. 30(2)-(3))
    extension_days: int | None = None  # at most 30
    complexity_criteria: tuple[str, ...] = ()  # Decree 31/2019 art. 3(2) criteria met


def dmy(day: date) -> str:
    """dd/mm/yyyy, the way the city writes dates in running text."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def long_date(day: date) -> str:
    """The long form, "ngày 05 tháng 01 năm 2027". Decree 30/2020/NĐ-CP (văn thư), Annex
    I: a day below 10 and the months 1 and 2 take a leading zero, other months do not."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year:04d}"


def _clean(field: str, value: str) -> str:
    # NFC: a decomposed "ủ" (u + combining marks) would need glyph shaping the PDF
    # writer does not do, and would not compare equal when read back.
    text = unicodedata.normalize("NFC", value).strip()
    limit = LONG if field in MULTILINE else SHORT
    if len(text) > limit:
        raise NoticeError(ErrorCode.FIELD_TOO_LONG, field=field, max_length=limit)
    allowed = {"\n"} if field in MULTILINE else set()
    if any(unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} and c not in allowed for c in text):
        raise NoticeError(ErrorCode.BAD_CHARACTERS, field=field)
    return text


_TEXT_FIELDS = (
    "issuing_unit",
    "unit_code",
    "place",
    "case_reference",
    "parent_unit",
    "document_number",
    "signer_title",
    "signer_name",
    "recipient_name",
    "decision_reference",
    "content",
    "reason",
    "transferred_to",
    "outcome",
)
_DATE_FIELDS = ("received_on", "accepted_on", "due_on", "concluded_on")
_DATE_ORDER = (
    ("received_on", "accepted_on"),
    ("accepted_on", "due_on"),
    ("accepted_on", "concluded_on"),
    ("received_on", "issued_on"),
    ("concluded_on", "issued_on"),
)


def _check_dates(notice: Notice) -> None:
    for earlier, later in _DATE_ORDER:
        first, second = getattr(notice, earlier), getattr(notice, later)
        if first is not None and second is not None and first > second:
            raise NoticeError(ErrorCode.BAD_DATES, earlier=earlier, later=later)


def _check_extension(notice: Notice) -> None:
    number, days = notice.extension_number, notice.extension_days
    if number is not None and number not in ORDINALS:
        raise NoticeError(
            ErrorCode.BAD_EXTENSION,
            detail_vi="chỉ được gia hạn lần thứ nhất hoặc lần thứ hai (Điều 30 Luật Tố cáo).",
            detail_en="only a first or a second extension exists (Law on Denunciation art. 30).",
        )
    if days is not None and not 1 <= days <= MAX_EXTENSION_DAYS:
        raise NoticeError(
            ErrorCode.BAD_EXTENSION,
            detail_vi="mỗi lần gia hạn từ 1 đến 30 ngày (Điều 30 Luật Tố cáo).",
            detail_en="each extension is 1 to 30 days (Law on Denunciation art. 30).",
        )
    if number == 2 and len(notice.complexity_criteria) < 2:
        raise NoticeError(
            ErrorCode.BAD_EXTENSION,
            detail_vi="gia hạn lần thứ hai chỉ dành cho vụ việc đặc biệt phức tạp, tức có "
            "từ hai tiêu chí trở lên (Điều 3 Nghị định 31/2019/NĐ-CP).",
            detail_en="a second extension is only for an especially complex case, one that "
            "meets two or more criteria (Decree 31/2019 art. 3).",
        )


def complexity(criteria: tuple[str, ...]) -> str:
    """The name Decree 31/2019 art. 3 gives a case by the number of criteria it meets."""
    return "đặc biệt phức tạp" if len(criteria) >= 2 else "phức tạp"


def checked(notice: Notice) -> Notice:
    """The notice with every text in NFC and checked, or a ``NoticeError``."""
    cleaned = {name: _clean(name, getattr(notice, name)) for name in _TEXT_FIELDS}
    criteria = tuple(
        text for c in notice.complexity_criteria if (text := _clean("complexity_criteria", c))
    )
    for name in ("issued_on", *_DATE_FIELDS):
        value = getattr(notice, name)
        if isinstance(value, datetime):
            # A programming error, not bad input: a notice carries days only, so that
            # no time of day can reach a document (DESIGN.md promise 7).
            raise TypeError(f"{name} must be a date, not a datetime")
    if notice.kind == NoticeKind.INFORMATION and cleaned["recipient_name"]:
        # Art. 25: anonymous information has no denouncer to name; a name here could
        # only come from a mistake, and would put an identity into the reporter's thread.
        raise NoticeError(ErrorCode.NAME_NOT_ALLOWED)
    number = cleaned["document_number"]
    if number and not (number.isascii() and number.isdigit()):
        # Decree 30/2020 Annex I: the number is Arabic digits; "Số: 15/TB-TTr" is built
        # from it, the template's symbol and the unit's code.
        raise NoticeError(ErrorCode.NOT_A_NUMBER, field="document_number")
    for required in ("issuing_unit", "unit_code", "place", "case_reference"):
        if not cleaned[required]:
            raise NoticeError(ErrorCode.MISSING_FIELD, field=required, kind=str(notice.kind))
    result = Notice(
        kind=NoticeKind(notice.kind),
        issued_on=notice.issued_on,
        received_on=notice.received_on,
        accepted_on=notice.accepted_on,
        due_on=notice.due_on,
        concluded_on=notice.concluded_on,
        extension_number=notice.extension_number,
        extension_days=notice.extension_days,
        complexity_criteria=criteria,
        **cleaned,
    )
    _check_dates(result)
    _check_extension(result)
    return result
