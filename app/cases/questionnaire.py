"""The report questionnaire: data in ``config/questionnaire.json``, checked strictly on load.

The questions are data so that the city can reword them without a code change; the
file is validated when it is loaded (a typo in a key must not silently turn a required
question into an optional one), and the answers a reporter sends are validated here,
before anything is encrypted or stored (promise 5: bad input gets a clear error in the
reporter's language and changes nothing).

Two questions are special. ``category`` and ``sector`` are the only reporter-given
fields kept in clear (for routing and statistics), in columns guarded by CHECK
constraints, so their option values must be exactly the values of
:class:`~app.models.vocabulary.Category` and :class:`~app.models.vocabulary.Sector`;
the loader refuses a file where they differ rather than let a submission fail at
insert time. ``category`` must exist and be required.

``file`` questions are accepted in the schema (to describe an upload control), but
attachments travel in the separate ``attachments`` form field, handled by the intake's
streaming encryption; :func:`validate_answers` does not look at them.

Error messages live here rather than in gettext catalogues: each names the question's
label, and the labels come from the data file in both languages, so the sentence around
them is kept next to them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from app.models.vocabulary import Category, Sector

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "config" / "questionnaire.json"
LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
EARLIEST_DATE = date(1975, 1, 1)
MAX_LENGTH_LIMIT = 100_000
# Form fields the intake uses for itself; a question may not shadow them.
RESERVED_IDS = frozenset({"csrf_token", "attachments", "pow_challenge", "pow_nonce", "lang"})
_ID_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Values the database keeps in clear must match its CHECK constraints exactly.
_CLOSED_VOCABULARIES: dict[str, frozenset[str]] = {
    "category": frozenset(c.value for c in Category),
    "sector": frozenset(s.value for s in Sector),
}


class QuestionnaireFormatError(ValueError):
    """The questionnaire file is malformed; the message names the question at fault."""


class QuestionType(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    SELECT = "select"
    MULTISELECT = "multiselect"
    DATE = "date"
    FILE = "file"


_TEXT_TYPES = frozenset({QuestionType.TEXT, QuestionType.TEXTAREA})
_CHOICE_TYPES = frozenset({QuestionType.SELECT, QuestionType.MULTISELECT})


def _pick_locale(locale: str) -> str:
    """``en``, ``en-GB``, ``en_US`` → ``en``; anything else → Vietnamese, the default."""
    return "en" if locale.lower().replace("_", "-").split("-")[0] == "en" else DEFAULT_LOCALE


@dataclass(frozen=True)
class LocalizedText:
    vi: str
    en: str

    def get(self, locale: str) -> str:
        return self.en if _pick_locale(locale) == "en" else self.vi

    def to_dict(self) -> dict[str, str]:
        return {"vi": self.vi, "en": self.en}


@dataclass(frozen=True)
class Option:
    value: str
    label: LocalizedText


@dataclass(frozen=True)
class Question:
    id: str
    type: QuestionType
    required: bool
    label: LocalizedText
    help: LocalizedText | None = None
    max_length: int | None = None
    options: tuple[Option, ...] = ()
    anonymity_warning: bool = False

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    def to_public_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type.value,
            "required": self.required,
            "label": self.label.to_dict(),
            "help": self.help.to_dict() if self.help else None,
            "max_length": self.max_length,
            "options": [{"value": o.value, "label": o.label.to_dict()} for o in self.options],
            "anonymity_warning": self.anonymity_warning,
        }


@dataclass(frozen=True)
class Questionnaire:
    version: int
    questions: tuple[Question, ...]
    by_id: Mapping[str, Question] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", MappingProxyType({q.id: q for q in self.questions}))

    def to_public_dict(self) -> dict[str, Any]:
        """Everything the browser needs to render the form (the JSON API)."""
        return {"version": self.version, "questions": [q.to_public_dict() for q in self.questions]}

    def label(self, question_id: str, locale: str) -> str:
        """A question's label; the bare id for a question no longer in the file.

        Reports outlive questionnaire versions: rendering an old report must not fail
        because a question was since removed.
        """
        question = self.by_id.get(question_id)
        return question.label.get(locale) if question else question_id

    def option_label(self, question_id: str, value: str, locale: str) -> str:
        """An option's label; the stored value itself when the option is unknown (see above)."""
        question = self.by_id.get(question_id)
        option = question.option(value) if question else None
        return option.label.get(locale) if option else value


# -- loading -------------------------------------------------------------------------------

_QUESTION_KEYS = frozenset(
    {"id", "type", "required", "max_length", "label", "help", "options", "anonymity_warning"}
)


def _fail(where: str, problem: str) -> QuestionnaireFormatError:
    return QuestionnaireFormatError(f"questionnaire: {where}: {problem}")


def _localized(raw: object, where: str, what: str) -> LocalizedText:
    if not isinstance(raw, dict):
        raise _fail(where, f"{what} must be an object with 'vi' and 'en'")
    extra = set(raw) - set(LOCALES)
    if extra:
        raise _fail(where, f"{what} has unknown languages {sorted(extra)}")
    for locale in LOCALES:
        text = raw.get(locale)
        if not isinstance(text, str) or not text.strip():
            raise _fail(where, f"{what} is missing its '{locale}' text")
    return LocalizedText(vi=raw["vi"], en=raw["en"])


def _options(raw: object, where: str) -> tuple[Option, ...]:
    if not isinstance(raw, list) or not raw:
        raise _fail(where, "a select or multiselect needs a non-empty 'options' list")
    options: list[Option] = []
    for index, item in enumerate(raw):
        here = f"{where}, option {index + 1}"
        if not isinstance(item, dict) or set(item) != {"value", "label"}:
            raise _fail(here, "an option is an object with exactly 'value' and 'label'")
        value = item["value"]
        if not isinstance(value, str) or not value.strip() or value != value.strip():
            raise _fail(here, "an option's value must be a non-empty string without spaces around")
        if any(o.value == value for o in options):
            raise _fail(here, f"duplicate option value {value!r}")
        options.append(Option(value=value, label=_localized(item["label"], here, "label")))
    return tuple(options)


def _question(raw: object, index: int) -> Question:
    if not isinstance(raw, dict):
        raise _fail(f"question {index + 1}", "must be an object")
    qid = raw.get("id")
    if not isinstance(qid, str) or not _ID_PATTERN.fullmatch(qid):
        raise _fail(f"question {index + 1}", "'id' must match [a-z][a-z0-9_]* (a form field name)")
    where = f"question {qid!r}"
    if qid in RESERVED_IDS:
        raise _fail(where, "this id is a form field the intake uses itself")
    unknown = set(raw) - _QUESTION_KEYS
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)}")
    try:
        qtype = QuestionType(str(raw.get("type")))
    except ValueError:
        allowed = ", ".join(t.value for t in QuestionType)
        raise _fail(where, f"unknown type {raw.get('type')!r} (one of {allowed})") from None
    required = raw.get("required")
    if not isinstance(required, bool):
        raise _fail(where, "'required' must be true or false")
    if qtype is QuestionType.FILE and required:
        # Attachments are the separate `attachments` field; a required file question would
        # be a promise validate_answers cannot keep.
        raise _fail(where, "a file question cannot be required")
    warning = raw.get("anonymity_warning", False)
    if not isinstance(warning, bool):
        raise _fail(where, "'anonymity_warning' must be true or false")

    max_length: int | None = None
    if qtype in _TEXT_TYPES:
        max_length = raw.get("max_length")
        # bool is an int in Python; `true` is not a length.
        if (
            not isinstance(max_length, int)
            or isinstance(max_length, bool)
            or not 1 <= max_length <= MAX_LENGTH_LIMIT
        ):
            raise _fail(where, f"'max_length' must be a whole number from 1 to {MAX_LENGTH_LIMIT}")
    elif "max_length" in raw:
        raise _fail(where, "'max_length' applies to text and textarea only")

    options: tuple[Option, ...] = ()
    if qtype in _CHOICE_TYPES:
        options = _options(raw.get("options"), where)
    elif "options" in raw:
        raise _fail(where, "'options' applies to select and multiselect only")

    closed = _CLOSED_VOCABULARIES.get(qid)
    if closed is not None:
        if qtype is not QuestionType.SELECT:
            raise _fail(where, "must be a select (it is stored in clear for routing)")
        values = {o.value for o in options}
        if values != closed:
            raise _fail(
                where,
                f"option values must be exactly {sorted(closed)} (the database's vocabulary); "
                f"missing {sorted(closed - values)}, unknown {sorted(values - closed)}",
            )

    return Question(
        id=qid,
        type=qtype,
        required=required,
        label=_localized(raw.get("label"), where, "label"),
        help=_localized(raw["help"], where, "help") if "help" in raw else None,
        max_length=max_length,
        options=options,
        anonymity_warning=warning,
    )


def parse_questionnaire(raw: object) -> Questionnaire:
    """Build a :class:`Questionnaire` from decoded JSON, or raise QuestionnaireFormatError."""
    if not isinstance(raw, dict) or set(raw) != {"version", "questions"}:
        raise _fail("top level", "must be an object with exactly 'version' and 'questions'")
    version = raw["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _fail("top level", "'version' must be a positive whole number")
    items = raw["questions"]
    if not isinstance(items, list) or not items:
        raise _fail("top level", "'questions' must be a non-empty list")
    questions: list[Question] = []
    for index, item in enumerate(items):
        question = _question(item, index)
        if any(q.id == question.id for q in questions):
            raise _fail(f"question {question.id!r}", "duplicate id")
        questions.append(question)
    category = next((q for q in questions if q.id == "category"), None)
    if category is None or not category.required:
        raise _fail("question 'category'", "must be present and required (cases are routed by it)")
    return Questionnaire(version=version, questions=tuple(questions))


def _load(path: Path) -> Questionnaire:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise QuestionnaireFormatError(f"questionnaire: cannot read {path}: {exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise QuestionnaireFormatError(f"questionnaire: {path} is not valid JSON: {exc}") from exc
    return parse_questionnaire(raw)


@lru_cache(maxsize=1)
def _load_default() -> Questionnaire:
    return _load(DEFAULT_PATH)


def load_questionnaire(path: Path | None = None) -> Questionnaire:
    """Load and check a questionnaire file; the default one is read once per process."""
    return _load_default() if path is None else _load(path)


# -- answers -------------------------------------------------------------------------------


class ErrorCode(StrEnum):
    REQUIRED = "required"
    TOO_LONG = "too_long"
    INVALID_CHOICE = "invalid_choice"
    INVALID_DATE = "invalid_date"
    FUTURE_DATE = "future_date"
    INVALID_CHARACTERS = "invalid_characters"


_MESSAGES: dict[ErrorCode, dict[str, str]] = {
    ErrorCode.REQUIRED: {
        "vi": "“{label}” là bắt buộc.",
        "en": "“{label}” is required.",
    },
    ErrorCode.TOO_LONG: {
        "vi": "“{label}” dài quá {max_length} ký tự (hiện có {length} ký tự). Vui lòng rút gọn.",
        "en": "“{label}” is longer than {max_length} characters (it has {length}). "
        "Please shorten it.",
    },
    ErrorCode.INVALID_CHOICE: {
        "vi": "“{label}”: lựa chọn không hợp lệ. Vui lòng chọn trong danh sách.",
        "en": "“{label}”: that choice is not valid. Please choose from the list.",
    },
    ErrorCode.INVALID_DATE: {
        "vi": "“{label}” phải là một ngày có thật, viết theo dạng năm-tháng-ngày "
        "(ví dụ 2025-03-15), và không sớm hơn ngày 01/01/1975.",
        "en": "“{label}” must be a real date written year-month-day (e.g. 2025-03-15), "
        "no earlier than 1 January 1975.",
    },
    ErrorCode.FUTURE_DATE: {
        "vi": "“{label}” không thể là một ngày trong tương lai.",
        "en": "“{label}” cannot be a date in the future.",
    },
    ErrorCode.INVALID_CHARACTERS: {
        "vi": "“{label}” có chứa ký tự điều khiển không hợp lệ. Vui lòng xoá chúng rồi gửi lại.",
        "en": "“{label}” contains invisible control characters that are not allowed. "
        "Please remove them and send again.",
    },
}


@dataclass(frozen=True)
class AnswerError:
    """Why one answer was refused.

    ``params`` never holds what the reporter typed: errors may be logged or shown in a
    page that is cached somewhere, and the answer is report content (promise 1).
    """

    question_id: str
    code: ErrorCode
    label: LocalizedText
    params: dict[str, int | str] = field(default_factory=dict)

    def message(self, locale: str = DEFAULT_LOCALE) -> str:
        lang = _pick_locale(locale)
        return _MESSAGES[self.code][lang].format(label=self.label.get(lang), **self.params)


@dataclass(frozen=True)
class ValidatedAnswers:
    answers: dict[str, str | list[str]]
    errors: dict[str, AnswerError]

    @property
    def ok(self) -> bool:
        return not self.errors


def _has_control_characters(text: str) -> bool:
    # Cc: C0/C1 controls and DEL (NUL would truncate strings in C code downstream; the
    # others can hide text from a reviewer). Cs: lone surrogates cannot be encoded to UTF-8.
    return any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\r\t" for ch in text)


def _text_answer(question: Question, values: Sequence[str]) -> str | ErrorCode | None:
    # Single-valued fields take the first value, as Werkzeug's MultiDict.get does.
    raw = values[0] if values else ""
    # NFC: Vietnamese typed as combining marks (some keyboards) and as precomposed letters
    # are the same text; lengths count what the reporter sees.
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n")).strip()
    if not text:
        return None
    if _has_control_characters(text):
        return ErrorCode.INVALID_CHARACTERS
    return text


def _error(question: Question, code: ErrorCode, **params: int | str) -> AnswerError:
    return AnswerError(question_id=question.id, code=code, label=question.label, params=params)


def _validate_one(
    question: Question, values: Sequence[str], today: date
) -> str | list[str] | AnswerError | None:
    """One answer, an error, or None for an empty answer."""
    if question.type in _TEXT_TYPES:
        text = _text_answer(question, values)
        if isinstance(text, ErrorCode):
            return _error(question, text)
        if text is not None and question.max_length and len(text) > question.max_length:
            return _error(
                question, ErrorCode.TOO_LONG, max_length=question.max_length, length=len(text)
            )
        return text
    if question.type is QuestionType.SELECT:
        value = (values[0] if values else "").strip()
        if not value:
            return None
        return value if question.option(value) else _error(question, ErrorCode.INVALID_CHOICE)
    if question.type is QuestionType.MULTISELECT:
        chosen = [v.strip() for v in values if v.strip()]
        if not chosen:
            return None
        if len(set(chosen)) != len(chosen) or not all(question.option(v) for v in chosen):
            return _error(question, ErrorCode.INVALID_CHOICE)
        return chosen
    if question.type is QuestionType.DATE:
        value = (values[0] if values else "").strip()
        if not value:
            return None
        # fromisoformat alone also takes "20250315" and week dates; the form sends YYYY-MM-DD.
        try:
            day = date.fromisoformat(value) if _ISO_DATE.fullmatch(value) else None
        except ValueError:
            day = None
        if day is None or day < EARLIEST_DATE:
            return _error(question, ErrorCode.INVALID_DATE)
        if day > today:
            return _error(question, ErrorCode.FUTURE_DATE)
        return day.isoformat()
    return None  # file: attachments are handled by the intake's streaming upload


def validate_answers(
    questionnaire: Questionnaire,
    form: Mapping[str, list[str]],
    today: date | None = None,
) -> ValidatedAnswers:
    """Check a submitted form (field name → list of values, like ``MultiDict.lists()``).

    Fields that are not questions are ignored; empty optional answers are left out.
    ``today`` is the reporter-facing "not in the future" bound (server's date by default).
    """
    today = today or date.today()
    answers: dict[str, str | list[str]] = {}
    errors: dict[str, AnswerError] = {}
    for question in questionnaire.questions:
        if question.type is QuestionType.FILE:
            continue
        values = form.get(question.id, [])
        if isinstance(values, str):  # a plain dict of strings would be read letter by letter
            raise TypeError("validate_answers takes lists of values, e.g. dict(form.lists())")
        result = _validate_one(question, values, today)
        if isinstance(result, AnswerError):
            errors[question.id] = result
        elif result is None:
            if question.required:
                errors[question.id] = _error(question, ErrorCode.REQUIRED)
        else:
            answers[question.id] = result
    return ValidatedAnswers(answers=answers, errors=errors)
