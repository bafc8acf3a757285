"""Read an archive back: decrypt it if it is an age file, walk its members, and check
it whole before a restore writes anything (pass one).

Every member name is checked against the format (:mod:`app.backup.archive`) as it is
read; a damaged archive raises :class:`CorruptArchiveError`, never a tar or zlib error.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from alembic.script import ScriptDirectory
from alembic.util import CommandError

from app import schema
from app.backup.archive import (
    AGE_MAGIC,
    BLOB_MEMBER,
    COPY_BUFFER,
    FIXED_MEMBERS,
    FORMAT_VERSION,
    GZIP_MAGIC,
    MANIFEST,
    MANIFEST_MAC,
    MAX_MANIFEST_BYTES,
    PG_MEMBER,
    SECRETS_MEMBER,
    SQLITE_MEMBER,
    Manifest,
    Member,
    check_signature,
)
from app.backup.errors import CorruptArchiveError, RestoreError
from crypto import AgeError, Identity, decrypt_stream


class _ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (age's decrypting stream)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        view = memoryview(buffer).cast("B")
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


@contextmanager
def archive_stream(archive: Path, identities: Sequence[Identity]) -> Iterator[IO[bytes]]:
    """The archive's tar.gz bytes, decrypted on the fly when it is an age file."""
    try:
        handle = archive.open("rb")
    except OSError as exc:
        raise RestoreError(f"cannot read {archive}: {exc.strerror}") from None
    with handle:
        head = handle.read(len(AGE_MAGIC))
        handle.seek(0)
        if head == AGE_MAGIC:
            if not identities:
                raise RestoreError("the archive is age-encrypted: give --identity FILE")
            try:
                chunks = decrypt_stream(handle, identities)
            except AgeError as exc:
                raise CorruptArchiveError(f"cannot decrypt the archive: {exc}") from None
            yield io.BufferedReader(_ChunkReader(chunks), COPY_BUFFER)
        elif head.startswith(GZIP_MAGIC):
            yield handle
        else:
            raise CorruptArchiveError(f"{archive} is not a backup archive (tar.gz or age)")


# What a damaged or tampered archive raises while it is read: gzip and tar framing,
# zlib data, age's authenticated chunks.
_DAMAGED = (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error, AgeError)


@contextmanager
def reading_archive() -> Iterator[None]:
    try:
        yield
    except _DAMAGED as exc:
        raise CorruptArchiveError(f"the archive is damaged: {exc}") from None


def members(stream: IO[bytes]) -> Iterator[tuple[str, IO[bytes], int]]:
    """Each regular member as (name, reader, size); anything unexpected is refused.
    Reading a member's data can raise too: callers wrap it in :func:`reading_archive`."""
    with reading_archive(), tarfile.open(fileobj=stream, mode="r|gz") as tar:
        for member in tar:
            name = member.name
            if not member.isreg():
                raise CorruptArchiveError(f"unexpected member type: {name!r}")
            if name not in FIXED_MEMBERS and not BLOB_MEMBER.match(name):
                raise CorruptArchiveError(f"unexpected member: {name!r}")
            reader = tar.extractfile(member)
            assert reader is not None
            yield name, reader, member.size


def verify(archive: Path, identities: Sequence[Identity], backup_key: bytes) -> Manifest:
    """Pass one: hash every member, check the manifest's signature, then compare every
    member with the manifest. Writes nothing."""
    seen: dict[str, Member] = {}
    manifest_bytes: bytes | None = None
    mac_bytes: bytes | None = None
    with archive_stream(archive, identities) as stream, reading_archive():
        for name, reader, size in members(stream):
            if name in seen or (name == MANIFEST and manifest_bytes is not None):
                raise CorruptArchiveError(f"member {name!r} appears twice")
            if name == MANIFEST_MAC:
                if mac_bytes is not None or size > 1024:
                    raise CorruptArchiveError("the manifest's signature is malformed")
                mac_bytes = reader.read()
                continue
            if name == MANIFEST:
                if size > MAX_MANIFEST_BYTES:
                    raise CorruptArchiveError("the manifest is implausibly large")
                manifest_bytes = reader.read()
                continue
            seen[name] = _digest(reader)
    if manifest_bytes is None:
        raise CorruptArchiveError("the archive has no MANIFEST.json")
    check_signature(manifest_bytes, mac_bytes, backup_key)
    try:
        raw = json.loads(manifest_bytes)
        listed = {
            str(item["name"]): Member(str(item["sha256"]), int(item["size"]))
            for item in raw["files"]
        }
        kind = raw["database"]["kind"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptArchiveError(f"the manifest is malformed: {exc}") from None
    if raw.get("format") != FORMAT_VERSION:
        raise CorruptArchiveError(f"unknown archive format {raw.get('format')!r}")
    _check_members(listed, seen, kind)
    manifest = Manifest(raw, listed)
    _check_revision_known(manifest.revision)
    return manifest


def _digest(reader: IO[bytes]) -> Member:
    digest = hashlib.sha256()
    count = 0
    while block := reader.read(COPY_BUFFER):
        digest.update(block)
        count += len(block)
    return Member(digest.hexdigest(), count)


def _check_members(listed: dict[str, Member], seen: dict[str, Member], kind: Any) -> None:
    """Every member read is listed with its size and digest, and the listed members
    make an installation: a database of a known kind and the secrets."""
    if set(listed) != set(seen):
        extra = sorted(set(seen) - set(listed))[:3]
        missing = sorted(set(listed) - set(seen))[:3]
        raise CorruptArchiveError(
            f"members and manifest disagree (unlisted: {extra}, missing: {missing})"
        )
    for name, member in listed.items():
        if seen[name] != member:
            raise CorruptArchiveError(f"{name} does not match its SHA-256 in the manifest")
    expected = SQLITE_MEMBER if kind == "sqlite" else PG_MEMBER
    if kind not in ("sqlite", "postgresql") or expected not in listed:
        raise CorruptArchiveError(f"the archive holds no {kind!r} database")
    if SECRETS_MEMBER not in listed:
        raise CorruptArchiveError("the archive holds no secrets.json")


def _check_revision_known(revision: str | None) -> None:
    if revision is None:
        raise CorruptArchiveError("the backed-up database has no schema revision")
    try:
        script = ScriptDirectory(str(schema.MIGRATIONS_DIR)).get_revision(revision)
    except CommandError:
        script = None
    if script is None:
        raise RestoreError(
            f"the backup's schema revision {revision} is unknown to this version of the "
            "software (made by a newer release?): restore with that release or newer"
        )
