"""The plaintext formats inside a case's age files (same from the browser and server).

Report: ``{"version": 1, "answers": {...}, "attachments": [{"name", "type", "size"}]}``
Message: ``{"version": 1, "text": "...", "attachments": [...], "after": "123"}``
``after`` (reporter's messages, from revision 0005 on) is the id of the newest message
the reporter had on screen, as decimal digits in a string (ids are 63-bit: a JSON
number would lose digits in JavaScript), or null. It orders the thread
(app.cases.thread) without any order kept in clear. Older messages have no ``after``
and still load; a malformed one is ignored rather than making the message unreadable.
Both UTF-8 JSON, padded with spaces to a multiple of 1024 bytes so the ciphertext's
length says little about how much was written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PAD_BLOCK = 1024
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024


class PayloadFormatError(ValueError):
    """A decrypted payload is not in the expected format."""


@dataclass(frozen=True)
class AttachmentMeta:
    name: str
    type: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "size": self.size}


@dataclass(frozen=True)
class ReportContent:
    answers: dict[str, str | list[str]]
    attachments: list[AttachmentMeta]


@dataclass(frozen=True)
class MessageContent:
    text: str
    attachments: list[AttachmentMeta]
    after: int | None = None


def pad(data: bytes) -> bytes:
    return data + b" " * (-len(data) % PAD_BLOCK)


def _encode(obj: Mapping[str, Any]) -> bytes:
    return pad(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def encode_report(
    answers: Mapping[str, str | list[str]], attachments: Sequence[AttachmentMeta]
) -> bytes:
    return _encode(
        {
            "version": 1,
            "answers": dict(answers),
            "attachments": [a.to_json() for a in attachments],
        }
    )


def encode_message(
    text: str, attachments: Sequence[AttachmentMeta], after: int | None = None
) -> bytes:
    return _encode(
        {
            "version": 1,
            "text": text,
            "attachments": [a.to_json() for a in attachments],
            "after": None if after is None else str(after),
        }
    )


_MAX_ID = 2**63 - 1


def _message_id(raw: object) -> int | None:
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 19:
        value = int(raw)
    elif isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    else:
        return None
    return value if 0 < value <= _MAX_ID else None


def _load(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PayloadFormatError("payload too large")
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadFormatError(f"payload is not UTF-8 JSON: {exc}") from None
    if not isinstance(obj, dict) or obj.get("version") != 1:
        raise PayloadFormatError("unknown payload version")
    return obj


def _attachments(raw: object) -> list[AttachmentMeta]:
    if not isinstance(raw, list):
        raise PayloadFormatError("attachments must be a list")
    out = []
    for item in raw:
        if not isinstance(item, dict):
            raise PayloadFormatError("attachment entry must be an object")
        name, kind, size = item.get("name"), item.get("type"), item.get("size")
        if not isinstance(name, str) or not isinstance(kind, str) or not isinstance(size, int):
            raise PayloadFormatError("attachment entry needs name, type and size")
        out.append(AttachmentMeta(name, kind, size))
    return out


def decode_report(data: bytes) -> ReportContent:
    obj = _load(data)
    answers = obj.get("answers")
    if not isinstance(answers, dict):
        raise PayloadFormatError("answers must be an object")
    clean: dict[str, str | list[str]] = {}
    for key, value in answers.items():
        if isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            clean[str(key)] = value
        else:
            raise PayloadFormatError(f"answer {key!r} must be text or a list of text")
    return ReportContent(clean, _attachments(obj.get("attachments", [])))


def decode_message(data: bytes) -> MessageContent:
    obj = _load(data)
    text = obj.get("text")
    if not isinstance(text, str):
        raise PayloadFormatError("message text must be a string")
    return MessageContent(
        text, _attachments(obj.get("attachments", [])), _message_id(obj.get("after"))
    )
