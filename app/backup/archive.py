"""The archive's format, shared by the writer and the reader.

A tar.gz (optionally inside one age file) whose members are named here; the manifest
lists every other member with its size and SHA-256 and is signed (HMAC-SHA256) with the
installation's backup authentication key. Every tar header carries the backup's local
day as its mtime (DESIGN.md promise 7).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import tarfile
from dataclasses import dataclass, field
from typing import Any

from app import clock
from app.backup.errors import UnauthenticatedArchiveError

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
BLOB_MEMBER = re.compile(r"^blobs/([0-9a-f]{2})/([0-9a-f]{32})\.age$")
# Every member name an archive may hold besides the blob files.
FIXED_MEMBERS = frozenset({MANIFEST, MANIFEST_MAC, SQLITE_MEMBER, PG_MEMBER, SECRETS_MEMBER})
COPY_BUFFER = 1024 * 1024


def manifest_mac(key: bytes, manifest: bytes) -> str:
    return hmac.new(key, _MAC_CONTEXT + manifest, hashlib.sha256).hexdigest()


def signature(key: bytes, manifest: bytes) -> bytes:
    """The content of the ``MANIFEST.hmac`` member for ``manifest``."""
    return f"{MAC_PREFIX}{manifest_mac(key, manifest)}\n".encode()


def check_signature(manifest: bytes, mac: bytes | None, backup_key: bytes) -> None:
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


@dataclass(frozen=True)
class Member:
    sha256: str
    size: int


@dataclass
class Manifest:
    raw: dict[str, Any]
    files: dict[str, Member] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return str(self.raw["database"]["kind"])

    @property
    def revision(self) -> str | None:
        value = self.raw["database"].get("revision")
        return str(value) if value else None


def tarinfo(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    # The day of the backup, for every member (see the package docstring).
    info.mtime = int(clock.day_stamp(clock.today()).timestamp())
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info
