"""Every notice renders as the office's DOCX and the reporter's PDF, and reading them
back (python-docx, pypdf) gives the facts: the number, the unit, the dates in
dd/mm/yyyy, the reason, and Vietnamese letters intact."""

from __future__ import annotations

from datetime import date

import pytest

from app.cases.notices import NoticeKind, render_docx, render_pdf
from tests.cases.notices.readback import docx_text, docx_xml, flat, pdf_text
from tests.factories import NOTICE_NAME, make_notice

# What each kind must say, beyond the heading every kind has. Dates as the factory sets
# them: received 04/01/2027, accepted 12/01, due 15/03, concluded 19/03, issued 22/03.
EXPECTED: dict[NoticeKind, tuple[str, ...]] = {
    NoticeKind.ACCEPT: (
        "Số: 15/TB-TTr",
        "Về việc thụ lý tố cáo",
        "04/01/2027",
        "12/01/2027",
        "15/03/2027",
        "Quyết định số 12/QĐ-TTr",
        "trên đường Nguyễn Văn Cừ",
    ),
    NoticeKind.REFUSE: (
        "Số: 15/TB-TTr",
        "Về việc không thụ lý tố cáo",
        "04/01/2027",
        "Đơn không ghi rõ người có hành vi vi phạm; thiếu tài liệu kèm theo",
    ),
    NoticeKind.TRANSFER: (
        "Số: 15/TB-TTr",
        "Về việc chuyển đơn tố cáo",
        "04/01/2027",
        "22/03/2027",
        "Ủy ban nhân dân phường Cái Răng",
    ),
    NoticeKind.EXTEND: (
        "Số: 15/QĐ-TTr",
        "QUYẾT ĐỊNH",
        "Về việc gia hạn giải quyết tố cáo",
        "12/01/2027",
        "15/03/2027",
        "lần thứ nhất, thêm 30 ngày",
        "phức tạp",
        "phải xác minh ở nhiều địa điểm",
        "Lý do gia hạn: Đơn không ghi rõ người có hành vi vi phạm",
    ),
    NoticeKind.CONCLUDE: (
        "Số: 15/TB-TTr",
        "Về kết luận nội dung tố cáo",
        "12/01/2027",
        "19/03/2027",
        "Kết luận nội dung tố cáo số 12/QĐ-TTr",
        "Tố cáo đúng một phần: việc cấp phép sai quy định tại đường số 3",
    ),
    NoticeKind.INFORMATION: (
        "THÔNG BÁO CỦA HỆ THỐNG",
        "04/01/2027",
        "xem xét, sử dụng để thanh tra, kiểm tra theo thẩm quyền",
        "không phải văn bản hành chính",
    ),
}
# Every letter shape the PDF font must carry: the horned and barred letters and the
# stacked marks.
LETTERS = "Ưu đãi ơ hờ: ặ ẫ ỗ ự ỹ Đ đ ằ ẳ ẵ ễ ệ ỉ ị ọ ỏ ố ồ ổ ỡ ợ ụ ủ ứ ừ ử ữ ỳ ỵ ỷ, đường 3/2"
LEGAL_HEADING = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
EVERY_KIND = ("THANH TRA THÀNH PHỐ CẦN THƠ", "Cần Thơ, ngày 22 tháng 3 năm 2027")


def test_every_kind_has_expectations() -> None:
    assert set(EXPECTED) == set(NoticeKind)


@pytest.mark.parametrize("kind", list(NoticeKind))
@pytest.mark.parametrize(
    ("render", "read"), [(render_docx, docx_text), (render_pdf, pdf_text)], ids=["docx", "pdf"]
)
def test_a_notice_reads_back_with_its_facts(kind, render, read) -> None:
    text = flat(read(render(make_notice(kind))))
    for expected in (*EVERY_KIND, *EXPECTED[kind]):
        assert expected in text
    if kind is NoticeKind.INFORMATION:
        # Art. 25: not a legal act - no national heading, no number, no signature block.
        assert not any(heading in text for heading in LEGAL_HEADING)
        assert "Số:" not in text
        assert "Ký, ghi rõ họ tên" not in text
    else:
        assert all(heading in text for heading in LEGAL_HEADING)
        assert "CHÁNH THANH TRA" in text


@pytest.mark.parametrize("render,read", [(render_docx, docx_text), (render_pdf, pdf_text)])
def test_vietnamese_letters_survive_the_round_trip(render, read) -> None:
    notice = make_notice(
        "accept",
        signer_name=NOTICE_NAME,
        content=LETTERS,
    )
    text = flat(read(render(notice)))
    assert NOTICE_NAME in text
    assert LETTERS in text
    assert "thụ lý" in text and "đường" in text


def test_decomposed_input_comes_out_composed() -> None:
    # "Ủ" typed as U + combining hook + combining dot would need shaping the PDF writer
    # does not do; the notice stores and prints the composed letters.
    decomposed = "Nguye\u0302\u0303n Thi\u0323 U\u0309"
    text = flat(pdf_text(render_pdf(make_notice("accept", signer_name=decomposed))))
    assert NOTICE_NAME in text


def test_the_place_and_date_line_follows_decree_30() -> None:
    # A day below 10 and the months 1 and 2 take a leading zero; other months do not.
    text = flat(
        pdf_text(render_pdf(make_notice("refuse", issued_on=date(2027, 2, 5), concluded_on=None)))
    )
    assert "Cần Thơ, ngày 05 tháng 02 năm 2027" in text
    text = flat(docx_text(render_docx(make_notice("refuse", issued_on=date(2027, 11, 30)))))
    assert "Cần Thơ, ngày 30 tháng 11 năm 2027" in text


def test_a_number_not_yet_given_leaves_room_for_the_register() -> None:
    text = docx_text(render_docx(make_notice("accept", document_number="")))
    assert "Số: \u00a0\u00a0\u00a0\u00a0\u00a0\u00a0/TB-TTr" in text


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_the_case_reference_is_on_the_office_copy_only(kind) -> None:
    # The reviewers' reference is never shown to a reporter (app/cases/references.py);
    # the office files the DOCX under it ("Lưu: ..., hồ sơ CT-2027-00042").
    notice = make_notice(kind)
    assert "CT-2027-00042" in docx_text(render_docx(notice))  # positive control
    assert "CT-2027-00042" not in pdf_text(render_pdf(notice))


@pytest.mark.parametrize("kind", [k for k in NoticeKind if k is not NoticeKind.INFORMATION])
def test_the_identity_appears_only_when_passed(kind) -> None:
    sealed = make_notice(kind)
    for data in (docx_xml(render_docx(sealed)), pdf_text(render_pdf(sealed))):
        assert NOTICE_NAME not in data
        assert "Người tố cáo (đơn tố cáo tiếp nhận ngày 04/01/2027)" in flat(data)
    # Positive control: the same checks see the name once the caller passes it.
    named = make_notice(kind, recipient_name=NOTICE_NAME)
    assert NOTICE_NAME in docx_xml(render_docx(named))
    assert NOTICE_NAME in pdf_text(render_pdf(named))


@pytest.mark.parametrize("render", [render_docx, render_pdf])
def test_rendering_is_deterministic(render) -> None:
    notice = make_notice("extend")
    assert render(notice) == render(notice)
    assert render(notice) != render(make_notice("extend", extension_days=29))


def test_a_long_reason_flows_onto_a_second_page() -> None:
    reason = "\n".join(
        f"Điểm {i}: chứng cứ về việc cấp phép sai tại đường số {i}." for i in range(60)
    )
    data = render_pdf(make_notice("refuse", reason=reason))
    text = flat(pdf_text(data))
    assert "Điểm 0:" in text and "Điểm 59:" in text
    assert text.index("Điểm 59:") < text.index("CHÁNH THANH TRA")
