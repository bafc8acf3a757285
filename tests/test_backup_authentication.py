"""A restore refuses an archive this installation did not make.

Each archive's manifest (which names every member's SHA-256) is signed with the backup
key of the secrets file, a key no archive holds; restore takes it from the copy kept
offline. Forged archives of the right format are refused before anything is written,
and neither pg_restore nor the SQLite copy runs on them. Each refusal has its positive
control: the same forged archive restores when given the key it was signed with.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import sqlite3
import tarfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.backup import (
    MANIFEST,
    MANIFEST_MAC,
    UnauthenticatedArchiveError,
    backup,
    databases,
    manifest_mac,
    restore,
)
from app.database import Database
from app.models import RecoveryKey
from config import Settings, load_secrets
from config.secrets import secrets_text
from crypto import Identity
from tests.factories import ReviewerKeys, SubmittedCase
from tests.test_backup import (  # noqa: F401 - fixtures
    Target,
    assert_empty,
    assert_restored,
    key,
    populated,
    target,
)

pytestmark = pytest.mark.both_backends


@pytest.fixture
def restorers_watched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which database restorers ran (they still run: the list is only a witness)."""
    ran: list[str] = []
    for name in ("restore_pg", "restore_sqlite"):
        original = getattr(databases, name)

        def watch(*args: Any, _name: str = name, _original: Any = original) -> Any:
            ran.append(_name)
            return _original(*args)

        monkeypatch.setattr(databases, name, watch)
    return ran


def _sign_with(settings: Settings, other_key: bytes) -> bytes:
    """Swap the installation's backup key for ``other_key`` (what another installation,
    or an attacker with a copy of the database, signs with); returns the one before."""
    current = load_secrets(settings.secrets_file)
    assert current.backup_auth_key is not None
    swapped = secrets_text(replace(current, backup_auth_key=other_key))
    settings.secrets_file.write_text(swapped, encoding="utf-8")
    return current.backup_auth_key


def test_an_archive_signed_with_another_key_is_refused(
    database: Database,
    settings: Settings,
    populated: tuple[ReviewerKeys, list[SubmittedCase]],  # noqa: F811
    target: Target,  # noqa: F811
    tmp_path: Path,
    restorers_watched: list[str],
) -> None:
    """The attacker has a copy of the database and the public backup recipient: they
    make a well-formed archive, encrypted to that recipient, signed with their key."""
    reviewer, cases = populated
    backup_identity = Identity.generate()  # the recipient archives are encrypted to
    genuine = tmp_path / "genuine.tar.gz.age"
    backup(settings, database, genuine, recipients=[backup_identity.recipient])
    attacker_key = b"\x42" * 32
    ours = _sign_with(settings, attacker_key)
    forged = tmp_path / "forged.tar.gz.age"
    backup(settings, database, forged, recipients=[backup_identity.recipient])
    _sign_with(settings, ours)

    fresh = target.fresh("restored")
    with pytest.raises(UnauthenticatedArchiveError, match="not made by this installation"):
        restore(fresh, fresh.database_url, forged, backup_key=ours, identities=[backup_identity])
    assert_empty(fresh)
    assert restorers_watched == []

    # Positive control: the forgery is a good archive; with its own key it restores.
    restore(
        fresh, fresh.database_url, forged, backup_key=attacker_key, identities=[backup_identity]
    )
    assert len(restorers_watched) == 1

    again = target.fresh("genuine")
    restore(again, again.database_url, genuine, backup_key=ours, identities=[backup_identity])
    assert_restored(again, reviewer, cases)
    # The restored secrets file is the original, backup key included.
    assert again.secrets_file.read_bytes() == settings.secrets_file.read_bytes()


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def _write(out: Path, members: dict[str, bytes]) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    out.write_bytes(buffer.getvalue())


def _rehashed(members: dict[str, bytes], name: str, data: bytes) -> dict[str, bytes]:
    """``members`` with ``name`` replaced and the manifest's digest of it updated (the
    signature left as it was: the forger does not have the key)."""
    manifest = json.loads(members[MANIFEST])
    for item in manifest["files"]:
        if item["name"] == name:
            item["sha256"] = hashlib.sha256(data).hexdigest()
            item["size"] = len(data)
    body = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
    return {**members, name: data, MANIFEST: body}


def test_a_rewritten_and_rehashed_archive_is_refused(
    backend: str,
    database: Database,
    settings: Settings,
    populated: tuple[ReviewerKeys, list[SubmittedCase]],  # noqa: F811
    target: Target,  # noqa: F811
    tmp_path: Path,
    restorers_watched: list[str],
) -> None:
    """Someone with write access to the backups takes a real archive and plants their
    own recovery key in its database: every future case would be wrapped to them."""
    if backend != "sqlite":
        pytest.skip("editing a pg_dump archive in place: the SQLite file shows the same")
    archive = tmp_path / "real.tar.gz"
    backup(settings, database, archive)
    members = _members(archive)
    planted = Identity.generate()
    db_file = tmp_path / "edit.sqlite3"
    db_file.write_bytes(members["database.sqlite3"])
    conn = sqlite3.connect(db_file)
    conn.execute("PRAGMA journal_mode=DELETE")  # the edit lands in the file itself
    conn.execute("UPDATE recovery_keys SET active = 0")
    conn.execute(
        "INSERT INTO recovery_keys (recipient, active, created_at) "
        "VALUES (?, 1, '2026-03-02 00:00:00')",
        (str(planted.recipient),),
    )
    conn.commit()
    conn.close()
    assert db_file.read_bytes() != members["database.sqlite3"]
    forged_members = _rehashed(members, "database.sqlite3", db_file.read_bytes())
    forged = tmp_path / "forged.tar.gz"
    _write(forged, forged_members)

    fresh = target.fresh("restored")
    with pytest.raises(UnauthenticatedArchiveError):
        restore(fresh, fresh.database_url, forged, backup_key=key(settings))
    assert_empty(fresh)
    assert restorers_watched == []

    # Unsigned (the signature dropped): refused as well.
    unsigned = tmp_path / "unsigned.tar.gz"
    _write(unsigned, {k: v for k, v in forged_members.items() if k != MANIFEST_MAC})
    with pytest.raises(UnauthenticatedArchiveError, match="not signed"):
        restore(fresh, fresh.database_url, unsigned, backup_key=key(settings))
    assert_empty(fresh)

    # Positive control: signed by whoever holds the key, it restores - planted key and all.
    mac = f"hmac-sha256:{manifest_mac(key(settings), forged_members[MANIFEST])}\n".encode()
    resigned = tmp_path / "resigned.tar.gz"
    _write(resigned, {**forged_members, MANIFEST_MAC: mac})
    restore(fresh, fresh.database_url, resigned, backup_key=key(settings))
    restored = Database(fresh.database_url)
    try:
        with restored.read_session() as db:
            active = db.scalars(select(RecoveryKey.recipient).where(RecoveryKey.active)).all()
        assert active == [str(planted.recipient)]
    finally:
        restored.dispose()


def test_no_archive_holds_the_backup_key(
    database: Database,
    settings: Settings,
    populated: tuple[ReviewerKeys, list[SubmittedCase]],  # noqa: F811
    tmp_path: Path,
) -> None:
    archive = tmp_path / "b.tar.gz"
    backup(settings, database, archive)
    raw = gzip.decompress(archive.read_bytes())
    secret = key(settings)
    assert secret.hex().encode() not in raw and secret not in raw
    archived = json.loads(_members(archive)["secrets.json"])
    assert "backup_auth_key" not in archived
    # Positive control: the rest of the secrets is there.
    assert archived["receipt_salt"] == load_secrets(settings.secrets_file).receipt_salt.hex()


def test_the_restore_command_refuses_a_forgery(
    database: Database,
    settings: Settings,
    populated: tuple[ReviewerKeys, list[SubmittedCase]],  # noqa: F811
    tmp_path: Path,
) -> None:
    from tests.cli.test_ops_cli import _fresh_app

    offline_copy = tmp_path / "secrets-offline.json"
    shutil.copyfile(settings.secrets_file, offline_copy)
    _sign_with(settings, b"\x07" * 32)
    forged = tmp_path / "forged.tar.gz"
    backup(settings, database, forged)
    env = {
        "LIEMCHINH_DATABASE_URL": database.url,
        "LIEMCHINH_INSTANCE_PATH": str(settings.instance_path),
    }
    runner, fresh = _fresh_app(
        "postgresql" if database.url.startswith("postgresql") else "sqlite",
        env,
        database,
        tmp_path,
    )
    refused = runner.invoke(args=["restore", str(forged), "--secrets", str(offline_copy)])
    assert refused.exit_code == 1
    assert "not made by this installation" in refused.output
    assert_empty(fresh)


def test_an_old_unsigned_archive_is_refused_with_a_reason(
    database: Database,
    settings: Settings,
    populated: tuple[ReviewerKeys, list[SubmittedCase]],  # noqa: F811
    target: Target,  # noqa: F811
    tmp_path: Path,
) -> None:
    archive = tmp_path / "new.tar.gz"
    backup(settings, database, archive)
    members = _members(archive)
    manifest = json.loads(members[MANIFEST])
    manifest["format"] = 1
    old = {k: v for k, v in members.items() if k != MANIFEST_MAC}
    old[MANIFEST] = json.dumps(manifest).encode()
    older = tmp_path / "old.tar.gz"
    _write(older, old)
    fresh = target.fresh("restored")
    with pytest.raises(UnauthenticatedArchiveError, match="older release"):
        restore(fresh, fresh.database_url, older, backup_key=key(settings))
    assert_empty(fresh)
