"""Formal notices (app/cases/notices) for tests: a complete notice of any kind."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.cases.notices import Notice

# A name with every kind of Vietnamese mark the PDF must keep: đ/ư/ơ, stacked tones (Ủ).
NOTICE_NAME = "Nguyễn Thị Ủ"


def make_notice(kind: str, **changes: object) -> Notice:
    """A complete notice of ``kind`` (every field any template uses), with the dates of a
    case received on Monday 04/01/2027; ``changes`` override fields."""
    from datetime import date

    from app.cases.notices import Notice, NoticeKind

    values: dict[str, object] = {
        "kind": NoticeKind(kind),
        "issuing_unit": "Thanh tra thành phố Cần Thơ",
        "parent_unit": "Ủy ban nhân dân thành phố Cần Thơ",
        "unit_code": "TTr",
        "place": "Cần Thơ",
        "issued_on": date(2027, 3, 22),
        "case_reference": "CT-2027-00042",
        "document_number": "15",
        "received_on": date(2027, 1, 4),
        "accepted_on": date(2027, 1, 12),
        "due_on": date(2027, 3, 15),
        "concluded_on": date(2027, 3, 19),
        "decision_reference": "12/QĐ-TTr",
        "content": "Việc cấp phép xây dựng trên đường Nguyễn Văn Cừ, phường Ninh Kiều",
        "reason": "Đơn không ghi rõ người có hành vi vi phạm; thiếu tài liệu kèm theo",
        "transferred_to": "Ủy ban nhân dân phường Cái Răng",
        "outcome": "Tố cáo đúng một phần: việc cấp phép sai quy định tại đường số 3",
        "extension_number": 1,
        "extension_days": 30,
        "complexity_criteria": ("phải xác minh ở nhiều địa điểm",),
    }
    values.update(changes)
    return Notice(**values)  # type: ignore[arg-type]
