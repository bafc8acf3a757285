"""Notice templates: data the city edits, ``config/notices/<kind>.toml``.

Each file holds the wording of one notice in Vietnamese, the legal language of the act
(a translation would be a second text that could diverge from the one signed; the
reporter's English interface describes the notice in its own words and attaches the
Vietnamese document). Placeholders are ``{name}`` from a fixed list (``FIELDS``); a
file is checked whole when it is loaded - unknown keys, unknown or malformed
placeholders, a missing part - so a bad edit stops at startup or in the test, not
halfway through a document.

Placeholders are plain names only: ``str.format`` would also follow ``{x.attr}`` and
``{x[0]}`` into the values' objects, so anything but a bare known name is refused.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from app.cases.notices.errors import ErrorCode, NoticeError
from app.cases.notices.model import NoticeKind

DEFAULT_DIRECTORY = Path(__file__).resolve().parents[3] / "config" / "notices"

# Every placeholder a template may use; app/cases/notices/compose.py fills them.
FIELDS = frozenset(
    {
        "issuing_unit",
        "parent_unit",
        "place",
        "issued_on",
        "issued_on_long",
        "recipient",
        "received_on",
        "accepted_on",
        "due_on",
        "concluded_on",
        "decision_reference",
        "content",
        "reason",
        "transferred_to",
        "outcome",
        "extension_ordinal",
        "extension_days",
        "complexity",
        "complexity_criteria",
        "signer_title",
        "case_reference",
    }
)
# The office's filing mark may stand in the archive line only, which the reporter's
# copy leaves out (see model.py).
OFFICE_ONLY = frozenset({"case_reference"})


class Source(StrEnum):
    """Where a template's structure comes from; docs/legal.md §5 has the list."""

    STATUTORY = "statutory"  # a form annexed to Decree 31/2019/NĐ-CP
    CITY = "city"  # no official form exists: the city's own wording
    SYSTEM = "system"  # not a legal act at all: a message of the system


class Style(StrEnum):
    BODY = "body"  # justified running text, first line indented
    HEADING = "heading"  # centred, bold: "QUYẾT ĐỊNH:", the deciding authority
    NOTE = "note"  # italic, smaller: remarks that are not part of the act's text


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: Style = Style.BODY


@dataclass(frozen=True)
class NoticeTemplate:
    kind: NoticeKind
    source: Source
    basis: str  # the form and articles the template follows, for the office's reader
    legal_act: bool  # False: no national heading, number or signature (art. 25 notice)
    symbol: str  # the document type in the number: TB (thông báo), QĐ (quyết định)
    title: str
    subject: str
    default_recipient: str
    greeting: str
    paragraphs: tuple[Paragraph, ...]
    signer_title: str
    receivers: tuple[str, ...]
    archive: str
    copy_note: str  # printed on the reporter's PDF only

    def texts(self) -> Iterator[tuple[str, str]]:
        """(key, text) for every text of the template that holds placeholders."""
        yield "title", self.title
        yield "subject", self.subject
        yield "default_recipient", self.default_recipient
        yield "greeting", self.greeting
        for index, paragraph in enumerate(self.paragraphs, 1):
            yield f"paragraph #{index}", paragraph.text
        yield "signer_title", self.signer_title
        for index, receiver in enumerate(self.receivers, 1):
            yield f"receivers #{index}", receiver
        yield "archive", self.archive
        yield "copy_note", self.copy_note

    def placeholders(self) -> frozenset[str]:
        return frozenset(name for _, text in self.texts() for name in placeholders_of(text))


def placeholders_of(text: str) -> list[str]:
    """The placeholder names in ``text``; ValueError for a malformed one."""
    names = []
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            raise ValueError(f"placeholder {{{name}}} must be a plain name")
        names.append(name)
    return names


_KEYS = {
    "kind": str,
    "source": str,
    "basis": str,
    "legal_act": bool,
    "symbol": str,
    "title": str,
    "subject": str,
    "default_recipient": str,
    "greeting": str,
    "paragraph": list,
    "signer_title": str,
    "receivers": list,
    "archive": str,
    "copy_note": str,
}


def _bad(path: Path, detail: str) -> NoticeError:
    return NoticeError(ErrorCode.BAD_TEMPLATE, template=path.name, detail=detail)


def _paragraphs(path: Path, entries: list[object]) -> tuple[Paragraph, ...]:
    paragraphs = []
    for index, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
            raise _bad(path, f'paragraph #{index} needs text = "..."')
        if set(entry) - {"text", "style"}:
            raise _bad(path, f"paragraph #{index}: only text and style are allowed")
        try:
            style = Style(entry.get("style", "body"))
        except ValueError:
            raise _bad(path, f"paragraph #{index}: style is body, heading or note") from None
        paragraphs.append(Paragraph(entry["text"], style))
    if not paragraphs:
        raise _bad(path, "at least one [[paragraph]] is needed")
    return tuple(paragraphs)


def _check_placeholders(path: Path, template: NoticeTemplate) -> None:
    for key, text in template.texts():
        try:
            names = placeholders_of(text)
        except ValueError as exc:
            raise _bad(path, f"{key}: {exc}") from None
        unknown = set(names) - FIELDS
        if unknown:
            raise _bad(path, f"{key}: unknown placeholder {{{sorted(unknown)[0]}}}")
        if key != "archive" and set(names) & OFFICE_ONLY:
            raise _bad(path, f"{key}: {{case_reference}} may only stand in the archive line")
        if key == "signer_title" and names:
            raise _bad(path, "signer_title is plain text, without placeholders")
        if key == "default_recipient" and "recipient" in names:
            raise _bad(path, "default_recipient cannot contain {recipient}")


def parse_template(path: Path, text: str) -> NoticeTemplate:
    """One template from its TOML text; ``path`` names it in errors and gives its kind."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _bad(path, str(exc)) from None
    unknown = set(data) - set(_KEYS)
    if unknown:
        raise _bad(path, f"unknown keys {', '.join(sorted(unknown))}")
    for key, expected in _KEYS.items():
        if key not in data:
            raise _bad(path, f"'{key}' is missing")
        if not isinstance(data[key], expected):
            raise _bad(path, f"'{key}' must be a {expected.__name__}")
    if data["kind"] != path.stem:
        raise _bad(path, f'kind = "{data["kind"]}" but the file is named {path.name}')
    try:
        kind, source = NoticeKind(data["kind"]), Source(data["source"])
    except ValueError as exc:
        raise _bad(path, str(exc)) from None
    receivers = data["receivers"]
    if not all(isinstance(r, str) for r in receivers):
        raise _bad(path, "'receivers' must be a list of strings")
    template = NoticeTemplate(
        kind=kind,
        source=source,
        basis=data["basis"],
        legal_act=data["legal_act"],
        symbol=data["symbol"],
        title=data["title"],
        subject=data["subject"],
        default_recipient=data["default_recipient"],
        greeting=data["greeting"],
        paragraphs=_paragraphs(path, data["paragraph"]),
        signer_title=data["signer_title"],
        receivers=tuple(receivers),
        archive=data["archive"],
        copy_note=data["copy_note"],
    )
    if template.legal_act and not (template.symbol and template.signer_title):
        raise _bad(path, "a legal act needs a symbol and a signer_title")
    if template.legal_act is (source is Source.SYSTEM):
        raise _bad(path, 'source = "system" exactly when legal_act = false')
    if not template.title.strip():
        raise _bad(path, "'title' is empty")
    _check_placeholders(path, template)
    return template


def load_template(path: Path) -> NoticeTemplate:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(path, str(exc)) from None
    return parse_template(path, text)


@dataclass(frozen=True)
class NoticeTemplates:
    by_kind: Mapping[NoticeKind, NoticeTemplate]

    def __getitem__(self, kind: NoticeKind) -> NoticeTemplate:
        return self.by_kind[kind]


def load_templates(directory: Path | None = None) -> NoticeTemplates:
    """Every kind's template from ``directory``; all must be there and valid."""
    if directory is None:
        return _default_templates()
    return NoticeTemplates({kind: load_template(directory / f"{kind}.toml") for kind in NoticeKind})


@cache
def _default_templates() -> NoticeTemplates:
    # Read once per process: the files are part of the installation, like the code.
    return load_templates(DEFAULT_DIRECTORY)
