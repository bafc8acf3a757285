"""Restore a checked archive into an EMPTY instance, all or nothing.

Pass one (:func:`app.backup.reading.verify`) has checked the signature and every
member before anything here runs. Pass two reads the archive again and writes: blob
files into the store, the database through a staging folder inside the instance, the
secrets file last (it is what marks an instance as initialised). A failure half-way
removes what was written.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from sqlalchemy import create_engine, inspect, text

from app import schema
from app.backup import databases
from app.backup.archive import (
    BLOB_MEMBER,
    COPY_BUFFER,
    MANIFEST,
    MANIFEST_MAC,
    SECRETS_MEMBER,
    Manifest,
    Member,
)
from app.backup.errors import CorruptArchiveError, NotEmptyError, RestoreError
from app.backup.reading import archive_stream, members, reading_archive, verify
from app.database import Database
from app.storage import BlobStore
from config import Settings
from config.secrets import SecretsError, parse_secrets, secrets_text
from crypto import Identity


@dataclass(frozen=True)
class RestoreResult:
    database_kind: str
    revision: str | None
    upgraded_to: str | None
    blobs: int


@dataclass
class _Written:
    """What this restore wrote so far, to remove again if it fails."""

    files: list[Path] = field(default_factory=list)
    database_file: Path | None = None  # an SQLite file this restore created

    def undo(self) -> None:
        # A PostgreSQL restore is one transaction and rolled back by itself; only a
        # failure after it (writing the secrets) leaves tables.
        for path in self.files:
            with suppress(FileNotFoundError):
                path.unlink()
        if self.database_file is not None:
            for suffix in ("", "-wal", "-shm"):
                with suppress(FileNotFoundError):
                    Path(f"{self.database_file}{suffix}").unlink()


def _check_empty(settings: Settings, database_url: str, manifest: Manifest) -> None:
    if settings.secrets_file.exists():
        raise NotEmptyError(f"{settings.secrets_file} exists: restore only into an empty instance")
    if next(iter(BlobStore(settings.blob_path).stored_keys()), None) is not None:
        raise NotEmptyError(f"the blob store {settings.blob_path} is not empty")
    sqlite = databases.is_sqlite(database_url)
    if sqlite != (manifest.kind == "sqlite"):
        raise RestoreError(
            f"the archive holds a {manifest.kind} database but the target is "
            f"{'SQLite' if sqlite else 'PostgreSQL'}"
        )
    if sqlite and not databases.sqlite_path(database_url).exists():
        return
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            current = (
                None
                if sqlite
                else conn.execute(text("SELECT current_schema()")).scalar_one_or_none()
            )
    finally:
        engine.dispose()
    if tables:
        raise NotEmptyError(
            f"the database has {len(tables)} table(s): restore only into an empty database"
        )
    if manifest.kind == "postgresql":
        wanted = manifest.raw["database"].get("schema")
        if current is None:
            raise RestoreError(f"the target database has no schema {wanted!r}: create it first")
        if current != wanted:
            # pg_restore cannot move objects to another schema.
            raise RestoreError(
                f"the backup is of schema {wanted!r}; the target connection uses {current!r}. "
                f"Create schema {wanted!r} and point search_path at it"
            )


def _private_write(path: Path, reader: IO[bytes], expected: Member) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    digest = hashlib.sha256()
    with os.fdopen(fd, "wb") as out:
        while block := reader.read(COPY_BUFFER):
            digest.update(block)
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    # Checked again while writing: the archive could have changed since pass one.
    if digest.hexdigest() != expected.sha256:
        raise CorruptArchiveError(f"{path.name} changed since it was verified")


def _write_members(
    archive: Path,
    identities: Sequence[Identity],
    manifest: Manifest,
    blob_path: Path,
    staging: Path,
    written: _Written,
) -> tuple[Path, Path]:
    """Pass two: blob files into the store, the database and the secrets into
    ``staging``. Returns the staged database and secrets files."""
    staged_db = staged_secrets = None
    with archive_stream(archive, identities) as stream, reading_archive():
        for name, reader, _size in members(stream):
            if name in (MANIFEST, MANIFEST_MAC):
                continue
            expected = manifest.files[name]
            match = BLOB_MEMBER.match(name)
            if match:
                target = blob_path / match.group(1) / f"{match.group(2)}.age"
                written.files.append(target)
                _private_write(target, reader, expected)
            else:
                target = staging / name
                _private_write(target, reader, expected)
                if name == SECRETS_MEMBER:
                    staged_secrets = target
                else:
                    staged_db = target
    if staged_db is None or staged_secrets is None:
        raise CorruptArchiveError("the archive changed since it was verified")
    return staged_db, staged_secrets


def _restore_database(
    staged: Path, database_url: str, manifest: Manifest, written: _Written
) -> None:
    if manifest.kind == "sqlite":
        target = databases.sqlite_path(database_url)
        if not target.exists():
            written.database_file = target
        databases.restore_sqlite(staged, target)
    else:
        databases.restore_pg(staged, database_url, manifest)


def _write_secrets(target: Path, staged: Path, backup_key: bytes) -> None:
    try:
        values = parse_secrets(staged.read_text(encoding="utf-8"), SECRETS_MEMBER)
    except (SecretsError, UnicodeDecodeError) as exc:
        raise CorruptArchiveError(f"the archived secrets are unusable: {exc}") from None
    text = secrets_text(replace(values, backup_auth_key=backup_key)).encode()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


def _upgrade_restored(database_url: str, manifest: Manifest) -> str | None:
    """Check the restored revision against the manifest and upgrade to head if the
    backup is older than this code; returns the revision upgraded to, if any."""
    database = Database(database_url)
    try:
        current = schema.current_revision(database.engine)
        if current != manifest.revision:
            raise RestoreError(
                f"restored database is at revision {current}, the manifest says {manifest.revision}"
            )
        if current == schema.head_revision():
            return None
        schema.upgrade(database.engine)
        return schema.current_revision(database.engine)
    finally:
        database.dispose()


def restore(
    settings: Settings,
    database_url: str,
    archive: Path,
    *,
    backup_key: bytes,
    identities: Sequence[Identity] = (),
) -> RestoreResult:
    """Restore ``archive`` into the empty instance of ``settings`` and the empty
    database at ``database_url`` (normally ``settings.database_url``). ``backup_key``
    is the backup authentication key of the installation that made it (from the copy of
    its secrets file kept offline); the restored secrets file gets it back.

    Raises :class:`NotEmptyError` or :class:`CorruptArchiveError` (among them
    :class:`UnauthenticatedArchiveError`; all before writing anything), or
    :class:`RestoreError`. Upgrades the schema to head if the backup is older than
    this code.
    """
    manifest = verify(archive, identities, backup_key)
    _check_empty(settings, database_url, manifest)
    settings.instance_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    written = _Written()
    try:
        with tempfile.TemporaryDirectory(dir=settings.instance_path, prefix=".restore-") as tmp:
            staged_db, staged_secrets = _write_members(
                archive, identities, manifest, settings.blob_path, Path(tmp), written
            )
            _restore_database(staged_db, database_url, manifest, written)
            settings.secrets_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Last: the secrets file is what marks an instance as initialised. It gets
            # the backup key back, so that this installation's next backups are signed
            # with the key whose offline copy already exists.
            _write_secrets(settings.secrets_file, staged_secrets, backup_key)
    except BaseException:
        written.undo()
        raise
    upgraded = _upgrade_restored(database_url, manifest)
    blobs = sum(1 for name in manifest.files if BLOB_MEMBER.match(name))
    return RestoreResult(manifest.kind, manifest.revision, upgraded, blobs)
