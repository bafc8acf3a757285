"""Uploads are encrypted while they stream in: no plaintext ever reaches a temp file.

Werkzeug spools file parts over 500 KB to a temporary file by default, and any access
to ``request.form`` (Flask-WTF's CSRF check is the first) parses the whole body. So the
intake replaces the request class: every file part, whoever triggers the parse, goes
into a sink chosen by the endpoint -

- ``encrypt``: no-JavaScript forms. The part is age-encrypted on the fly to the case key
  (a new one made for this request, or the reporter's case from the session) and
  written to the blob store under a temporary name.
- ``ciphertext``: the JSON API. The browser already encrypted the part; it is written as
  is, and checked to be a well-formed age file before anything is stored.
- ``discard``: the form is being re-rendered, not submitted (the no-JavaScript language
  switch): file parts are read and forgotten, never written anywhere.
- anything else: discarded while counted, never written.

An encrypted part first goes through :class:`MetadataStripper` (app/intake/hidden_info.py):
JPEG and PNG lose their hidden information (camera, GPS position, authors) before they
are encrypted; ``sink.cleaning`` tells the receipt what was removed and what was not.

An encrypted part is padded with zero bytes to its PADMÉ length before the age stream
is closed (crypto/padding.py), so the stored size tells little about the file's; the
sink's ``size`` stays the true one, which goes into the encrypted metadata only.

Limits are enforced while streaming. Sinks left behind by a failed request are removed
in teardown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, BinaryIO, cast

from flask import Flask, current_app, g, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, ServiceUnavailable

from app.intake.hidden_info import Cleaning, MetadataStripper
from app.storage import BlobLimitError, PendingBlob, StorageError
from app.web.context import blob_store
from app.web.request_body import StrictFormRequest
from crypto import AgeWriter, Recipient, padme_length

# Encryption overhead allowance for ciphertext uploads: 16 bytes per 64 KiB chunk plus a
# header for a handful of recipients.
_CIPHERTEXT_SLACK = 64 * 1024
_PADDING_BLOCK = bytes(64 * 1024)


class SinkKind(StrEnum):
    ENCRYPT = "encrypt"
    CIPHERTEXT = "ciphertext"
    DISCARD = "discard"


class UploadTooLarge(RequestEntityTooLarge):
    description = "upload_too_large"


class TooManyFiles(RequestEntityTooLarge):
    description = "too_many_files"


class FilePartWithoutName(BadRequest):
    """A file part whose header could not be read, so the parser took it for a text
    field (see :func:`file_parts`). The whole request is refused: storing the rest
    would show a receipt for a report that silently lost a file."""

    description = "file_part_without_name"


class UploadStorageFailed(ServiceUnavailable):
    """The blob store refused a write (full disk, permissions). Not a ValueError, so
    Werkzeug's parser does not swallow it; shown to the reporter as a clear error."""

    description = "storage_unavailable"


@dataclass(frozen=True)
class UploadPolicy:
    kind: SinkKind
    # Who the upload is encrypted to; None from the callable means "nobody may upload
    # here now" (e.g. the reporter's session ended): the part is discarded unread.
    recipient: Callable[[], Recipient | None] | None
    max_file_bytes: int
    max_total_bytes: int
    max_files: int


class UploadSink:
    """What Werkzeug writes a file part into. Looks like a file; holds only ciphertext."""

    def __init__(self, blob: PendingBlob, recipient: Recipient | None, state: _RequestUploads):
        self.blob = blob
        self._writer: AgeWriter | None = (
            AgeWriter(cast(BinaryIO, blob), [recipient]) if recipient else None
        )
        # Only plaintext the server encrypts is cleaned: ciphertext cannot be read.
        self._stripper: MetadataStripper | None = MetadataStripper() if recipient else None
        self._state = state
        self.received = 0  # what was sent, counted against the limits
        self.size = 0  # what is stored (inside the encryption), after cleaning
        self.closed = False

    @property
    def cleaning(self) -> Cleaning | None:
        return self._stripper.cleaning if self._stripper else None

    def write(self, data: bytes | bytearray | memoryview) -> int:
        n = len(data)
        policy = self._state.policy
        if self.received + n > policy.max_file_bytes:
            raise UploadTooLarge()
        if self._state.total + n > policy.max_total_bytes:
            raise UploadTooLarge()
        self.received += n
        self._state.total += n
        self._store(self._stripper.feed(data) if self._stripper else data)
        return n

    def _store(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        self.size += len(data)
        try:
            if self._writer is not None:
                self._writer.write(data)
            else:
                self.blob.write(data)
        except BlobLimitError:
            raise UploadTooLarge() from None
        except (StorageError, OSError):
            raise UploadStorageFailed() from None

    def seek(self, offset: int, whence: int = 0) -> int:
        # Werkzeug rewinds the container when the part ends: that is our cue to write
        # the final STREAM chunk. Nothing can be read back from a sink.
        self.finish()
        return 0

    def finish(self) -> None:
        if not self.closed:
            if self._stripper is not None:
                self._store(self._stripper.finish())
            if self._writer is not None:
                try:
                    self._pad()
                    self._writer.close()
                except (StorageError, OSError):
                    raise UploadStorageFailed() from None
            self.closed = True

    def _pad(self) -> None:
        """Zero bytes up to the PADMÉ length, inside the encryption (not counted in
        ``size``, nor against the upload limits, which are about what was sent)."""
        assert self._writer is not None
        missing = padme_length(self.size) - self.size
        while missing > 0:
            block = _PADDING_BLOCK[: min(missing, len(_PADDING_BLOCK))]
            self._writer.write(block)
            missing -= len(block)

    def read(self, *_args: Any) -> bytes:
        return b""

    def tell(self) -> int:
        return self.received

    def close(self) -> None:
        """Werkzeug closes file parts at request end; the blob itself is kept or
        discarded by the transaction, not here."""

    @property
    def is_empty(self) -> bool:
        return self.received == 0


class _NullSink:
    """A file part for an endpoint that takes no files: counted, then forgotten. Only the
    request's own size limit bounds a ``discard`` endpoint (``cap=None``)."""

    def __init__(self, state: _RequestUploads, cap: int | None = 1024 * 1024) -> None:
        self._state = state
        self._cap = cap

    def write(self, data: bytes) -> int:
        self._state.total += len(data)
        if self._cap is not None and self._state.total > self._cap:
            raise UploadTooLarge()
        return len(data)

    def seek(self, *_args: Any) -> int:
        return 0

    def read(self, *_args: Any) -> bytes:
        return b""

    def close(self) -> None:
        pass


@dataclass
class _RequestUploads:
    policy: UploadPolicy
    sinks: list[UploadSink]
    total: int = 0


_POLICIES = "liemchinh.upload_policies"


def register_upload_policy(app: Flask, endpoint: str, policy: UploadPolicy) -> None:
    app.extensions.setdefault(_POLICIES, {})[endpoint] = policy


def request_sinks() -> list[UploadSink]:
    state: _RequestUploads | None = g.get("upload_state")
    return list(state.sinks) if state else []


class IntakeRequest(StrictFormRequest):
    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> Any:
        endpoint = self.url_rule.endpoint if self.url_rule else None
        policy = current_app.extensions.get(_POLICIES, {}).get(endpoint)
        state: _RequestUploads | None = g.get("upload_state")
        if policy is None:
            return _NullSink(state or _RequestUploads(_DISCARD, []))
        if state is None:
            state = _RequestUploads(policy, [])
            g.upload_state = state
        if policy.kind is SinkKind.DISCARD:
            return _NullSink(state, cap=None)
        if len(state.sinks) >= policy.max_files:
            raise TooManyFiles()
        recipient = None
        if policy.kind is SinkKind.ENCRYPT:
            recipient = policy.recipient() if policy.recipient else None
            if recipient is None:
                return _NullSink(state)
        try:
            blob = blob_store().create()
        except StorageError:
            raise UploadStorageFailed() from None
        try:
            # The age header is written here already: a full disk can fail it.
            sink = UploadSink(blob, recipient, state)
        except (StorageError, OSError):
            blob.discard()
            raise UploadStorageFailed() from None
        state.sinks.append(sink)
        return sink


_DISCARD = UploadPolicy(SinkKind.CIPHERTEXT, None, 0, 0, 0)


def ciphertext_limit(plaintext_limit: int) -> int:
    return plaintext_limit + plaintext_limit // 4096 + _CIPHERTEXT_SLACK


def padded_ciphertext_limit(plaintext_limit: int) -> int:
    """The largest age file of an attachment of up to ``plaintext_limit`` bytes once it
    is padded (the browser pads before it encrypts)."""
    return ciphertext_limit(padme_length(plaintext_limit))


def init_uploads(app: Flask, max_request_bytes: int) -> None:
    app.request_class = IntakeRequest
    app.config["MAX_CONTENT_LENGTH"] = max_request_bytes

    @app.teardown_request
    def _discard_unclaimed(_exc: BaseException | None) -> None:
        for sink in request_sinks():
            sink.blob.discard()  # no-op for blobs whose transaction committed


def file_parts(name: str) -> list[tuple[UploadSink, str, str]]:
    """The named file parts of this request: (sink, filename, content type), skipping the
    empty part a browser sends for a file input left blank.

    A part named like a file input that arrived as a text field is a file whose
    ``Content-Disposition`` Werkzeug could not read: a raw CR or LF inside
    ``filename="…"`` (browsers send %0D%0A, hand-made clients may not) ends the header
    line, the unclosed quote drops the filename parameter, and without one the part is
    parsed as a text field. Browsers never send a text field under these names, so
    :class:`FilePartWithoutName` refuses the request rather than drop the file.
    """
    if request.form.getlist(name):
        raise FilePartWithoutName()
    parts: list[tuple[UploadSink, str, str]] = []
    for storage in request.files.getlist(name):
        sink = storage.stream
        if not isinstance(sink, UploadSink):
            continue
        sink.finish()
        if sink.is_empty and not storage.filename:
            sink.blob.discard()
            continue
        parts.append((sink, storage.filename or "", storage.mimetype or ""))
    return parts
