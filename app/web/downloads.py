"""Streaming a decrypted attachment to the browser, safely.

Always ``Content-Disposition: attachment`` with ``application/octet-stream`` (and the
baseline's ``nosniff``): a reported file is never rendered inline, whatever it claims to
be. The first chunk is decrypted before the response starts, so a file that fails at
once gets an error page; a failure part-way raises inside the body iterator and the
server cuts the connection, so the browser sees an incomplete download, never a
complete file with unauthenticated data.

File names are Vietnamese ("biên bản họp.pdf"), and HTTP header values are Latin-1 at
best: gunicorn refuses anything else with a bare 500. So the header carries the name
twice, as RFC 6266 says: ``filename*=UTF-8''…`` percent-encoded (RFC 8187), which every
current browser uses, and a plain-ASCII ``filename="…"`` for the rest ("bien ban
hop.pdf").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from urllib.parse import quote

from flask import Response
from werkzeug.exceptions import InternalServerError

from app.cases.filenames import FALLBACK_NAME, clean_filename
from app.storage import StorageError
from crypto import AgeError

# RFC 8187 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" /
# "_" / "`" / "|" / "~". Everything else is percent-encoded.
_ATTR_CHARS = "!#$&+-.^_`|~"
# Letters that Unicode decomposition does not reduce to ASCII but a Vietnamese reader
# writes as one: đ is its own letter, not d with a mark.
_LATIN_LETTERS = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ø": "o", "Ø": "O"})
# Safe in a quoted-string and on every file system a browser saves to.
_FALLBACK_UNSAFE = set("\\/:*?<>|%;")


class UnreadableDownload(InternalServerError):
    """The file could not be opened or its first chunk did not decrypt: nothing was
    sent. Each face shows its own error page."""


def ascii_fallback(name: str) -> str:
    """A readable ASCII stand-in for ``name``: Vietnamese letters lose their marks
    ("biên bản họp.pdf" -> "bien ban hop.pdf"), anything else not printable ASCII or
    unsafe in a quoted header value becomes "_"; the extension is kept.

    Written here rather than taken from a transliteration library: Vietnamese needs only
    Unicode decomposition plus đ, and the usual libraries (Unidecode) are GPL-licensed.
    """
    decomposed = unicodedata.normalize("NFKD", name.translate(_LATIN_LETTERS))
    out = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        if ch == '"':
            ch = "'"
        out.append(ch if " " <= ch <= "~" and ch not in _FALLBACK_UNSAFE else "_")
    fallback = " ".join("".join(out).split())
    return fallback or FALLBACK_NAME


def content_disposition(name: str) -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''percent-encoded`` (RFC 6266)."""
    clean = clean_filename(name)
    encoded = quote(clean, safe=_ATTR_CHARS, encoding="utf-8")
    return f"attachment; filename=\"{ascii_fallback(clean)}\"; filename*=UTF-8''{encoded}"


def attachment_response(
    chunks: Iterator[bytes], filename: str, on_sent: Callable[[], None] | None = None
) -> Response:
    """The download response. ``on_sent`` runs once the download is known to be sent:
    the file opened, its age header and first chunk authenticated and decrypted, and
    the headers built (ASCII only, so no server refuses them). From there the browser
    receives plaintext; a later failure can only cut the download short, after part of
    it left, so it counts as sent (an audit must err towards recording a read). A file
    that cannot be opened or decrypted raises :class:`UnreadableDownload` and
    ``on_sent`` never runs."""
    try:
        first = next(chunks, b"")
    except (AgeError, StorageError):
        raise UnreadableDownload() from None
    disposition = content_disposition(filename)
    if on_sent is not None:
        on_sent()

    def body() -> Iterator[bytes]:
        yield first
        yield from chunks

    response = Response(body(), mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = disposition
    return response
