"""The age v1 STREAM payload: ChaCha20-Poly1305 over 64 KiB chunks.

Each chunk's nonce is an 11-byte big-endian chunk counter followed by a flag
byte that is 1 only on the final chunk. The flag is what stops truncation:
a file cut at a chunk boundary has no authenticated final chunk. For the
same reason the final chunk may be empty only when the whole payload is
(otherwise an attacker could not forge it, but there would be two encodings).

Memory is bounded both ways: the writer holds at most one plaintext chunk,
the reader one encrypted chunk; neither ever reads the whole payload.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import PayloadError
from .header import BufferedSource

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
PAYLOAD_NONCE_SIZE = 16
_MAX_COUNTER = (1 << 88) - 1


def payload_key(file_key: bytes, payload_nonce: bytes) -> bytes:
    """HKDF-SHA256(ikm = file key, salt = payload nonce, info = "payload")."""
    return HKDF(hashes.SHA256(), length=32, salt=payload_nonce, info=b"payload").derive(file_key)


def _chunk_nonce(counter: int, last: bool) -> bytes:
    if counter >= _MAX_COUNTER:  # pragma: no cover - 2^88 chunks is not reachable
        raise PayloadError("the payload has too many chunks")
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class StreamWriter:
    """Encrypt a byte stream chunk by chunk into ``dst``.

    A full chunk is held back until we know more data follows, because only
    then do we know it is not the final one.
    """

    def __init__(self, key: bytes, dst: BinaryIO) -> None:
        self._aead = ChaCha20Poly1305(key)
        self._dst = dst
        self._counter = 0
        self._buf = bytearray(CHUNK_SIZE)
        self._view = memoryview(self._buf)
        self._filled = 0
        self._out = bytearray(ENCRYPTED_CHUNK_SIZE)
        self._out_view = memoryview(self._out)

    def _seal(self, chunk: memoryview, last: bool) -> None:
        out = self._out_view[: len(chunk) + TAG_SIZE]
        self._aead.encrypt_into(_chunk_nonce(self._counter, last), chunk, None, out)
        self._dst.write(out)
        self._counter += 1

    def write(self, data: bytes | bytearray | memoryview) -> int:
        view = memoryview(data).cast("B")
        size = len(view)
        pos = 0
        while pos < size:
            if self._filled == CHUNK_SIZE:
                # More data is coming, so the buffered chunk is not the last one.
                self._seal(self._view, last=False)
                self._filled = 0
            if self._filled == 0 and size - pos > CHUNK_SIZE:
                # Fast path: seal straight from the caller's buffer, no copy.
                self._seal(view[pos : pos + CHUNK_SIZE], last=False)
                pos += CHUNK_SIZE
                continue
            take = min(CHUNK_SIZE - self._filled, size - pos)
            self._view[self._filled : self._filled + take] = view[pos : pos + take]
            self._filled += take
            pos += take
        return size

    def finish(self) -> None:
        """Seal the buffered data as the final chunk (empty only if nothing was written)."""
        self._seal(self._view[: self._filled], last=True)
        self._filled = 0


def decrypt_chunks(key: bytes, source: BufferedSource) -> Iterator[bytes]:
    """Yield each plaintext chunk once it has authenticated.

    An error is raised from the iterator at the first bad chunk, after the good
    chunks before it were released; a caller that needs all-or-nothing must
    hold its output back until the iterator is exhausted (see decrypt_to_file).
    """
    return cast(Iterator[bytes], _open_chunks(key, source, reuse_buffer=False))


def decrypt_chunk_views(key: bytes, source: BufferedSource) -> Iterator[memoryview]:
    """Like ``decrypt_chunks``, but each chunk is a view into one reused buffer.

    The view is valid only until the next chunk is requested: for consumers
    that write each chunk out at once (CLI, ``decrypt_to_file``). It avoids a
    fresh 64 KiB allocation per chunk (``decrypt_into``). A chunk that fails to
    authenticate is wiped from the buffer, since ``decrypt_into`` leaves the
    unauthenticated plaintext in it; it is never yielded.
    """
    return cast(Iterator[memoryview], _open_chunks(key, source, reuse_buffer=True))


def _open_chunks(
    key: bytes, source: BufferedSource, *, reuse_buffer: bool
) -> Iterator[bytes | memoryview]:
    aead = ChaCha20Poly1305(key)
    buf = bytearray(ENCRYPTED_CHUNK_SIZE)
    view = memoryview(buf)
    out_view = memoryview(bytearray(CHUNK_SIZE)) if reuse_buffer else None

    def open_chunk(counter: int, data: memoryview, last: bool) -> bytes | memoryview:
        nonce = _chunk_nonce(counter, last)
        if out_view is None:
            return aead.decrypt(nonce, data, None)
        out = out_view[: len(data) - TAG_SIZE]
        try:
            aead.decrypt_into(nonce, data, None, out)
        except InvalidTag:
            out[:] = bytes(len(out))
            raise
        return out

    counter = 0
    while True:
        n = source.readinto(view)
        if n == 0:
            if counter == 0:
                raise PayloadError("the payload is empty: it has no chunk")
            raise PayloadError("the payload is truncated: the final chunk is missing")
        if n < ENCRYPTED_CHUNK_SIZE:
            # A short read means end of file, so this must be the final chunk.
            if n < TAG_SIZE:
                raise PayloadError("the payload is truncated inside a chunk")
            if n == TAG_SIZE and counter > 0:
                raise PayloadError("the final chunk is empty, which only an empty file may have")
            try:
                plaintext = open_chunk(counter, view[:n], True)
            except InvalidTag:
                raise PayloadError(f"payload chunk {counter} failed to authenticate") from None
            yield plaintext
            _expect_eof(source)
            return
        try:
            plaintext = open_chunk(counter, view, False)
        except InvalidTag:
            # A full-size chunk may still be the final one.
            try:
                plaintext = open_chunk(counter, view, True)
            except InvalidTag:
                raise PayloadError(f"payload chunk {counter} failed to authenticate") from None
            yield plaintext
            _expect_eof(source)
            return
        yield plaintext
        counter += 1


def _expect_eof(source: BufferedSource) -> None:
    if source.read_exact_or_less(1):
        raise PayloadError("trailing data after the end of the encrypted payload")


def check_payload_layout(payload_size: int) -> None:
    """Check that ``payload_size`` bytes (nonce included) can be a valid STREAM payload.

    This is structure only (no key): used to vet uploads we cannot decrypt.
    """
    if payload_size < PAYLOAD_NONCE_SIZE:
        raise PayloadError("the payload nonce is missing or truncated")
    body = payload_size - PAYLOAD_NONCE_SIZE
    if body == 0:
        raise PayloadError("the payload is empty: it has no chunk")
    full, rest = divmod(body, ENCRYPTED_CHUNK_SIZE)
    if rest == 0:
        return  # every chunk full, the last one too: allowed
    if rest < TAG_SIZE:
        raise PayloadError("the payload is truncated inside a chunk")
    if rest == TAG_SIZE and full > 0:
        raise PayloadError("the final chunk is empty, which only an empty file may have")
