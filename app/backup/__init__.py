"""Backup and restore of a whole installation: database, blob store and secrets.

The package: :mod:`~app.backup.archive` is the archive's format (member names, the
manifest and its signature, tar headers), :mod:`~app.backup.databases` the snapshot and
restore of each kind of database, :mod:`~app.backup.making` writes an archive,
:mod:`~app.backup.reading` reads one back and checks it (pass one of a restore), and
:mod:`~app.backup.restoring` writes a checked archive into an empty instance.

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

from app.backup.archive import AGE_MAGIC, MANIFEST, MANIFEST_MAC, manifest_mac
from app.backup.errors import (
    BackupError,
    CorruptArchiveError,
    NotEmptyError,
    RestoreError,
    UnauthenticatedArchiveError,
)
from app.backup.making import BackupResult, backup
from app.backup.restoring import RestoreResult, restore

__all__ = [
    "AGE_MAGIC",
    "MANIFEST",
    "MANIFEST_MAC",
    "BackupError",
    "BackupResult",
    "CorruptArchiveError",
    "NotEmptyError",
    "RestoreError",
    "RestoreResult",
    "UnauthenticatedArchiveError",
    "backup",
    "manifest_mac",
    "restore",
]
