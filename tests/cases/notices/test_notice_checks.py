"""Bad input to a notice is a NoticeError with a Vietnamese and an English message,
raised before any document is started; the message never repeats the value."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from fpdf import FPDF

from app.cases.notices import ErrorCode, NoticeError, as_docx, render_docx, render_pdf
from tests.factories import NOTICE_NAME, make_notice

RENDERERS = [render_docx, render_pdf]


@pytest.mark.parametrize("render", RENDERERS)
@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("accept", "decision_reference"),
        ("accept", "accepted_on"),
        ("accept", "content"),
        ("refuse", "reason"),
        ("transfer", "transferred_to"),
        ("extend", "extension_number"),
        ("extend", "complexity_criteria"),
        ("conclude", "outcome"),
        ("conclude", "concluded_on"),
        ("information", "received_on"),
    ],
)
def test_a_missing_field_names_itself(render, kind, field) -> None:
    empty: object = () if field == "complexity_criteria" else None
    if field in {"decision_reference", "content", "reason", "transferred_to", "outcome"}:
        empty = ""
    with pytest.raises(NoticeError) as caught:
        render(make_notice(kind, **{field: empty}))
    error = caught.value
    assert error.code is ErrorCode.MISSING_FIELD
    # extension_number fills {extension_ordinal}, the criteria {complexity}: the message
    # names the placeholder the template could not fill.
    shown = {"extension_number": "extension_ordinal", "complexity_criteria": "complexity"}
    name = shown.get(field, field)
    assert error.message("vi") == f"Thiếu thông tin “{name}” để lập văn bản “{kind}”."
    assert error.message("en") == f"The “{kind}” notice needs “{name}”, which is missing."
    assert str(error) == error.message("vi")


def test_the_issuing_details_are_required_for_every_kind() -> None:
    for field in ("issuing_unit", "unit_code", "place", "case_reference"):
        with pytest.raises(NoticeError, match=field):
            render_pdf(make_notice("information", **{field: "  "}))


def test_no_drawing_starts_before_the_checks_pass(monkeypatch) -> None:
    # All or nothing: a bad notice is refused before a page or a document exists.
    started: list[str] = []
    monkeypatch.setattr(FPDF, "add_page", lambda *a, **k: started.append("pdf"))
    monkeypatch.setattr(as_docx, "Document", lambda: started.append("docx"))
    for render in RENDERERS:
        with pytest.raises(NoticeError):
            render(make_notice("refuse", reason=""))
    assert started == []


@pytest.mark.parametrize(
    "value", ["Chánh\x00Thanh tra", "Chánh\nThanh tra", "A\u202eB", "A\u2028B"]
)
def test_one_line_fields_refuse_control_characters(value) -> None:
    # A line break in a one-line field could forge a line of the letterhead or the
    # signature; bidi controls could make the printed text differ from the stored one.
    with pytest.raises(NoticeError) as caught:
        render_docx(make_notice("accept", signer_title=value))
    assert caught.value.code is ErrorCode.BAD_CHARACTERS
    assert "signer_title" in caught.value.message("en")


def test_long_fields_keep_their_line_breaks_and_refuse_other_controls() -> None:
    render_pdf(make_notice("refuse", reason="Thứ nhất: thiếu chữ ký.\nThứ hai: thiếu địa chỉ."))
    with pytest.raises(NoticeError) as caught:
        render_pdf(make_notice("refuse", reason="Thiếu\x07 chữ ký"))
    assert caught.value.code is ErrorCode.BAD_CHARACTERS


def test_lengths_are_bounded() -> None:
    with pytest.raises(NoticeError) as caught:
        render_pdf(make_notice("accept", transferred_to="đ" * 201))
    assert caught.value.code is ErrorCode.FIELD_TOO_LONG
    assert caught.value.message("en") == "“transferred_to” is longer than 200 characters."
    render_pdf(make_notice("refuse", reason="đ" * 4000))
    with pytest.raises(NoticeError):
        render_pdf(make_notice("refuse", reason="đ" * 4001))


def test_dates_out_of_order_are_refused() -> None:
    with pytest.raises(NoticeError) as caught:
        render_docx(make_notice("accept", accepted_on=date(2027, 1, 3)))
    assert caught.value.code is ErrorCode.BAD_DATES
    assert caught.value.message("en") == (
        "The dates do not fit: “received_on” must be on or before “accepted_on”."
    )


def test_a_time_of_day_cannot_be_passed() -> None:
    # A datetime is a date in Python; letting one through would carry a time into the
    # documents' metadata.
    with pytest.raises(TypeError):
        render_pdf(make_notice("accept", issued_on=datetime(2027, 3, 22, 9, 30)))


@pytest.mark.parametrize(
    ("changes", "english"),
    [
        ({"extension_number": 3}, "only a first or a second extension exists"),
        ({"extension_days": 31}, "each extension is 1 to 30 days"),
        ({"extension_days": 0}, "each extension is 1 to 30 days"),
        ({"extension_number": 2}, "a second extension is only for an especially complex case"),
    ],
)
def test_extensions_follow_article_30(changes, english) -> None:
    with pytest.raises(NoticeError) as caught:
        render_docx(make_notice("extend", **changes))
    assert caught.value.code is ErrorCode.BAD_EXTENSION
    assert english in caught.value.message("en")
    assert "Điều" in caught.value.message("vi")


def test_a_second_extension_with_two_criteria_is_especially_complex() -> None:
    from tests.cases.notices.readback import docx_text, flat

    notice = make_notice(
        "extend",
        extension_number=2,
        complexity_criteria=("phải xác minh ở nhiều địa điểm", "có nhiều người tố cáo"),
    )
    text = flat(docx_text(render_docx(notice)))
    assert "lần thứ hai" in text and "đặc biệt phức tạp" in text


def test_anonymous_information_never_carries_a_name() -> None:
    with pytest.raises(NoticeError) as caught:
        render_pdf(make_notice("information", recipient_name=NOTICE_NAME))
    assert caught.value.code is ErrorCode.NAME_NOT_ALLOWED
    assert NOTICE_NAME not in caught.value.message("vi") + caught.value.message("en")


def test_messages_do_not_repeat_the_value() -> None:
    # Errors get logged; a reason can be content of a sealed case.
    secret = "bí mật của vụ việc\x01"
    with pytest.raises(NoticeError) as caught:
        render_pdf(make_notice("refuse", reason=secret))
    assert "bí mật" not in caught.value.message("vi") + caught.value.message("en")


@pytest.mark.parametrize("number", ["15/TB-TTr", "١٥", "15 ", "mười lăm"])
def test_the_document_number_is_digits_only(number) -> None:
    # The symbol and the unit's code are added from the template; a full "15/TB-TTr"
    # here would print "Số: 15/TB-TTr/TB-TTr". Arabic-Indic digits are digits to Python
    # but not to the register. (A trailing space is trimmed like every field.)
    if number == "15 ":
        render_docx(make_notice("accept", document_number=number))
        return
    with pytest.raises(NoticeError) as caught:
        render_docx(make_notice("accept", document_number=number))
    assert caught.value.code is ErrorCode.NOT_A_NUMBER


def test_blank_criteria_do_not_count_towards_complexity() -> None:
    # Two criteria, one of them blank, is one criterion: no second extension (art. 30(3)).
    with pytest.raises(NoticeError) as caught:
        render_docx(
            make_notice(
                "extend", extension_number=2, complexity_criteria=("có nhiều người tố cáo", " ")
            )
        )
    assert caught.value.code is ErrorCode.BAD_EXTENSION
