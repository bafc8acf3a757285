"""Hidden information removed from photos while a no-JavaScript upload streams in.

A photo carries more than its picture: the camera, the time it was taken, often the
GPS position, the software that edited it and its history (EXIF, XMP, IPTC). For a
reporter that can be enough to be found. The browser path shows and removes this
before encryption (assets/js/scrub/); without JavaScript the server does what it can
on the way from the socket to the encryptor, for the two formats whose metadata sits
in self-describing blocks before the picture:

- JPEG: every APPn segment but APP0 (JFIF), APP2 ``ICC_PROFILE`` (colours) and APP14
  ``Adobe`` (how CMYK is decoded), and every COM segment. APP1 EXIF is replaced by a
  minimal EXIF carrying only the orientation, so that the photo is not shown sideways.
  Everything from the first SOS (the picture data) on is passed through untouched:
  metadata after it is rare and cannot be found without decoding the entropy-coded data.
- PNG: the ``tEXt``, ``zTXt``, ``iTXt``, ``eXIf`` and ``tIME`` chunks.

Everything else (PDF, office documents, HEIC, video...) is stored as sent, and the
receipt says so. Written by hand as a small state machine over segments and chunks,
because no library strips while streaming: Pillow and piexif need the whole file in
memory (or on disk, where plaintext must never go). Memory stays bounded: at most one
APP1 segment (64 KiB) is held, to read the orientation.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import StrEnum


class Removed(StrEnum):
    """What was taken out of a file, in words the receipt translates."""

    EXIF = "exif"  # camera, date, GPS position, software
    XMP = "xmp"  # editing history, author, GPS
    IPTC = "iptc"  # author, captions, place
    COMMENT = "comment"
    TEXT = "text"  # PNG text chunks: author, software, comments
    TIME = "time"  # PNG last-modification time
    OTHER = "other"  # any other APPn segment (maker notes, previews)


class FileFormat(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    OTHER = "other"


@dataclass(frozen=True)
class Cleaning:
    """What happened to one file's hidden information, for the receipt."""

    file_format: FileFormat
    removed: tuple[Removed, ...]

    @property
    def cleaned(self) -> bool:
        return self.file_format is not FileFormat.OTHER


_JPEG_SOI = b"\xff\xd8"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_DROPPED = {b"tEXt": Removed.TEXT, b"zTXt": Removed.TEXT, b"iTXt": Removed.TEXT}
_PNG_DROPPED |= {b"eXIf": Removed.EXIF, b"tIME": Removed.TIME}
_EXIF_HEADER = b"Exif\x00\x00"
_ORIENTATION_TAG = 0x0112
# Markers without a length field: TEM, RSTn, SOI, EOI.
_STANDALONE = {0x01, *range(0xD0, 0xDA)}
_SOS = 0xDA
_COM = 0xFE


def minimal_exif(orientation: int) -> bytes:
    """An APP1 EXIF segment holding the orientation tag only (big-endian TIFF)."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8)
    ifd = struct.pack(">H", 1) + struct.pack(">HHIHH", _ORIENTATION_TAG, 3, 1, orientation, 0)
    body = _EXIF_HEADER + tiff + ifd + struct.pack(">I", 0)
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def exif_orientation(payload: bytes) -> int | None:
    """The orientation (2..8) in an APP1 EXIF payload, or None (absent, 1, unreadable)."""
    if not payload.startswith(_EXIF_HEADER):
        return None
    tiff = payload[len(_EXIF_HEADER) :]
    if tiff[:4] not in (b"II*\x00", b"MM\x00*"):
        return None
    order = "<" if tiff[:2] == b"II" else ">"
    try:
        (ifd,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, ifd)
        for i in range(count):
            tag, kind, _n = struct.unpack_from(order + "HHI", tiff, ifd + 2 + 12 * i)
            if tag == _ORIENTATION_TAG and kind == 3:
                (value,) = struct.unpack_from(order + "H", tiff, ifd + 2 + 12 * i + 8)
                return value if 2 <= value <= 8 else None
    except struct.error:
        return None
    return None


def _jpeg_removal(marker: int, head: bytes) -> Removed | None:
    """Why a segment goes (None: it stays). ``head``: its first payload bytes."""
    if marker == _COM:
        return Removed.COMMENT
    if not 0xE0 <= marker <= 0xEF:
        return None
    if marker == 0xE0 or (marker == 0xE2 and head.startswith(b"ICC_PROFILE\x00")):
        return None
    if marker == 0xEE and head.startswith(b"Adobe"):
        return None
    if marker == 0xE1:
        return Removed.EXIF if head.startswith(_EXIF_HEADER) else Removed.XMP
    if marker == 0xED:
        return Removed.IPTC
    return Removed.OTHER


class _State(StrEnum):
    SNIFF = "sniff"
    MARKER = "marker"  # JPEG: waiting for FF xx (and the length, if any)
    SEGMENT = "segment"  # JPEG: inside a segment's payload
    PNG_HEADER = "png_header"  # PNG: waiting for length + type
    PNG_BODY = "png_body"  # PNG: inside a chunk's data + CRC
    THROUGH = "through"  # the rest goes through as it is


class MetadataStripper:
    """Feed the bytes of one file as they arrive; what comes out is the file without
    its hidden information (for JPEG and PNG; anything else comes out unchanged)."""

    def __init__(self) -> None:
        self._state = _State.SNIFF
        self._buffer = bytearray()
        self._remaining = 0  # bytes left in the current segment or chunk
        self._keep = True  # forward the current segment or chunk?
        self._exif: bytearray | None = None  # the APP1 EXIF being read for its orientation
        self.file_format = FileFormat.OTHER
        self._removed: list[Removed] = []

    @property
    def cleaning(self) -> Cleaning:
        return Cleaning(self.file_format, tuple(self._removed))

    def _note(self, what: Removed) -> None:
        if what not in self._removed:
            self._removed.append(what)

    def feed(self, data: bytes | bytearray | memoryview) -> bytes:
        out = bytearray()
        self._buffer += data
        progress = True
        while progress and self._buffer:
            progress = self._step(out)
        return bytes(out)

    def finish(self) -> bytes:
        """The bytes still held (a file cut short, or shorter than a signature)."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        return rest

    def _step(self, out: bytearray) -> bool:
        state = self._state
        if state is _State.THROUGH:
            out += self._buffer
            self._buffer.clear()
            return False
        if state is _State.SNIFF:
            return self._sniff(out)
        if state is _State.MARKER:
            return self._jpeg_marker(out)
        if state is _State.SEGMENT:
            return self._jpeg_segment(out)
        if state is _State.PNG_HEADER:
            return self._png_header(out)
        return self._body(out, _State.PNG_HEADER)

    def _sniff(self, out: bytearray) -> bool:
        if len(self._buffer) < len(_PNG_SIGNATURE):
            return False
        head = bytes(self._buffer[: len(_PNG_SIGNATURE)])
        if head.startswith(_JPEG_SOI):
            self.file_format = FileFormat.JPEG
            out += _JPEG_SOI
            del self._buffer[:2]
            self._state = _State.MARKER
        elif head == _PNG_SIGNATURE:
            self.file_format = FileFormat.PNG
            out += head
            del self._buffer[:8]
            self._state = _State.PNG_HEADER
        else:
            self._state = _State.THROUGH
        return True

    def _jpeg_marker(self, out: bytearray) -> bool:
        buf = self._buffer
        if buf[0] != 0xFF:
            # Not a marker where one must be: not a JPEG we understand; pass it on.
            self._state = _State.THROUGH
            return True
        # Fill bytes (FF FF ...) may precede a marker.
        fill = 0
        while fill < len(buf) and buf[fill] == 0xFF:
            fill += 1
        if fill == len(buf):
            return False
        marker = buf[fill]
        if marker in _STANDALONE:
            out += b"\xff" + bytes([marker])
            del buf[: fill + 1]
            return True
        if marker == _SOS:
            out += b"\xff\xda"
            del buf[: fill + 1]
            self._state = _State.THROUGH
            return True
        # Need the length and up to 14 bytes of payload to decide.
        if len(buf) < fill + 3:
            return False
        (length,) = struct.unpack_from(">H", buf, fill + 1)
        if length < 2:
            self._state = _State.THROUGH
            return True
        want = min(length - 2, 14)
        if len(buf) < fill + 3 + want:
            return False
        head = bytes(buf[fill + 3 : fill + 3 + want])
        removal = _jpeg_removal(marker, head)
        self._keep = removal is None
        if removal is not None:
            self._note(removal)
            if removal is Removed.EXIF:
                self._exif = bytearray()
        else:
            out += b"\xff" + bytes([marker]) + struct.pack(">H", length)
        del buf[: fill + 3]
        self._remaining = length - 2
        self._state = _State.SEGMENT
        return True

    def _jpeg_segment(self, out: bytearray) -> bool:
        take = min(self._remaining, len(self._buffer))
        chunk = self._buffer[:take]
        if self._exif is not None:
            self._exif += chunk
        elif self._keep:
            out += chunk
        del self._buffer[:take]
        self._remaining -= take
        if self._remaining == 0:
            if self._exif is not None:
                orientation = exif_orientation(bytes(self._exif))
                if orientation is not None:
                    out += minimal_exif(orientation)
                self._exif = None
            self._state = _State.MARKER
        return take > 0 or self._remaining == 0

    def _png_header(self, out: bytearray) -> bool:
        if len(self._buffer) < 8:
            return False
        length, kind = struct.unpack_from(">I4s", self._buffer, 0)
        removal = _PNG_DROPPED.get(kind)
        self._keep = removal is None
        if removal is None:
            out += self._buffer[:8]
        else:
            self._note(removal)
        del self._buffer[:8]
        self._remaining = length + 4  # data and CRC
        self._state = _State.PNG_BODY
        return True

    def _body(self, out: bytearray, after: _State) -> bool:
        take = min(self._remaining, len(self._buffer))
        if self._keep:
            out += self._buffer[:take]
        del self._buffer[:take]
        self._remaining -= take
        if self._remaining == 0:
            self._state = after
        return True
