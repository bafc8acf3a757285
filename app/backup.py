"""Backup and restore of a whole installation: database, blob store and secrets.

**The archive holds the installation's secrets** (``secrets.json``: the receipt salt,
without which no receipt opens its case, and the apps' secret keys) next to every
encrypted case. Case content stays encrypted to the readers' and the recovery key, but
anyone holding the archive can test receipt guesses offline at the cost of one Argon2id
run each. Store archives encrypted and offline: pass age recipients (``--recipient
age1…``, ideally a key kept with the recovery key, not on this server) and the whole
archive is written as one age file; ``restore`` then needs ``--identity FILE``.

Archive: a tar.gz (optionally inside an age file) with

- ``database.sqlite3``, made with SQLite's online backup API (a consistent snapshot
  while the apps keep running), or ``database.pgdump`` from ``pg_dump
  --format=custom`` of the installation's schema (pg_dump reads one snapshot);
- ``blobs/ab/<id>.age``: every file of the blob store, copied after the database
  snapshot, so every blob the snapshot refers to is there - unless a purge deleted it
  in between: do not run ``purge`` and ``backup`` at the same time (docs/operations.md);
  a file newer than the snapshot is an orphan after a restore, which ``purge`` sweeps;
- ``secrets.json``, without the backup authentication key;
- ``MANIFEST.json``: format version, creation time, database kind, Alembic revision,
  and every other member with its size and SHA-256;
- ``MANIFEST.hmac``, last: HMAC-SHA256 of the manifest under the installation's backup
  authentication key.

**Authentication.** A hash proves nothing about who made an archive: anyone who can
put a file where the backups are kept (or re-encrypt one to the public recipient) could
make a well-formed archive holding their own database (an extra admin, a trimmed audit
log, their key in every wrap). So the manifest, which names every member's SHA-256, is
signed with ``backup_auth_key`` from the secrets file (config.secrets), a key that is
never written into any archive. ``restore`` takes it from a copy of the old
installation's secrets file (``--secrets FILE``, kept offline beside the recovery key)
and refuses an archive whose signature does not match, or that has none, before it
writes anything: ``pg_restore`` and the SQLite copy only ever see members whose digests
the signed manifest vouches for. Not covered: whoever holds that key (the server's
operator, the holder of the offline copy) can sign an archive.

Every member's tar header carries the backup's local day (:func:`app.clock.day_stamp`)
as its mtime, never a file's own time (DESIGN.md promise 7: a blob's mtime would date
the reporter's action that wrote it). The manifest's creation time is the operator's.

``restore`` goes only into an EMPTY instance (no secrets file, no blob files, a
database without tables) and refuses anything else before writing. It reads the archive
twice: first to check the manifest's signature and every member's name, size and
SHA-256 against the manifest (and that the schema revision is one this code knows),
writing nothing; then to write, checking each member's digest again. If writing fails
half-way, what was written is removed again where possible.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import create_engine, inspect, make_url, text

from app import clock, schema
from app.database import Database
from app.storage import BlobStore
from config import Settings
from config.secrets import SecretsError, load_secrets, parse_secrets, secrets_text
from crypto import AgeError, AgeWriter, Identity, Recipient, decrypt_stream

FORMAT_VERSION = 2  # 2: the manifest is signed (MANIFEST.hmac)
MANIFEST = "MANIFEST.json"
MANIFEST_MAC = "MANIFEST.hmac"
MAC_PREFIX = "hmac-sha256:"
_MAC_CONTEXT = b"liemchinh backup manifest v2\n"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
SECRETS_MEMBER = "secrets.json"
BLOB_DIR = "blobs"
AGE_MAGIC = b"age-encryption.org/v1\n"
GZIP_MAGIC = b"\x1f\x8b"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_BLOB_MEMBER = re.compile(r"^blobs/([0-9a-f]{2})/([0-9a-f]{32})\.age$")
_COPY_BUFFER = 1024 * 1024
_PG_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


class BackupError(RuntimeError):
    """A backup cannot be made (missing tool, unreadable store, target exists)."""


class RestoreError(RuntimeError):
    """A restore was refused or failed."""


class NotEmptyError(RestoreError):
    """The target instance already holds an installation; restore never merges."""


class CorruptArchiveError(RestoreError):
    """The archive is not one of ours, or a member does not match the manifest."""


class UnauthenticatedArchiveError(CorruptArchiveError):
    """The manifest's signature is missing or was not made with our backup key."""


def manifest_mac(key: bytes, manifest: bytes) -> str:
    return hmac.new(key, _MAC_CONTEXT + manifest, hashlib.sha256).hexdigest()


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


@dataclass(frozen=True)
class BackupResult:
    path: Path
    database_kind: str
    revision: str | None
    blobs: int
    encrypted: bool
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class RestoreResult:
    database_kind: str
    revision: str | None
    upgraded_to: str | None
    blobs: int


@dataclass(frozen=True)
class _Member:
    sha256: str
    size: int


@dataclass
class _Manifest:
    raw: dict[str, Any]
    files: dict[str, _Member] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return str(self.raw["database"]["kind"])

    @property
    def revision(self) -> str | None:
        value = self.raw["database"].get("revision")
        return str(value) if value else None


# -- helpers -------------------------------------------------------------------------------


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for pg_dump/pg_restore, and the environment to run them in.

    The password goes through ``PGPASSWORD``, never the command line (which ``ps``
    shows to every local user); query options (``sslmode``, ``options=-csearch_path…``)
    stay in the URI, which libpq understands as it is.
    """
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client tools "
            "(Debian/Ubuntu: apt-get install -y postgresql-client) in the server's major version"
        )
    return path


def _tool_major(path: str) -> int:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    match = _PG_VERSION.search(out.stdout)
    if match is None:
        raise BackupError(f"cannot tell the version of {path}: {out.stdout.strip()!r}")
    return int(match.group(1))


def _server_info(database: Database) -> tuple[int, str]:
    with database.engine.connect() as conn:
        version = int(conn.execute(text("SHOW server_version_num")).scalar_one())
        current = conn.execute(text("SELECT current_schema()")).scalar_one_or_none()
    if current is None:
        raise BackupError("the database connection has no current schema (check search_path)")
    return version // 10000, str(current)


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


def _tarinfo(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    # The day of the backup, for every member (see the module docstring).
    info.mtime = int(clock.day_stamp(clock.today()).timestamp())
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


# -- backup --------------------------------------------------------------------------------


def _sqlite_snapshot(source: Path, target: Path) -> str | None:
    if not source.exists():
        raise BackupError(f"the database file {source} does not exist")
    src = sqlite3.connect(source, timeout=15)
    dst = sqlite3.connect(target)
    try:
        # One step (pages=-1): the copy is one read transaction, a consistent snapshot;
        # under WAL the apps keep writing meanwhile.
        src.backup(dst)
        row = dst.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup failed: {exc}") from None
    finally:
        src.close()
        dst.close()
    os.chmod(target, 0o600)
    return str(row[0]) if row else None


def _pg_snapshot(database: Database, target: Path) -> tuple[dict[str, Any], list[str]]:
    pg_dump = _tool("pg_dump")
    client = _tool_major(pg_dump)
    server, schema_name = _server_info(database)
    warnings = []
    if client < server:
        raise BackupError(
            f"pg_dump is version {client} but the server is PostgreSQL {server}: pg_dump "
            f"cannot dump a newer server. Install postgresql-client-{server}."
        )
    if client > server:
        warnings.append(
            f"pg_dump is version {client}, the server PostgreSQL {server}: restoring this "
            f"dump needs pg_restore {client} or newer"
        )
    revision = schema.current_revision(database.engine)
    uri, env = _libpq(database.url)
    done = subprocess.run(
        [
            pg_dump,
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--schema={schema_name}",
            f"--file={target}",
            f"--dbname={uri}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    os.chmod(target, 0o600)
    info = {
        "kind": "postgresql",
        "member": PG_MEMBER,
        "revision": revision,
        "schema": schema_name,
        "server_major": server,
        "pg_dump_major": client,
    }
    return info, warnings


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
    warnings: list[str] = []
    files: dict[str, _Member] = {}
    # The snapshot is not plaintext of any report, but it is the whole database: it is
    # staged inside the private instance folder, not in a shared /tmp.
    with tempfile.TemporaryDirectory(dir=settings.instance_path, prefix=".backup-") as tmp:
        staged: Path
        if _is_sqlite(database.url):
            staged = Path(tmp) / SQLITE_MEMBER
            revision = _sqlite_snapshot(_sqlite_path(database.url), staged)
            db_info: dict[str, Any] = {
                "kind": "sqlite",
                "member": SQLITE_MEMBER,
                "revision": revision,
            }
        else:
            staged = Path(tmp) / PG_MEMBER
            db_info, warnings = _pg_snapshot(database, staged)
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
                        # Deleted since listed: a purge ran meanwhile (see docstring).
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
                tar.addfile(_tarinfo(MANIFEST, len(body)), io.BytesIO(body))
                mac = f"{MAC_PREFIX}{manifest_mac(mac_key, body)}\n".encode()
                tar.addfile(_tarinfo(MANIFEST_MAC, len(mac)), io.BytesIO(mac))
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


def _add_bytes(tar: tarfile.TarFile, files: dict[str, _Member], name: str, data: bytes) -> None:
    tar.addfile(_tarinfo(name, len(data)), io.BytesIO(data))
    files[name] = _Member(hashlib.sha256(data).hexdigest(), len(data))


def _add_file(tar: tarfile.TarFile, files: dict[str, _Member], name: str, path: Path) -> None:
    with path.open("rb") as handle:
        stat = os.fstat(handle.fileno())
        reader = _HashingReader(handle)
        tar.addfile(_tarinfo(name, stat.st_size), reader)
    files[name] = _Member(reader.digest.hexdigest(), reader.size)


# -- restore -------------------------------------------------------------------------------


@contextmanager
def _archive_stream(archive: Path, identities: Sequence[Identity]) -> Iterator[IO[bytes]]:
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
            yield io.BufferedReader(_ChunkReader(chunks), _COPY_BUFFER)
        elif head.startswith(GZIP_MAGIC):
            yield handle
        else:
            raise CorruptArchiveError(f"{archive} is not a backup archive (tar.gz or age)")


# What a damaged or tampered archive raises while it is read: gzip and tar framing,
# zlib data, age's authenticated chunks.
_DAMAGED = (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error, AgeError)


@contextmanager
def _reading_archive() -> Iterator[None]:
    try:
        yield
    except _DAMAGED as exc:
        raise CorruptArchiveError(f"the archive is damaged: {exc}") from None


def _members(stream: IO[bytes]) -> Iterator[tuple[str, IO[bytes], int]]:
    """Each regular member as (name, reader, size); anything unexpected is refused.
    Reading a member's data can raise too: callers wrap it in :func:`_reading_archive`."""
    with _reading_archive(), tarfile.open(fileobj=stream, mode="r|gz") as tar:
        for member in tar:
            name = member.name
            if not member.isreg():
                raise CorruptArchiveError(f"unexpected member type: {name!r}")
            if name not in (
                MANIFEST,
                MANIFEST_MAC,
                SQLITE_MEMBER,
                PG_MEMBER,
                SECRETS_MEMBER,
            ) and not (_BLOB_MEMBER.match(name)):
                raise CorruptArchiveError(f"unexpected member: {name!r}")
            reader = tar.extractfile(member)
            assert reader is not None
            yield name, reader, member.size


def _verify(archive: Path, identities: Sequence[Identity], backup_key: bytes) -> _Manifest:
    """Pass one: hash every member, check the manifest's signature, then compare every
    member with the manifest. Writes nothing."""
    seen: dict[str, _Member] = {}
    manifest_bytes: bytes | None = None
    mac_bytes: bytes | None = None
    with _archive_stream(archive, identities) as stream, _reading_archive():
        for name, reader, size in _members(stream):
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
            digest = hashlib.sha256()
            count = 0
            while block := reader.read(_COPY_BUFFER):
                digest.update(block)
                count += len(block)
            seen[name] = _Member(digest.hexdigest(), count)
    if manifest_bytes is None:
        raise CorruptArchiveError("the archive has no MANIFEST.json")
    _check_signature(manifest_bytes, mac_bytes, backup_key)
    try:
        raw = json.loads(manifest_bytes)
        listed = {
            str(item["name"]): _Member(str(item["sha256"]), int(item["size"]))
            for item in raw["files"]
        }
        kind = raw["database"]["kind"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptArchiveError(f"the manifest is malformed: {exc}") from None
    if raw.get("format") != FORMAT_VERSION:
        raise CorruptArchiveError(f"unknown archive format {raw.get('format')!r}")
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
    manifest = _Manifest(raw, listed)
    _check_revision_known(manifest.revision)
    return manifest


def _check_signature(manifest: bytes, mac: bytes | None, backup_key: bytes) -> None:
    if mac is None:
        raise UnauthenticatedArchiveError(
            "the archive is not signed (made by an older release, or not by this "
            "installation): refused"
        )
    text = mac.decode("ascii", "replace").strip()
    expected = MAC_PREFIX + manifest_mac(backup_key, manifest)
    if not hmac.compare_digest(text.encode(), expected.encode()):
        raise UnauthenticatedArchiveError(
            "the archive was not made by this installation: its signature does not match "
            "the backup key of the secrets file given with --secrets. Refused; nothing "
            "was written"
        )


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


def _check_empty(settings: Settings, database_url: str, manifest: _Manifest) -> None:
    if settings.secrets_file.exists():
        raise NotEmptyError(f"{settings.secrets_file} exists: restore only into an empty instance")
    if next(iter(BlobStore(settings.blob_path).stored_keys()), None) is not None:
        raise NotEmptyError(f"the blob store {settings.blob_path} is not empty")
    if _is_sqlite(database_url) != (manifest.kind == "sqlite"):
        raise RestoreError(
            f"the archive holds a {manifest.kind} database but the target is "
            f"{'SQLite' if _is_sqlite(database_url) else 'PostgreSQL'}"
        )
    if _is_sqlite(database_url) and not _sqlite_path(database_url).exists():
        return
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            current = (
                None
                if _is_sqlite(database_url)
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


def _private_write(path: Path, reader: IO[bytes], expected: _Member) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    digest = hashlib.sha256()
    with os.fdopen(fd, "wb") as out:
        while block := reader.read(_COPY_BUFFER):
            digest.update(block)
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    # Checked again while writing: the archive could have changed since pass one.
    if digest.hexdigest() != expected.sha256:
        raise CorruptArchiveError(f"{path.name} changed since it was verified")


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


def _restore_sqlite(staged: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    src = sqlite3.connect(staged)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    except sqlite3.Error as exc:
        raise RestoreError(f"SQLite restore failed: {exc}") from None
    finally:
        src.close()
        dst.close()
    os.chmod(target, 0o600)


def _restore_pg(staged: Path, database_url: str, manifest: _Manifest) -> None:
    try:
        pg_restore = _tool("pg_restore")
        client = _tool_major(pg_restore)
    except BackupError as exc:
        raise RestoreError(str(exc)) from None
    made_with = int(manifest.raw["database"].get("pg_dump_major") or 0)
    if client < made_with:
        raise RestoreError(
            f"the dump was made by pg_dump {made_with}; pg_restore {client} cannot read it. "
            f"Install postgresql-client-{made_with} or newer"
        )
    uri, env = _libpq(database_url)
    done = subprocess.run(
        [
            pg_restore,
            "--exit-on-error",
            "--single-transaction",  # all or nothing: a failure leaves the database empty
            "--no-owner",
            "--no-privileges",
            f"--schema={manifest.raw['database']['schema']}",
            f"--dbname={uri}",
            str(staged),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RestoreError(f"pg_restore failed: {done.stderr.strip()}")


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
    manifest = _verify(archive, identities, backup_key)
    _check_empty(settings, database_url, manifest)
    settings.instance_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    written: list[Path] = []
    created_db: Path | None = None
    try:
        with tempfile.TemporaryDirectory(dir=settings.instance_path, prefix=".restore-") as tmp:
            staged_db = staged_secrets = None
            with _archive_stream(archive, identities) as stream, _reading_archive():
                for name, reader, _size in _members(stream):
                    if name in (MANIFEST, MANIFEST_MAC):
                        continue
                    expected = manifest.files[name]
                    match = _BLOB_MEMBER.match(name)
                    if match:
                        target = settings.blob_path / match.group(1) / f"{match.group(2)}.age"
                        written.append(target)
                        _private_write(target, reader, expected)
                    else:
                        target = Path(tmp) / name
                        _private_write(target, reader, expected)
                        if name == SECRETS_MEMBER:
                            staged_secrets = target
                        else:
                            staged_db = target
            if staged_db is None or staged_secrets is None:
                raise CorruptArchiveError("the archive changed since it was verified")
            if manifest.kind == "sqlite":
                target_db = _sqlite_path(database_url)
                if not target_db.exists():
                    created_db = target_db
                _restore_sqlite(staged_db, target_db)
            else:
                _restore_pg(staged_db, database_url, manifest)
            settings.secrets_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Last: the secrets file is what marks an instance as initialised. It gets
            # the backup key back, so that this installation's next backups are signed
            # with the key whose offline copy already exists.
            _write_secrets(settings.secrets_file, staged_secrets, backup_key)
    except BaseException:
        # Undo what can be undone. A PostgreSQL restore is one transaction and rolled
        # back by itself; only a failure after it (writing the secrets) leaves tables.
        for path in written:
            with suppress(FileNotFoundError):
                path.unlink()
        if created_db is not None:
            for suffix in ("", "-wal", "-shm"):
                with suppress(FileNotFoundError):
                    Path(f"{created_db}{suffix}").unlink()
        raise
    database = Database(database_url)
    try:
        current = schema.current_revision(database.engine)
        if current != manifest.revision:
            raise RestoreError(
                f"restored database is at revision {current}, the manifest says {manifest.revision}"
            )
        upgraded = None
        if current != schema.head_revision():
            schema.upgrade(database.engine)
            upgraded = schema.current_revision(database.engine)
    finally:
        database.dispose()
    blobs = sum(1 for name in manifest.files if _BLOB_MEMBER.match(name))
    return RestoreResult(manifest.kind, manifest.revision, upgraded, blobs)
