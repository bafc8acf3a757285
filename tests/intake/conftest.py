"""Intake test helpers (the reporter's form answers and sending them live in
:mod:`tests.factories`)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from app.database import Database
from tests.factories import ReviewerKeys, make_reviewer


@pytest.fixture
def intake_reviewer(database: Database) -> ReviewerKeys:
    return make_reviewer(database, "intake")


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
