"""Checking uploaded blobs and reading them back (committing them with their rows is
app.cases.unit_of_work's)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, TypeVar

from app.cases.payloads import PayloadFormatError
from app.models import Blob
from app.storage import BlobStore, PendingBlob
from crypto import (
    AgeError,
    Identity,
    decrypt_bytes,
    decrypt_stream,
    inspect_age_file,
    padme_length,
)

T = TypeVar("T")


class InvalidUploadError(ValueError):
    """An uploaded file is not a well-formed age file for X25519 recipients."""

    def __init__(self, part: str, reason: str) -> None:
        super().__init__(f"{part}: {reason}")
        self.part = part


def discard_all(blobs: Iterable[PendingBlob]) -> None:
    for blob in blobs:
        blob.discard()


def check_age_upload(part: str, data: BinaryIO, limit: int) -> None:
    """Refuse anything but a well-formed X25519 age file within ``limit`` bytes."""
    try:
        inspect_age_file(data, limit)
    except AgeError as exc:
        raise InvalidUploadError(part, str(exc)) from None


def attachment_ciphertext_limit(max_file_bytes: int) -> int:
    """The largest age file the browser may send for an attachment of at most
    ``max_file_bytes``: padded to its PADMÉ length first (crypto/padding.py), then
    encrypted (16 bytes per 64 KiB chunk and a small header: 1 % is ample)."""
    padded = padme_length(max_file_bytes)
    return padded + padded // 100


def check_pending_upload(part: str, blob: PendingBlob, limit: int) -> None:
    with blob.reopen() as handle:
        check_age_upload(part, handle, limit)


def decrypt_blob(store: BlobStore, blob: Blob, identity: Identity) -> bytes:
    """Decrypt a small blob (report, message, note) in memory."""
    return decrypt_bytes(store.read(blob.storage_key), [identity])


def read_payload(
    store: BlobStore, blob: Blob, identity: Identity, decode: Callable[[bytes], T]
) -> T | None:
    """Decrypt and decode a report or message; None when it cannot be read.

    The server checks that a browser's upload is a well-formed age file, but cannot
    check what is inside: it may be encrypted to another key, or hold something that is
    not our payload format. Such an item is shown as unreadable, and the rest of the
    case as usual, rather than failing the whole page. A missing or unreadable file
    (``StorageError``) is the store's failure, not the item's, and still raises.
    """
    try:
        return decode(decrypt_blob(store, blob, identity))
    except (AgeError, PayloadFormatError):
        return None


def stream_blob(
    store: BlobStore, blob: Blob, identity: Identity, *, size: int | None = None
) -> Iterator[bytes]:
    """Decrypt an attachment chunk by chunk; a failure part-way raises from the iterator
    (a streamed download is then aborted, never completed with bad data).

    ``size`` is the attachment's true size from the encrypted metadata: only that many
    bytes are yielded, which cuts off the PADMÉ padding (a file stored before padding
    existed is exactly that long already). The padding is still decrypted and
    authenticated, so a damaged tail fails the download as before.
    """
    handle = store.open(blob.storage_key)
    try:
        remaining = size
        for chunk in decrypt_stream(handle, [identity]):
            if remaining is None:
                yield chunk
            elif remaining > 0:
                part = chunk[:remaining]
                remaining -= len(part)
                yield part
    finally:
        handle.close()
