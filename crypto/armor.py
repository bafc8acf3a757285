"""Reading age's ASCII armor (``age -a``), strictly.

    -----BEGIN AGE ENCRYPTED FILE-----
    padded base64, 64 columns, last line 1..64 columns
    -----END AGE ENCRYPTED FILE-----

Lines may end in LF or CRLF; whitespace is allowed before the first and
after the last line and nowhere else. Like the binary header, the armor is
parsed strictly so that one file has one encoding. ``ArmoredReader`` decodes
line by line (bounded memory) and is used by wrapping the source:
``decrypt_stream(ArmoredReader(src), identities)``.
"""

from __future__ import annotations

import base64
import binascii
from typing import BinaryIO

from .errors import ArmorError
from .header import BufferedSource

BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
END = b"-----END AGE ENCRYPTED FILE-----"
COLUMNS = 64
_WHITESPACE = b" \t\r\n"
_MAX_LINE = 128


def looks_armored(prefix: bytes) -> bool:
    """Guess from the first bytes of a file whether it is armored (for the CLI)."""
    return prefix.lstrip(_WHITESPACE).startswith(b"-----")


class ArmoredReader:
    """A read-only binary stream of the bytes inside an armored age file."""

    def __init__(self, src: BinaryIO) -> None:
        self._src = BufferedSource(src)
        self._decoded = b""
        self._started = False
        self._done = False

    def _line(self) -> tuple[bytes, bool]:
        """Return (line without its end-of-line, whether it had one)."""
        raw = self._src.readline(_MAX_LINE)
        if len(raw) > _MAX_LINE:
            raise ArmorError("armor line too long")
        if raw.endswith(b"\r\n"):
            return raw[:-2], True
        if raw.endswith(b"\n"):
            return raw[:-1], True
        return raw, False

    def _start(self) -> None:
        self._started = True
        while True:
            line, had_eol = self._line()
            if line.strip(_WHITESPACE) or not had_eol:
                break
        if line.lstrip(_WHITESPACE) != BEGIN or not had_eol:
            raise ArmorError("missing or malformed armor begin line")

    def _next_block(self) -> None:
        line, had_eol = self._line()
        if line == END:
            self._finish()
            return
        if not had_eol:
            raise ArmorError("armored file truncated: no end line")
        if not line or len(line) > COLUMNS:
            raise ArmorError("armor line has the wrong length")
        try:
            data = base64.b64decode(line, validate=True)
        except binascii.Error:
            raise ArmorError("invalid base64 in armor") from None
        if base64.b64encode(data) != line:
            raise ArmorError("non-canonical base64 in armor")
        if len(line) < COLUMNS or line.endswith(b"="):
            # A short (or padded) line must be the last one.
            end, _ = self._line()
            if end != END:
                raise ArmorError("armor line shorter than 64 columns before the end")
            self._finish()
        self._decoded = data

    def _finish(self) -> None:
        self._done = True
        while True:
            rest = self._src.read_exact_or_less(4096)
            if not rest:
                return
            if rest.strip(_WHITESPACE):
                raise ArmorError("unexpected data after the armor end line")

    def read(self, n: int = -1) -> bytes:
        if not self._started:
            self._start()
        out = bytearray()
        while n < 0 or len(out) < n:
            if not self._decoded:
                if self._done:
                    break
                self._next_block()
                continue
            take = len(self._decoded) if n < 0 else min(n - len(out), len(self._decoded))
            out += self._decoded[:take]
            self._decoded = self._decoded[take:]
        return bytes(out)
