"""The questionnaire: the default file, strict loading, and every answer rule."""

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.cases.questionnaire import (
    DEFAULT_PATH,
    ErrorCode,
    Questionnaire,
    QuestionnaireFormatError,
    QuestionType,
    load_questionnaire,
    validate_answers,
)
from app.models.vocabulary import Category, Sector

TODAY = date(2026, 3, 15)
VALID: dict[str, list[str]] = {
    "category": ["corruption"],
    "summary": ["Thu tiền sai quy định khi cấp giấy phép xây dựng"],
    "details": ["Cán bộ phường yêu cầu nộp thêm 5 triệu đồng.\nKhông có biên lai."],
}


@pytest.fixture(scope="module")
def q() -> Questionnaire:
    return load_questionnaire()


def _check(q: Questionnaire, **fields: list[str]) -> Any:
    return validate_answers(q, {**VALID, **fields}, today=TODAY)


# -- the default file ----------------------------------------------------------------------


def test_default_file_loads_in_order(q: Questionnaire) -> None:
    assert [x.id for x in q.questions] == [
        "category",
        "sector",
        "summary",
        "details",
        "people_involved",
        "location",
        "when",
        "when_date",
        "how_known",
        "evidence",
        "amount",
        "reported_elsewhere",
        "contact",
    ]
    assert q.version == 1
    assert load_questionnaire() is q  # cached
    assert load_questionnaire(DEFAULT_PATH) is not q  # an explicit path is read again


def test_default_file_rules(q: Questionnaire) -> None:
    required = {x.id for x in q.questions if x.required}
    assert required == {"category", "summary", "details"}
    lengths = {x.id: x.max_length for x in q.questions if x.max_length}
    assert lengths == {
        "summary": 200,
        "details": 20000,
        "people_involved": 5000,
        "location": 300,
        "when": 200,
        "evidence": 5000,
        "amount": 200,
        "contact": 1000,
    }
    assert q.by_id["when_date"].type is QuestionType.DATE
    assert q.by_id["details"].type is QuestionType.TEXTAREA
    assert [x.id for x in q.questions if x.anonymity_warning] == ["contact"]
    assert "ẩn danh" in q.by_id["contact"].label.vi
    assert "anonymous" in q.by_id["contact"].label.en
    assert "Ninh Kiều" in q.by_id["location"].help.vi  # type: ignore[union-attr]


def test_closed_vocabularies_match_the_database_exactly(q: Questionnaire) -> None:
    # These two are stored in clear behind CHECK constraints: a mismatch would make
    # every submission with that value fail at insert.
    assert [o.value for o in q.by_id["category"].options] == [c.value for c in Category]
    assert [o.value for o in q.by_id["sector"].options] == [s.value for s in Sector]
    assert [o.label.vi for o in q.by_id["category"].options] == [
        "Tham nhũng",
        "Lãng phí tiền, tài sản công",
        "Tiêu cực của cán bộ, công chức",
        "Nhũng nhiễu người dân, doanh nghiệp",
        "Xung đột lợi ích",
        "Kê khai tài sản, thu nhập",
        "Khác",
    ]


def test_every_text_is_in_both_languages(q: Questionnaire) -> None:
    for question in q.questions:
        assert question.label.vi.strip() and question.label.en.strip()
        assert question.label.vi != question.label.en
        for option in question.options:
            assert option.label.vi.strip() and option.label.en.strip()


def test_public_dict_has_every_field(q: Questionnaire) -> None:
    public = q.to_public_dict()
    json.dumps(public)  # serialisable as is
    assert public["version"] == 1
    contact = public["questions"][-1]
    assert contact == {
        "id": "contact",
        "type": "textarea",
        "required": False,
        "label": q.by_id["contact"].label.to_dict(),
        "help": q.by_id["contact"].help.to_dict(),  # type: ignore[union-attr]
        "max_length": 1000,
        "options": [],
        "anonymity_warning": True,
    }
    category = public["questions"][0]
    assert category["options"][0] == {
        "value": "corruption",
        "label": {"vi": "Tham nhũng", "en": "Corruption"},
    }


def test_label_helpers(q: Questionnaire) -> None:
    assert q.label("summary", "vi") == "Tóm tắt"
    assert q.label("summary", "en") == "Summary"
    assert q.label("summary", "en-GB") == "Summary"
    assert q.option_label("category", "waste", "vi") == "Lãng phí tiền, tài sản công"
    assert q.option_label("sector", "health", "en") == "Health"
    # A report written under an older questionnaire still renders.
    assert q.label("retired_question", "vi") == "retired_question"
    assert q.option_label("category", "retired_value", "en") == "retired_value"


# -- answers -------------------------------------------------------------------------------


def test_valid_minimal_answers(q: Questionnaire) -> None:
    result = validate_answers(q, VALID, today=TODAY)
    assert result.ok and result.errors == {}
    assert result.answers == {
        "category": "corruption",
        "summary": VALID["summary"][0],
        "details": VALID["details"][0],
    }


def test_valid_full_answers(q: Questionnaire) -> None:
    result = _check(
        q,
        sector=["land_construction"],
        people_involved=["Ông A, cán bộ địa chính"],
        location=["Phường Cái Khế, Ninh Kiều"],
        when=["khoảng tháng 3/2025"],
        when_date=["2025-03-02"],
        how_known=["asked_for_payment"],
        evidence=["Tin nhắn Zalo"],
        amount=["khoảng 5 triệu đồng"],
        reported_elsewhere=["no"],
        contact=[""],
    )
    assert result.errors == {}
    assert result.answers["when_date"] == "2025-03-02"
    assert result.answers["sector"] == "land_construction"
    assert "contact" not in result.answers  # empty optional answers are left out


def test_required_missing_or_blank(q: Questionnaire) -> None:
    result = validate_answers(q, {"summary": ["   \r\n "], "details": []}, today=TODAY)
    assert set(result.errors) == {"category", "summary", "details"}
    assert all(e.code is ErrorCode.REQUIRED for e in result.errors.values())
    assert result.answers == {}
    assert result.errors["summary"].message("vi") == "“Tóm tắt” là bắt buộc."
    assert result.errors["summary"].message("en") == "“Summary” is required."
    assert result.errors["summary"].message() == "“Tóm tắt” là bắt buộc."  # Vietnamese default


def test_text_is_stripped_and_newlines_normalised(q: Questionnaire) -> None:
    result = _check(q, summary=["  Tóm tắt  "], details=["dòng 1\r\ndòng 2\r\n\tthụt lề\n"])
    assert result.answers["summary"] == "Tóm tắt"
    assert result.answers["details"] == "dòng 1\ndòng 2\n\tthụt lề"


def test_length_counts_characters_not_bytes(q: Questionnaire) -> None:
    at_limit = "ệ" * 200  # 600 bytes of UTF-8, 200 characters
    assert _check(q, summary=[at_limit]).answers["summary"] == at_limit
    # Decomposed Vietnamese (base letter + combining marks) counts as what is seen.
    decomposed = "e\u0323\u0302" * 200
    assert _check(q, summary=[decomposed]).answers["summary"] == at_limit


def test_too_long(q: Questionnaire) -> None:
    result = _check(q, summary=["a" * 201], contact=["x" * 1001])
    assert result.errors["summary"].code is ErrorCode.TOO_LONG
    assert result.errors["summary"].params == {"max_length": 200, "length": 201}
    assert result.errors["summary"].message("vi").startswith("“Tóm tắt” dài quá 200 ký tự")
    assert (
        result.errors["summary"].message("en").startswith("“Summary” is longer than 200 characters")
    )
    assert result.errors["contact"].code is ErrorCode.TOO_LONG
    assert "summary" not in result.answers


@pytest.mark.parametrize("bad", ["a\x00b", "a\x07b", "a\x1bb", "a\x7fb", "a\x85b", "a\ud800b"])
def test_control_characters_refused(q: Questionnaire, bad: str) -> None:
    result = _check(q, details=[bad])
    assert result.errors["details"].code is ErrorCode.INVALID_CHARACTERS
    assert "ký tự điều khiển" in result.errors["details"].message("vi")
    assert "control characters" in result.errors["details"].message("en")
    assert "Nội dung chi tiết" in result.errors["details"].message("vi")


def test_tab_newline_and_carriage_return_allowed(q: Questionnaire) -> None:
    result = _check(q, details=["a\tb\nc\rd"])
    assert result.answers["details"] == "a\tb\nc\rd"


def test_select(q: Questionnaire) -> None:
    assert _check(q, sector=["health"]).answers["sector"] == "health"
    result = _check(q, category=["bribery"], sector=["Health"])
    assert result.errors["category"].code is ErrorCode.INVALID_CHOICE
    assert result.errors["sector"].code is ErrorCode.INVALID_CHOICE
    assert result.errors["category"].message("vi").startswith("“Loại vụ việc”: lựa chọn không")
    assert result.errors["category"].message("en").startswith("“Type of wrongdoing”: that choice")
    assert result.errors["category"].params == {}  # nothing the reporter typed is echoed
    assert "sector" not in _check(q, sector=[""]).answers


def _with_multiselect(q: Questionnaire) -> Questionnaire:
    raw = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    raw["questions"].append(
        {
            "id": "channels",
            "type": "multiselect",
            "required": True,
            "label": {"vi": "Kênh", "en": "Channels"},
            "options": [
                {"value": "a", "label": {"vi": "A", "en": "A"}},
                {"value": "b", "label": {"vi": "B", "en": "B"}},
            ],
        }
    )
    from app.cases.questionnaire import parse_questionnaire

    return parse_questionnaire(raw)


def test_multiselect(q: Questionnaire) -> None:
    mq = _with_multiselect(q)
    assert validate_answers(mq, {**VALID, "channels": ["b", "a"]}, today=TODAY).answers[
        "channels"
    ] == ["b", "a"]
    for bad in (["a", "a"], ["a", "c"]):
        result = validate_answers(mq, {**VALID, "channels": bad}, today=TODAY)
        assert result.errors["channels"].code is ErrorCode.INVALID_CHOICE
    missing = validate_answers(mq, {**VALID, "channels": ["", " "]}, today=TODAY)
    assert missing.errors["channels"].code is ErrorCode.REQUIRED


@pytest.mark.parametrize(
    "value", ["2025-02-30", "2025-13-01", "15/03/2025", "20250315", "2025-W11-1", "1974-12-31"]
)
def test_invalid_dates(q: Questionnaire, value: str) -> None:
    result = _check(q, when_date=[value])
    error = result.errors["when_date"]
    assert error.code is ErrorCode.INVALID_DATE
    assert error.message("vi").startswith("“Ngày cụ thể” phải là một ngày có thật")
    assert "1975" in error.message("en")


def test_date_bounds(q: Questionnaire) -> None:
    assert _check(q, when_date=["1975-01-01"]).answers["when_date"] == "1975-01-01"
    assert _check(q, when_date=[" 2026-03-15 "]).answers["when_date"] == "2026-03-15"
    result = _check(q, when_date=["2026-03-16"])
    assert result.errors["when_date"].code is ErrorCode.FUTURE_DATE
    assert result.errors["when_date"].message("vi") == (
        "“Ngày cụ thể” không thể là một ngày trong tương lai."
    )
    assert (
        result.errors["when_date"].message("en") == "“Exact date” cannot be a date in the future."
    )


def test_date_defaults_to_today(q: Questionnaire) -> None:
    tomorrow = date.fromordinal(date.today().toordinal() + 1).isoformat()
    assert validate_answers(q, {**VALID, "when_date": [tomorrow]}).errors["when_date"].code == (
        ErrorCode.FUTURE_DATE
    )


def test_unknown_fields_ignored_and_first_value_used(q: Questionnaire) -> None:
    result = validate_answers(
        q, {**VALID, "csrf_token": ["x"], "nonsense": ["y"], "category": ["waste", "other"]}
    )
    assert result.errors == {}
    assert set(result.answers) == {"category", "summary", "details"}
    assert result.answers["category"] == "waste"


def test_plain_strings_are_a_programming_error(q: Questionnaire) -> None:
    with pytest.raises(TypeError):
        validate_answers(q, {"summary": "abc"})  # type: ignore[dict-item]


# -- broken files --------------------------------------------------------------------------


def _default_raw() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    return raw


def _write(tmp_path: Path, raw: object) -> Path:
    path = tmp_path / "questionnaire.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    return path


def _question(raw: dict[str, Any], qid: str) -> dict[str, Any]:
    found: dict[str, Any] = next(x for x in raw["questions"] if x["id"] == qid)
    return found


def test_round_trip_of_a_copy(tmp_path: Path, q: Questionnaire) -> None:
    assert load_questionnaire(_write(tmp_path, _default_raw())) == q


def _break_unknown_type(raw: dict[str, Any]) -> None:
    _question(raw, "summary")["type"] = "email"


def _break_duplicate_id(raw: dict[str, Any]) -> None:
    raw["questions"].append(copy.deepcopy(_question(raw, "amount")))


def _break_select_without_options(raw: dict[str, Any]) -> None:
    del _question(raw, "how_known")["options"]


def _break_select_empty_options(raw: dict[str, Any]) -> None:
    _question(raw, "how_known")["options"] = []


def _break_missing_en_label(raw: dict[str, Any]) -> None:
    del _question(raw, "evidence")["label"]["en"]


def _break_blank_vi_label(raw: dict[str, Any]) -> None:
    _question(raw, "evidence")["label"]["vi"] = "  "


def _break_missing_option_label(raw: dict[str, Any]) -> None:
    del _question(raw, "reported_elsewhere")["options"][1]["label"]["vi"]


def _break_typo_key(raw: dict[str, Any]) -> None:
    question = _question(raw, "details")
    question["requird"] = question.pop("required")


def _break_max_length_missing(raw: dict[str, Any]) -> None:
    del _question(raw, "location")["max_length"]


def _break_max_length_bool(raw: dict[str, Any]) -> None:
    _question(raw, "location")["max_length"] = True


def _break_required_not_bool(raw: dict[str, Any]) -> None:
    _question(raw, "amount")["required"] = "yes"


def _break_duplicate_option(raw: dict[str, Any]) -> None:
    options = _question(raw, "how_known")["options"]
    options.append(copy.deepcopy(options[0]))


def _break_category_vocabulary(raw: dict[str, Any]) -> None:
    _question(raw, "category")["options"][0]["value"] = "bribery"


def _break_sector_vocabulary(raw: dict[str, Any]) -> None:
    _question(raw, "sector")["options"].pop()


def _break_category_optional(raw: dict[str, Any]) -> None:
    _question(raw, "category")["required"] = False


def _break_reserved_id(raw: dict[str, Any]) -> None:
    _question(raw, "amount")["id"] = "csrf_token"


def _break_options_on_text(raw: dict[str, Any]) -> None:
    _question(raw, "amount")["options"] = [{"value": "x", "label": {"vi": "x", "en": "x"}}]


BREAKAGES = {
    "unknown type": (_break_unknown_type, "'summary'", "unknown type"),
    "duplicate id": (_break_duplicate_id, "'amount'", "duplicate id"),
    "select without options": (_break_select_without_options, "'how_known'", "options"),
    "select with empty options": (_break_select_empty_options, "'how_known'", "options"),
    "missing en label": (_break_missing_en_label, "'evidence'", "'en'"),
    "blank vi label": (_break_blank_vi_label, "'evidence'", "'vi'"),
    "option without vi label": (_break_missing_option_label, "'reported_elsewhere'", "'vi'"),
    "typo in a key": (_break_typo_key, "'details'", "requird"),
    "text without max_length": (_break_max_length_missing, "'location'", "max_length"),
    "boolean max_length": (_break_max_length_bool, "'location'", "max_length"),
    "required not a boolean": (_break_required_not_bool, "'amount'", "required"),
    "duplicate option": (_break_duplicate_option, "'how_known'", "duplicate option"),
    "category outside the vocabulary": (_break_category_vocabulary, "'category'", "bribery"),
    "sector missing a value": (_break_sector_vocabulary, "'sector'", "other"),
    "optional category": (_break_category_optional, "'category'", "required"),
    "reserved id": (_break_reserved_id, "'csrf_token'", "intake uses"),
    "options on a text question": (_break_options_on_text, "'amount'", "options"),
}


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_broken_files_name_the_question(tmp_path: Path, name: str) -> None:
    breaker, where, what = BREAKAGES[name]
    raw = _default_raw()
    breaker(raw)
    with pytest.raises(QuestionnaireFormatError) as caught:
        load_questionnaire(_write(tmp_path, raw))
    assert where in str(caught.value)
    assert what in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        ([], "top level"),
        ({"version": 1}, "top level"),
        ({"version": 0, "questions": [{}]}, "version"),
        ({"version": 1, "questions": []}, "non-empty"),
        ({"version": 1, "questions": [{"id": "Bad-Id"}]}, "question 1"),
    ],
)
def test_broken_top_level(tmp_path: Path, raw: object, what: str) -> None:
    with pytest.raises(QuestionnaireFormatError, match=what):
        load_questionnaire(_write(tmp_path, raw))


def test_not_json_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "questionnaire.json"
    path.write_text("{ not json", encoding="utf-8")
    with pytest.raises(QuestionnaireFormatError, match="not valid JSON"):
        load_questionnaire(path)
    with pytest.raises(QuestionnaireFormatError, match="cannot read"):
        load_questionnaire(tmp_path / "absent.json")


def test_file_questions_are_allowed_but_not_validated(tmp_path: Path) -> None:
    raw = _default_raw()
    raw["questions"].append(
        {"id": "photo", "type": "file", "required": False, "label": {"vi": "Ảnh", "en": "Photo"}}
    )
    fq = load_questionnaire(_write(tmp_path, raw))
    assert fq.by_id["photo"].type is QuestionType.FILE
    result = validate_answers(fq, {**VALID, "photo": ["whatever"]}, today=TODAY)
    assert result.errors == {} and "photo" not in result.answers
    raw["questions"][-1]["required"] = True
    with pytest.raises(QuestionnaireFormatError, match="'photo'"):
        load_questionnaire(_write(tmp_path, raw))
