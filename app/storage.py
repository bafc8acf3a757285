"""The blob store: age files in a local directory, named by random ids.

Only ciphertext is ever written here. A blob is first written under ``tmp/`` and
moved to its final name (``ab/abcdef….age``) just before the database transaction that
refers to it commits; if that transaction fails, the final file is removed again. A
crash between the two leaves an unreferenced file, which ``purge`` removes
(:meth:`BlobStore.orphans`) - never a database row pointing at a missing file.

Deleting overwrites the file before unlinking it: on a plain file system this makes
the ciphertext unrecoverable even if the case key later leaks (on copy-on-write or
flash storage it is best effort; full-disk encryption is the real defence, see docs).

**File times say the day only** (DESIGN.md promise 7). Most blobs are written during a
reporter's request, and a file's mtime would date it to the microsecond (and backups
copy mtimes). After every write, rename and delete, the file and the directories it
changed (its ``ab/`` folder, ``tmp/``, the store's root) get the day label
(:func:`app.clock.day_stamp` of the local day; :mod:`app.file_days`) as their access
and modification times; files are read with ``O_NOATIME`` where the system allows it,
so reading a case does not set the access time either. The inode's change time (ctime)
cannot be set by any program and still tells when the label was set: see
docs/threat-model.md.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from app.file_days import stamp_day

_TMP = "tmp"
_SUFFIX = ".age"
_PARTIAL = ".partial"


class StorageError(RuntimeError):
    """The blob store cannot be written or read (full disk, permissions, missing file)."""


class BlobLimitError(StorageError):
    """A blob grew past its size limit while being written."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"blob exceeds the limit of {limit} bytes")
        self.limit = limit


def _open_for_reading(path: Path) -> BinaryIO:
    """Open without updating the access time where the kernel allows it (the owner of
    the file may; anyone else gets EPERM and a plain open)."""
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
    noatime = getattr(os, "O_NOATIME", 0)
    try:
        fd = os.open(path, flags | noatime)
    except PermissionError:
        if not noatime:
            raise
        fd = os.open(path, flags)
    return os.fdopen(fd, "rb")


@dataclass
class PendingBlob:
    """A blob being written. ``write`` counts and limits the bytes stored."""

    store: BlobStore
    blob_id: str
    handle: BinaryIO
    limit: int | None
    size: int = 0
    finalized: bool = field(default=False)
    # Set once the transaction referring to the blob committed: from then on the file
    # belongs to the database row and must never be discarded by request cleanup.
    kept: bool = field(default=False)

    @property
    def tmp_path(self) -> Path:
        return self.store.root / _TMP / (self.blob_id + _PARTIAL)

    @property
    def storage_key(self) -> str:
        return f"{self.blob_id[:2]}/{self.blob_id}{_SUFFIX}"

    def write(self, data: bytes | bytearray | memoryview) -> int:
        n = len(data)
        if self.limit is not None and self.size + n > self.limit:
            raise BlobLimitError(self.limit)
        try:
            self.handle.write(data)
            # Flushed so that the label set next is not overwritten by a later write
            # of the buffer: a crash mid-upload leaves a file dated to the day only.
            self.handle.flush()
        except OSError as exc:
            raise StorageError(f"cannot write to the blob store: {exc.strerror}") from exc
        stamp_day(self.handle.fileno())
        self.size += n
        return n

    def reopen(self) -> BinaryIO:
        """Read back what was written so far (to validate an uploaded age file)."""
        try:
            self.handle.flush()
            return _open_for_reading(self.tmp_path)
        except OSError as exc:
            raise StorageError(f"cannot read the blob back: {exc.strerror}") from exc

    def finalize(self) -> str:
        """Flush, fsync and move to the final name. Returns the storage key."""
        try:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
            final = self.store.root / self.storage_key
            final.parent.mkdir(exist_ok=True, mode=0o700)
            os.replace(self.tmp_path, final)
            stamp_day(final, final.parent, self.tmp_path.parent, self.store.root)
            self.store._fsync_dir(final.parent)
        except OSError as exc:
            raise StorageError(f"cannot store the blob: {exc.strerror}") from exc
        self.finalized = True
        return self.storage_key

    def discard(self) -> None:
        """Remove whatever was written, finalized or not (a failed transaction)."""
        if self.kept:
            return
        with suppress(OSError):
            self.handle.close()
        with suppress(FileNotFoundError):
            self.tmp_path.unlink()
            stamp_day(self.tmp_path.parent)
        if self.finalized:
            self.store.delete(self.storage_key)


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _ensure(self) -> None:
        tmp = self.root / _TMP
        if not tmp.is_dir():
            tmp.mkdir(parents=True, exist_ok=True, mode=0o700)
            stamp_day(tmp, self.root)

    @staticmethod
    def _fsync_dir(path: Path) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def create(self, limit: int | None = None) -> PendingBlob:
        """Start a new blob under ``tmp/``. The caller writes ciphertext, then finalizes."""
        try:
            self._ensure()
            blob_id = secrets.token_hex(16)
            fd = os.open(
                self.root / _TMP / (blob_id + _PARTIAL),
                os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                0o600,
            )
        except OSError as exc:
            raise StorageError(f"cannot create a blob: {exc.strerror}") from exc
        stamp_day(fd, self.root / _TMP)
        return PendingBlob(self, blob_id, os.fdopen(fd, "wb"), limit)

    def _path(self, storage_key: str) -> Path:
        # Keys come from our own database, but a path must never escape the store.
        path = (self.root / storage_key).resolve()
        if self.root.resolve() not in path.parents or not path.name.endswith(_SUFFIX):
            raise StorageError(f"invalid storage key {storage_key!r}")
        return path

    def open(self, storage_key: str) -> BinaryIO:
        try:
            return _open_for_reading(self._path(storage_key))
        except OSError as exc:
            raise StorageError(f"blob {storage_key} cannot be read: {exc.strerror}") from exc

    def read(self, storage_key: str) -> bytes:
        with self.open(storage_key) as handle:
            return handle.read()

    def exists(self, storage_key: str) -> bool:
        return self._path(storage_key).exists()

    def delete(self, storage_key: str) -> None:
        """Overwrite with zeros, then unlink. Missing files are fine (idempotent purge)."""
        path = self._path(storage_key)
        try:
            size = path.stat().st_size
            with path.open("r+b") as handle:
                remaining = size
                block = b"\0" * 65536
                while remaining > 0:
                    handle.write(block[: min(remaining, len(block))])
                    remaining -= min(remaining, len(block))
                handle.flush()
                os.fsync(handle.fileno())
            path.unlink()
        except FileNotFoundError:
            return
        stamp_day(path.parent)

    def stored_keys(self) -> Iterator[str]:
        """Every final blob's storage key (for orphan detection)."""
        if not self.root.exists():
            return
        for path in self.root.glob(f"??/*{_SUFFIX}"):
            yield f"{path.parent.name}/{path.name}"

    def partial_files(self) -> Iterator[Path]:
        """Every upload being received, or left by a crashed one."""
        tmp = self.root / _TMP
        if tmp.exists():
            yield from tmp.glob(f"*{_PARTIAL}")

    def stale_partials(self, older_than: timedelta) -> Iterator[Path]:
        """Temporary files left by a crashed upload."""
        cutoff = datetime.now(UTC) - older_than
        for path in self.partial_files():
            with suppress(FileNotFoundError):
                if datetime.fromtimestamp(path.stat().st_mtime, UTC) < cutoff:
                    yield path
