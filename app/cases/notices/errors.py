"""Why a notice cannot be made, in Vietnamese (the default) and English.

A notice is rendered whole or not at all: every check runs before the first byte of a
document is produced, and the error names the field or the template, never a value the
caller passed (a reason or a name may be part of a sealed case; errors get logged).
A bad template's detail names the key or placeholder as written in the file, the same
in both languages: it is for the person who edits the file.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    MISSING_FIELD = "missing_field"
    FIELD_TOO_LONG = "field_too_long"
    BAD_CHARACTERS = "bad_characters"
    NOT_A_NUMBER = "not_a_number"
    BAD_DATES = "bad_dates"
    BAD_EXTENSION = "bad_extension"
    NAME_NOT_ALLOWED = "name_not_allowed"
    BAD_TEMPLATE = "bad_template"


_MESSAGES: dict[ErrorCode, dict[str, str]] = {
    ErrorCode.MISSING_FIELD: {
        "vi": "Thiếu thông tin “{field}” để lập văn bản “{kind}”.",
        "en": "The “{kind}” notice needs “{field}”, which is missing.",
    },
    ErrorCode.FIELD_TOO_LONG: {
        "vi": "“{field}” dài quá {max_length} ký tự.",
        "en": "“{field}” is longer than {max_length} characters.",
    },
    ErrorCode.BAD_CHARACTERS: {
        "vi": "“{field}” có ký tự điều khiển hoặc xuống dòng không được phép.",
        "en": "“{field}” contains control characters or line breaks that are not allowed.",
    },
    ErrorCode.NOT_A_NUMBER: {
        "vi": "“{field}” chỉ gồm chữ số (ví dụ 15); ký hiệu văn bản được thêm tự động.",
        "en": "“{field}” is digits only (e.g. 15); the document symbol is added for you.",
    },
    ErrorCode.BAD_DATES: {
        "vi": "Các ngày không hợp lý: “{earlier}” phải trước hoặc cùng ngày “{later}”.",
        "en": "The dates do not fit: “{earlier}” must be on or before “{later}”.",
    },
    ErrorCode.BAD_EXTENSION: {
        "vi": "Gia hạn không hợp lệ: {detail_vi}",
        "en": "The extension is not valid: {detail_en}",
    },
    ErrorCode.NAME_NOT_ALLOWED: {
        "vi": "Thông báo cho thông tin ẩn danh không được ghi tên người gửi.",
        "en": "A notice about anonymous information never carries a name.",
    },
    ErrorCode.BAD_TEMPLATE: {
        "vi": "Mẫu văn bản {template} không hợp lệ: {detail}",
        "en": "The notice template {template} is not valid: {detail}",
    },
}


class NoticeError(ValueError):
    """A notice that cannot be rendered; ``message(locale)`` says why to a person."""

    def __init__(self, code: ErrorCode, **params: str | int) -> None:
        self.code = code
        self.params = params
        super().__init__(self.message("vi"))

    def message(self, locale: str = "vi") -> str:
        lang = "en" if locale.lower().replace("_", "-").split("-")[0] == "en" else "vi"
        return _MESSAGES[self.code][lang].format(**self.params)
