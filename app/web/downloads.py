"""Streaming a decrypted attachment to the browser, safely.

Always ``Content-Disposition: attachment`` with ``application/octet-stream`` (and the
baseline's ``nosniff``): a reported file is never rendered inline, whatever it claims to
be. The first chunk is decrypted before the response starts, so a file that fails at
once gets an error page; a failure part-way raises inside the body iterator and the
server cuts the connection, so the browser sees an incomplete download, never a
complete file with unauthenticated data.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, abort

from app.storage import StorageError
from crypto import AgeError


def attachment_response(chunks: Iterator[bytes], filename: str) -> Response:
    try:
        first = next(chunks, b"")
    except (AgeError, StorageError):
        abort(500)

    def body() -> Iterator[bytes]:
        yield first
        yield from chunks

    response = Response(body(), mimetype="application/octet-stream")
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response
