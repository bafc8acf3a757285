"""Intake test helpers: a reporter's form answers and a way to send them."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from app.database import Database
from tests.conftest import CsrfClient
from tests.factories import ReviewerKeys, make_reviewer

RECEIPT_PATTERN = re.compile(r'id="receipt-code">(\d{4} \d{4} \d{4} \d{4} \d{4})<')


def report_answers(**overrides: str | list[str]) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "category": "corruption",
        "sector": "land_construction",
        "summary": "Cán bộ phường đòi tiền để ký giấy phép xây dựng",
        "details": "Ông A, cán bộ địa chính, yêu cầu 20 triệu đồng để ký hồ sơ.",
        "location": "Phường An Hòa, quận Ninh Kiều",
    }
    answers.update(overrides)
    return answers


@pytest.fixture
def intake_reviewer(database: Database) -> ReviewerKeys:
    return make_reviewer(database, "intake")


def send_report(
    client: CsrfClient,
    answers: dict[str, Any] | None = None,
    files: list[tuple[bytes, str]] | None = None,
    excluded: list[str] | None = None,
) -> Any:
    data: dict[str, Any] = dict(answers if answers is not None else report_answers())
    if files:
        data["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    if excluded:
        data["excluded_units"] = excluded
    return client.submit("/report", data, content_type="multipart/form-data")


def receipt_from(response: Any) -> str:
    match = RECEIPT_PATTERN.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:2000]
    return match.group(1)


def open_case(client: CsrfClient, receipt: str) -> Any:
    """Type ``receipt`` into the follow-up form and send it, as a reporter does."""
    return client.submit("/followup", {"receipt": receipt})


def multipart_body(fields: dict[str, Any]) -> tuple[bytes, str]:
    """Encode a form as one multipart body in memory, like a browser sends it.

    Values are strings, lists of strings, ``(bytes | BytesIO, filename)`` tuples or lists
    of them. Built here (not by the test client, which spools big bodies to its own temp
    file) so tests that watch the temp folder only see what the server does.
    """
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    items: MultiDict[str, Any] = MultiDict()
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, tuple):
                content, filename = item
                stream = content if isinstance(content, io.BytesIO) else io.BytesIO(content)
                item = FileStorage(stream, filename=filename, content_type="application/pdf")
            items.add(key, item)
    boundary, body = encode_multipart(items)
    return body, f"multipart/form-data; boundary={boundary}"
