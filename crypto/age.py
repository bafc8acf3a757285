"""Encrypt and decrypt age v1 files (age-encryption.org/v1) as streams.

Writing: a random 16-byte file key is wrapped once per recipient (X25519
stanzas), the header is authenticated with HMAC-SHA256 under
HKDF(file key, info "header"), and the payload is STREAM-encrypted under
HKDF(file key, salt = 16-byte random nonce, info "payload").

Reading is eager for the header: ``decrypt_stream`` parses it, finds the file
key and checks the MAC before it returns, so header errors (HeaderError,
HeaderMacError, NoIdentityMatchError) surface before any output exists. The
payload then streams: each chunk is released only after it authenticated, and
a later failure raises PayloadError from the iterator.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import os
import secrets
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import BinaryIO

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import (
    AgeError,
    FileTooLargeError,
    HeaderError,
    HeaderMacError,
    NoIdentityMatchError,
)
from .header import (
    BufferedSource,
    Header,
    Stanza,
    parse_header,
    serialise_mac_line,
    serialise_without_mac,
)
from .keys import (
    FILE_KEY_SIZE,
    X25519_STANZA_TYPE,
    Identity,
    Recipient,
    check_x25519_stanza,
    unique_recipients,
)
from .scrypt import SCRYPT_STANZA_TYPE, ScryptIdentity, check_scrypt_stanza
from .stream import (
    CHUNK_SIZE,
    ENCRYPTED_CHUNK_SIZE,
    PAYLOAD_NONCE_SIZE,
    TAG_SIZE,
    StreamWriter,
    check_payload_layout,
    decrypt_chunk_views,
    decrypt_chunks,
    payload_key,
)

AnyIdentity = Identity | ScryptIdentity
_COPY_BUFFER = 1024 * 1024
_PREALLOCATE_MIN = 1024 * 1024


def preallocate(fd: int, size: int) -> bool:
    """Reserve ``size`` bytes at the start of a fresh, empty regular file (a hint).

    Linux ``fallocate(2)`` (mode 0, called directly: glibc's ``posix_fallocate``
    would emulate it by writing every block on filesystems without support).
    It extends the file to ``size``, so a caller that got True must truncate
    the file to the bytes it actually wrote before it is used. Skipped (False)
    for small sizes, non-regular or non-empty files, other systems, and any
    error (the writes then simply allocate as they go). Measured on ext4: the
    page-cache writes then cost ≈0.01–0.05 s less kernel time per 512 MiB
    (docs/benchmarks.md).
    """
    if size < _PREALLOCATE_MIN or not sys.platform.startswith("linux"):
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size != 0:
            return False
        import ctypes  # here: only large outputs pay its import (≈3 ms)

        libc = ctypes.CDLL(None, use_errno=True)
        fallocate = libc.fallocate
        fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
        fallocate.restype = ctypes.c_int
        return bool(fallocate(fd, 0, 0, size) == 0)
    except (OSError, AttributeError):
        return False


# Plaintext goes out in 32 KiB writes, as age's own io.Copy does. Measured on the
# project's VMs (Linux 6.18, ext4, which caches files in large folios; free page
# reporting to the host): writing 512 MiB in aligned 64 KiB writes cost 0.16-0.39 s of
# system time and in 1 MiB writes 0.95-1.2 s, depending on what ran before, while 32 KiB
# writes cost 0.15-0.17 s in every case (docs/benchmarks.md, "Write size"). The likely
# cause: larger aligned writes get larger folios, carved out of the big free blocks the
# guest has already handed back to the host, so every first touch faults in the host.
OUTPUT_WRITE_SIZE = 32 * 1024


def write_plaintext(out: BinaryIO, chunk: bytes | memoryview) -> None:
    """Write one decrypted chunk to ``out`` in ``OUTPUT_WRITE_SIZE`` pieces."""
    view = memoryview(chunk)
    for start in range(0, len(view), OUTPUT_WRITE_SIZE):
        out.write(view[start : start + OUTPUT_WRITE_SIZE])


def _input_size(src: BinaryIO) -> int | None:
    """Size of ``src`` if it is a regular file, else None."""
    try:
        st = os.fstat(src.fileno())
    except (OSError, ValueError, AttributeError):  # BytesIO, pipes' wrappers, ...
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def encrypted_size_bound(plaintext_size: int) -> int:
    """Bytes after the header for ``plaintext_size`` bytes: nonce, chunks and their tags."""
    chunks = max(1, -(-plaintext_size // CHUNK_SIZE))
    return PAYLOAD_NONCE_SIZE + plaintext_size + chunks * TAG_SIZE


def _header_mac(file_key: bytes, mac_input: bytes) -> bytes:
    mac_key = HKDF(hashes.SHA256(), length=32, salt=b"", info=b"header").derive(file_key)
    return hmac.new(mac_key, mac_input, hashlib.sha256).digest()


def _validate_stanzas(stanzas: Sequence[Stanza]) -> None:
    """Check the shape of every stanza whose type we know, whoever it is for.

    Unknown types (e.g. "grease") are ignored as the spec requires.
    """
    for stanza in stanzas:
        if stanza.type == X25519_STANZA_TYPE:
            check_x25519_stanza(stanza)
        elif stanza.type == SCRYPT_STANZA_TYPE:
            # A passphrase file must not also be openable by a key: otherwise a
            # sender could add a recipient the passphrase holder never sees.
            if len(stanzas) != 1:
                raise HeaderError("an scrypt stanza must be the only stanza in the header")
            check_scrypt_stanza(stanza)


class AgeWriter:
    """A writable file-like object that age-encrypts into ``dst``.

    The header and payload nonce are written at construction. ``write`` takes
    any amount of data and buffers at most one 64 KiB chunk. ``close`` writes
    the final chunk (it does not close ``dst``). If the ``with`` block exits
    with an exception the final chunk is NOT written, so the partial output
    never authenticates as a complete (but truncated) file; for the same reason
    there is no finaliser on garbage collection.
    """

    def __init__(self, dst: BinaryIO, recipients: Sequence[Recipient]) -> None:
        unique = unique_recipients(recipients)
        if not unique:
            raise ValueError("at least one recipient is required")
        file_key = secrets.token_bytes(FILE_KEY_SIZE)
        header = serialise_without_mac([r.wrap(file_key) for r in unique])
        nonce = secrets.token_bytes(PAYLOAD_NONCE_SIZE)
        dst.write(header + serialise_mac_line(_header_mac(file_key, header)) + nonce)
        self._stream = StreamWriter(payload_key(file_key, nonce), dst)
        self.plaintext_size = 0
        self.closed = False
        self.aborted = False

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self.closed or self.aborted:
            raise ValueError("write to a closed AgeWriter")
        n = self._stream.write(data)
        self.plaintext_size += n
        return n

    def flush(self) -> None:
        """Nothing to do: a chunk is only written once complete."""

    def close(self) -> None:
        """Write the final chunk. Idempotent; does nothing after ``abort``."""
        if self.closed or self.aborted:
            return
        self._stream.finish()
        self.closed = True

    def abort(self) -> None:
        """Give up: the output stays an incomplete, non-decryptable age file."""
        self.aborted = True

    def __enter__(self) -> AgeWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def encrypt_stream(src: BinaryIO, dst: BinaryIO, recipients: Sequence[Recipient]) -> int:
    """Encrypt all of ``src`` to ``dst``; return the number of plaintext bytes."""
    buf = bytearray(_COPY_BUFFER)
    view = memoryview(buf)
    readinto = getattr(src, "readinto", None)
    with AgeWriter(dst, recipients) as writer:
        while True:
            if readinto is not None:
                n = readinto(view)
                if not n:
                    break
                writer.write(view[:n])
            else:
                block = src.read(_COPY_BUFFER)
                if not block:
                    break
                writer.write(block)
    return writer.plaintext_size


def encrypt_bytes(data: bytes, recipients: Sequence[Recipient]) -> bytes:
    """Encrypt a small byte string in memory."""
    out = io.BytesIO()
    with AgeWriter(out, recipients) as writer:
        writer.write(data)
    return out.getvalue()


def _open_header(source: BufferedSource, identities: Sequence[AnyIdentity]) -> bytes:
    """Parse the header, find the file key, check the MAC; return the payload key."""
    header: Header = parse_header(source)
    _validate_stanzas(header.stanzas)
    file_key = None
    for identity in identities:
        for stanza in header.stanzas:
            file_key = identity.unwrap(stanza)
            if file_key is not None:
                break
        if file_key is not None:
            break
    if file_key is None:
        raise NoIdentityMatchError("no identity matched any of the file's recipients")
    if not hmac.compare_digest(_header_mac(file_key, header.mac_input), header.mac):
        raise HeaderMacError("the header MAC is wrong: the file header was altered")
    nonce = source.read_exact_or_less(PAYLOAD_NONCE_SIZE)
    if len(nonce) != PAYLOAD_NONCE_SIZE:
        raise HeaderError("the payload nonce is missing or truncated")
    return payload_key(file_key, nonce)


def decrypt_stream(src: BinaryIO, identities: Sequence[AnyIdentity]) -> Iterator[bytes]:
    """Return an iterator of authenticated plaintext chunks.

    Header errors are raised eagerly, by this call. Payload errors are raised
    by the iterator, after every authentic chunk before the bad one.
    """
    source = BufferedSource(src)
    key = _open_header(source, identities)
    return decrypt_chunks(key, source)


def decrypt_stream_views(src: BinaryIO, identities: Sequence[AnyIdentity]) -> Iterator[memoryview]:
    """Like ``decrypt_stream``, but each chunk is a view into one reused buffer.

    A view is valid only until the next chunk is requested, so the consumer
    must write it out (or copy it) at once. Same guarantees otherwise.
    """
    source = BufferedSource(src)
    key = _open_header(source, identities)
    return decrypt_chunk_views(key, source)


def decrypt_bytes(data: bytes, identities: Sequence[AnyIdentity]) -> bytes:
    """Decrypt a small age file in memory; all or nothing."""
    return b"".join(decrypt_stream(io.BytesIO(data), identities))


def decrypt_to_file(
    src: BinaryIO, identities: Sequence[AnyIdentity], path: str | os.PathLike[str]
) -> int:
    """Decrypt into ``path`` all or nothing; return the plaintext size.

    Plaintext goes to a private (0600) temporary file beside ``path`` that is
    renamed over it only once the final chunk authenticated, and removed on
    any failure, so ``path`` never holds a truncated plaintext. When ``src`` is
    a regular file, the temporary file is preallocated to the ciphertext size
    (an upper bound of the plaintext) and truncated to the plaintext size
    before the fsync and the rename.
    """
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=directory)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            chunks = decrypt_stream_views(src, identities)  # header errors: before any prealloc
            bound = _input_size(src)
            preallocated = bound is not None and preallocate(fd, bound)
            for chunk in chunks:
                write_plaintext(out, chunk)
                size += len(chunk)
            out.flush()
            if preallocated:
                os.ftruncate(fd, size)
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return size


@dataclass(frozen=True)
class AgeFileInfo:
    """What ``inspect_age_file`` could verify without a key."""

    stanza_types: tuple[str, ...]
    header_size: int
    payload_size: int  # bytes after the header: 16-byte nonce + encrypted chunks

    @property
    def plaintext_size(self) -> int:
        """Plaintext length implied by the layout (already checked as consistent)."""
        body = self.payload_size - PAYLOAD_NONCE_SIZE
        chunks = -(-body // ENCRYPTED_CHUNK_SIZE)
        return body - chunks * TAG_SIZE


def inspect_age_file(src: BinaryIO, max_size: int) -> AgeFileInfo:
    """Vet an age file we cannot decrypt (e.g. encrypted in a reporter's browser).

    Checks: the header parses strictly, every stanza is a well-formed X25519
    stanza, the payload has a nonce and a chunk layout that a valid file can
    have, and the whole file is at most ``max_size`` bytes. Reads ``src`` to
    the end (or to ``max_size`` + 1) in bounded memory. It cannot check the
    MAC or the chunk tags: only a recipient can.
    """
    source = BufferedSource(src)
    header = parse_header(source)
    if header.size > max_size:
        raise FileTooLargeError(f"the file is larger than the limit of {max_size} bytes")
    for stanza in header.stanzas:
        if stanza.type != X25519_STANZA_TYPE:
            raise HeaderError(f"unexpected {stanza.type!r} stanza: only X25519 is accepted")
        check_x25519_stanza(stanza)
    allowed = max_size - header.size
    buf = bytearray(_COPY_BUFFER)
    view = memoryview(buf)
    payload_size = 0
    while True:
        n = source.readinto(view)
        if not n:
            break
        payload_size += n
        if payload_size > allowed:
            raise FileTooLargeError(f"the file is larger than the limit of {max_size} bytes")
    if payload_size < PAYLOAD_NONCE_SIZE:
        raise HeaderError("the payload nonce is missing or truncated")
    check_payload_layout(payload_size)
    return AgeFileInfo(
        stanza_types=tuple(s.type for s in header.stanzas),
        header_size=header.size,
        payload_size=payload_size,
    )


__all__ = [
    "CHUNK_SIZE",
    "AgeError",
    "AgeFileInfo",
    "AgeWriter",
    "AnyIdentity",
    "decrypt_bytes",
    "decrypt_stream",
    "decrypt_stream_views",
    "decrypt_to_file",
    "encrypt_bytes",
    "encrypt_stream",
    "encrypted_size_bound",
    "inspect_age_file",
    "preallocate",
    "write_plaintext",
]
