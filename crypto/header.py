"""Strict parsing and serialisation of the age v1 header.

    age-encryption.org/v1
    -> TYPE ARG...            (one stanza per recipient)
    BASE64 BODY, 64 columns, final line shorter (possibly empty)
    --- BASE64(HMAC-SHA256)
    BINARY PAYLOAD

Parsing is strict because the header is attacker-controlled input and its
bytes are the MAC input: any leniency (CR, padding, long lines) would give
two encodings of one header. Reading is bounded (``MAX_HEADER_SIZE``) so that a
hostile file cannot make us buffer without limit before we reach the MAC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from . import b64
from .errors import HeaderError

VERSION_LINE = b"age-encryption.org/v1"
MAC_PREFIX = b"---"
STANZA_PREFIX = b"->"
BODY_COLUMNS = 64
MAX_HEADER_SIZE = 1 << 20  # far above any real header (a stanza is ~130 bytes)
_READ_SIZE = 64 * 1024


@dataclass(frozen=True)
class Stanza:
    """One recipient stanza: its type (first argument), other arguments and raw body."""

    type: str
    args: tuple[str, ...]
    body: bytes

    def serialise(self) -> bytes:
        words = [STANZA_PREFIX, self.type.encode("ascii")] + [a.encode() for a in self.args]
        line = b" ".join(words)
        encoded = b64.encode(self.body)
        lines = [encoded[i : i + BODY_COLUMNS] for i in range(0, len(encoded), BODY_COLUMNS)]
        if not lines or len(lines[-1]) == BODY_COLUMNS:
            lines.append(b"")  # the body always ends with a short (maybe empty) line
        return line + b"\n" + b"\n".join(lines) + b"\n"


@dataclass(frozen=True)
class Header:
    """A parsed header. ``mac_input`` is the exact bytes the MAC covers."""

    stanzas: tuple[Stanza, ...]
    mac: bytes
    mac_input: bytes
    size: int  # bytes of the header including the MAC line's newline


def serialise_without_mac(stanzas: list[Stanza]) -> bytes:
    """Return the header up to and including ``---`` (the MAC input)."""
    return VERSION_LINE + b"\n" + b"".join(s.serialise() for s in stanzas) + MAC_PREFIX


def serialise_mac_line(mac: bytes) -> bytes:
    return b" " + b64.encode(mac) + b"\n"


class BufferedSource:
    """A minimal read buffer over a binary stream.

    The header is parsed line by line; whatever was read past it stays in the
    buffer and is handed to the payload reader first. Only one read block
    (64 KiB) plus the current header line is ever buffered.
    """

    def __init__(self, src: BinaryIO) -> None:
        self._src = src
        self._buf = bytearray()
        self._eof = False

    def readline(self, limit: int) -> bytes:
        """Return one line including ``\\n``, or what is left at EOF (no ``\\n``)."""
        start = 0
        while True:
            idx = self._buf.find(b"\n", start)
            if idx >= 0:
                line = bytes(self._buf[: idx + 1])
                del self._buf[: idx + 1]
                return line
            if len(self._buf) > limit:
                raise HeaderError("the age header is too large")
            start = len(self._buf)
            if not self._fill():
                line = bytes(self._buf)
                self._buf.clear()
                return line

    def _fill(self) -> bool:
        if self._eof:
            return False
        block = self._src.read(_READ_SIZE)
        if not block:
            self._eof = True
            return False
        self._buf += block
        return True

    def read_exact_or_less(self, n: int) -> bytes:
        """Read up to n bytes, fewer only at end of stream."""
        while len(self._buf) < n and self._fill():
            pass
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def readinto(self, target: memoryview) -> int:
        """Fill ``target`` as far as possible; return the count (short only at EOF)."""
        n = min(len(self._buf), len(target))
        if n:
            target[:n] = self._buf[:n]
            del self._buf[:n]
        total = n
        readinto = getattr(self._src, "readinto", None)
        while total < len(target) and not self._eof:
            if readinto is not None:
                got = readinto(target[total:])
            else:  # streams without readinto (some WSGI inputs)
                block = self._src.read(len(target) - total)
                got = len(block)
                target[total : total + got] = block
            if not got:
                self._eof = True
                break
            total += got
        return total


def _check_vchars(arg: bytes) -> str:
    if not arg:
        raise HeaderError("a stanza argument is empty")
    if any(c < 0x21 or c > 0x7E for c in arg):
        raise HeaderError("a stanza argument contains an invalid character")
    return arg.decode("ascii")


def _strip_newline(line: bytes) -> bytes:
    if not line.endswith(b"\n"):
        raise HeaderError("the age header is truncated")
    line = line[:-1]
    if b"\r" in line:
        raise HeaderError("the age header contains a carriage return")
    return line


def parse_header(source: BufferedSource) -> Header:
    """Parse the header from ``source``, leaving it positioned at the payload."""
    consumed = bytearray()

    def next_line() -> bytes:
        line = source.readline(MAX_HEADER_SIZE - len(consumed))
        consumed.extend(line)
        if len(consumed) > MAX_HEADER_SIZE:
            raise HeaderError("the age header is too large")
        return line

    first = next_line()
    if not first:
        raise HeaderError("the file is empty, not an age file")
    if _strip_newline(first) != VERSION_LINE:
        if first.startswith(b"age-encryption.org/"):
            raise HeaderError("unsupported age format version")
        raise HeaderError("not an age file (missing age-encryption.org/v1 header)")

    stanzas: list[Stanza] = []
    line = _strip_newline(next_line())
    while True:
        if line.startswith(MAC_PREFIX):
            break
        if not line.startswith(STANZA_PREFIX + b" "):
            raise HeaderError("malformed header line: expected a stanza or the MAC line")
        parts = line.split(b" ")[1:]
        args = tuple(_check_vchars(p) for p in parts)
        chunks: list[bytes] = []
        while True:
            body_line = _strip_newline(next_line())
            if len(body_line) > BODY_COLUMNS:
                raise HeaderError("a stanza body line is longer than 64 columns")
            chunks.append(body_line)
            if len(body_line) < BODY_COLUMNS:
                break
        try:
            body = b64.decode(b"".join(chunks))
        except b64.Base64Error as exc:
            raise HeaderError(f"a stanza body is not canonical base64: {exc}") from None
        stanzas.append(Stanza(type=args[0], args=args[1:], body=body))
        line = _strip_newline(next_line())

    mac_input = bytes(consumed[: len(consumed) - len(line) - 1]) + MAC_PREFIX
    if not line.startswith(MAC_PREFIX + b" "):
        raise HeaderError("malformed MAC line")
    try:
        mac = b64.decode(line[len(MAC_PREFIX) + 1 :])
    except b64.Base64Error as exc:
        raise HeaderError(f"the header MAC is not canonical base64: {exc}") from None
    if len(mac) != 32:
        raise HeaderError("the header MAC has the wrong length")
    if not stanzas:
        raise HeaderError("the age header has no recipient stanza")
    return Header(stanzas=tuple(stanzas), mac=mac, mac_input=mac_input, size=len(consumed))
