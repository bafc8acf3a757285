"""Write one archive of the installation: database snapshot, secrets, blob files, the
signed manifest (the format: :mod:`app.backup.archive`)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO

from app.backup import databases
from app.backup.archive import (
    BLOB_DIR,
    FORMAT_VERSION,
    MANIFEST,
    MANIFEST_MAC,
    PG_MEMBER,
    SECRETS_MEMBER,
    SQLITE_MEMBER,
    Member,
    signature,
    tarinfo,
)
from app.backup.errors import BackupError
from app.database import Database
from app.storage import BlobStore
from config import Settings
from config.secrets import SecretsError, load_secrets, secrets_text
from crypto import AgeWriter, Recipient


@dataclass(frozen=True)
class BackupResult:
    path: Path
    database_kind: str
    revision: str | None
    blobs: int
    encrypted: bool
    warnings: tuple[str, ...] = ()


def _backup_key(settings: Settings) -> bytes:
    try:
        key = load_secrets(settings.secrets_file).backup_auth_key
    except SecretsError as exc:
        raise BackupError(str(exc)) from None
    if key is None:
        raise BackupError(
            "the secrets file has no backup authentication key: run "
            "`flask --app wsgi:review_app init` (it adds one), then keep a copy of "
            f"{settings.secrets_file} offline beside the recovery key"
        )
    return key


def _archived_secrets(settings: Settings) -> bytes:
    """The secrets file as the archive holds it: everything but the backup key."""
    values = load_secrets(settings.secrets_file)
    return secrets_text(replace(values, backup_auth_key=None)).encode()


class _HashingReader:
    """Reads through to ``src`` and hashes what passed."""

    def __init__(self, src: IO[bytes]) -> None:
        self.src = src
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.src.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


@contextmanager
def _exclusive_output(out_file: Path) -> Iterator[BinaryIO]:
    """A private (0600) file that appears under ``out_file`` only once complete; an
    existing ``out_file`` is never overwritten."""
    if out_file.exists():
        raise BackupError(f"{out_file} exists already; choose another name")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    partial = out_file.with_name(f".{out_file.name}.partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"{partial} exists: another backup is running or crashed") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(partial, out_file)
        except FileExistsError:
            raise BackupError(f"{out_file} appeared meanwhile; not overwritten") from None
    finally:
        with suppress(FileNotFoundError):
            os.unlink(partial)


def _snapshot(database: Database, staging: Path) -> tuple[Path, dict[str, Any], list[str]]:
    """The database copied into ``staging``: its file, its manifest entry, warnings."""
    if databases.is_sqlite(database.url):
        staged = staging / SQLITE_MEMBER
        revision = databases.sqlite_snapshot(databases.sqlite_path(database.url), staged)
        return staged, {"kind": "sqlite", "member": SQLITE_MEMBER, "revision": revision}, []
    staged = staging / PG_MEMBER
    info, warnings = databases.pg_snapshot(database, staged)
    return staged, info, warnings


def backup(
    settings: Settings,
    database: Database,
    out_file: Path,
    *,
    recipients: Sequence[Recipient] = (),
) -> BackupResult:
    """Write one archive of the installation to ``out_file`` (mode 0600; refuses to
    overwrite). With ``recipients`` the archive is an age file encrypted to them.

    The archive contains the secrets file: keep it encrypted and offline.
    """
    if not settings.secrets_file.exists():
        raise BackupError(f"no secrets file at {settings.secrets_file}: nothing to back up")
    mac_key = _backup_key(settings)
    store = BlobStore(settings.blob_path)
    settings.instance_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    created = datetime.now(UTC)
    files: dict[str, Member] = {}
    # The snapshot is not plaintext of any report, but it is the whole database: it is
    # staged inside the private instance folder, not in a shared /tmp.
    with tempfile.TemporaryDirectory(dir=settings.instance_path, prefix=".backup-") as tmp:
        staged, db_info, warnings = _snapshot(database, Path(tmp))
        with _exclusive_output(out_file) as raw:
            writer = AgeWriter(raw, recipients) if recipients else None
            sink: Any = writer if writer is not None else raw
            blobs = 0
            with tarfile.open(fileobj=sink, mode="w|gz") as tar:
                _add_file(tar, files, str(db_info["member"]), staged)
                _add_bytes(tar, files, SECRETS_MEMBER, _archived_secrets(settings))
                for key in sorted(store.stored_keys()):
                    try:
                        _add_file(tar, files, f"{BLOB_DIR}/{key}", store.root / key)
                    except FileNotFoundError:
                        # Deleted since listed: a purge ran meanwhile (app.backup).
                        warnings.append(f"blob {key} vanished during the backup")
                        continue
                    blobs += 1
                manifest = {
                    "format": FORMAT_VERSION,
                    "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "database": db_info,
                    "blobs": blobs,
                    "files": [
                        {"name": name, "size": m.size, "sha256": m.sha256}
                        for name, m in sorted(files.items())
                    ],
                }
                body = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
                tar.addfile(tarinfo(MANIFEST, len(body)), io.BytesIO(body))
                mac = signature(mac_key, body)
                tar.addfile(tarinfo(MANIFEST_MAC, len(mac)), io.BytesIO(mac))
            if writer is not None:
                writer.close()
    return BackupResult(
        out_file,
        str(db_info["kind"]),
        db_info.get("revision"),
        blobs,
        bool(recipients),
        tuple(warnings),
    )


def _add_bytes(tar: tarfile.TarFile, files: dict[str, Member], name: str, data: bytes) -> None:
    tar.addfile(tarinfo(name, len(data)), io.BytesIO(data))
    files[name] = Member(hashlib.sha256(data).hexdigest(), len(data))


def _add_file(tar: tarfile.TarFile, files: dict[str, Member], name: str, path: Path) -> None:
    with path.open("rb") as handle:
        stat = os.fstat(handle.fileno())
        reader = _HashingReader(handle)
        tar.addfile(tarinfo(name, stat.st_size), reader)
    files[name] = Member(reader.digest.hexdigest(), reader.size)
