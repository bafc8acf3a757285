"""Backup, wipe, restore: every receipt still opens its case, every reviewer still decrypts."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import stat
import tarfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from app import audit, schema
from app.backup import (
    AGE_MAGIC,
    MANIFEST,
    CorruptArchiveError,
    NotEmptyError,
    RestoreError,
    backup,
    restore,
)
from app.cases.followup import load_reporter_case, open_case_with_receipt
from app.cases.keys import unwrap_identity_with_keys
from app.cases.submission import ReceiptSettings
from app.database import Database
from app.models import CaseKey
from app.storage import BlobStore
from config import Settings, load_secrets, load_settings
from crypto import Identity
from tests.factories import ReviewerKeys, SubmittedCase, make_reviewer, submit_case

pytestmark = pytest.mark.both_backends


def key(settings: Settings) -> bytes:
    """The backup key, as the copy of the secrets file kept offline holds it."""
    value = load_secrets(settings.secrets_file).backup_auth_key
    assert value is not None
    return value


@pytest.fixture
def populated(database: Database, settings: Settings) -> tuple[ReviewerKeys, list[SubmittedCase]]:
    reviewer = make_reviewer(database, "intake")
    cases = [
        submit_case(database, settings, details="Vụ thứ nhất"),
        submit_case(database, settings, category="waste", details="Vụ thứ hai"),
    ]
    return reviewer, cases


class Target:
    """Makes fresh, empty instances to restore into."""

    def __init__(
        self, backend: str, env: dict[str, str], database: Database, tmp_path: Path
    ) -> None:
        self.backend = backend
        self.env = env
        self.database = database
        self.tmp_path = tmp_path

    def fresh(self, name: str) -> Settings:
        """A new instance folder and an empty database. On PostgreSQL the source's
        schema is dropped and made again empty: pg_restore restores into a schema of
        the same name (and this is what a wiped server looks like)."""
        url = self.env["LIEMCHINH_DATABASE_URL"]
        if self.backend == "postgresql":
            self.database.dispose()
            match = re.search(r"search_path%3D(\w+)", url)
            assert match
            engine = create_engine(url.split("?")[0], isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text(f"DROP SCHEMA {match.group(1)} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {match.group(1)}"))
            engine.dispose()
        else:
            url = f"sqlite:///{self.tmp_path / name / 'liemchinh.sqlite3'}"
        return load_settings(
            {
                **self.env,
                "LIEMCHINH_INSTANCE_PATH": str(self.tmp_path / name),
                "LIEMCHINH_DATABASE_URL": url,
            }
        )


@pytest.fixture
def target(backend: str, env: dict[str, str], database: Database, tmp_path: Path) -> Target:
    return Target(backend, env, database, tmp_path)


def store_digests(settings: Settings) -> dict[str, str]:
    store = BlobStore(settings.blob_path)
    return {
        key: hashlib.sha256((store.root / key).read_bytes()).hexdigest()
        for key in store.stored_keys()
    }


def table_names(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return inspect(conn).get_table_names()
    finally:
        engine.dispose()


def assert_empty(settings: Settings) -> None:
    assert not settings.secrets_file.exists()
    assert list(BlobStore(settings.blob_path).stored_keys()) == []
    sqlite_file = settings.database_url.removeprefix("sqlite:///")
    if sqlite_file != settings.database_url and not Path(sqlite_file).exists():
        return
    assert table_names(settings.database_url) == []


def assert_restored(settings: Settings, reviewer: ReviewerKeys, cases: list[SubmittedCase]) -> None:
    receipts = ReceiptSettings.from_config(
        load_secrets(settings.secrets_file).receipt_salt, settings.receipt_kdf
    )
    restored = Database(settings.database_url)
    try:
        assert schema.is_at_head(restored.engine)
        store = BlobStore(settings.blob_path)
        with restored.read_session() as db:
            for case, details in zip(cases, ("Vụ thứ nhất", "Vụ thứ hai"), strict=True):
                access = open_case_with_receipt(db, receipts, case.receipt)
                assert access.case_id == case.case_id
                content = load_reporter_case(db, store, case.case_id, access.case_identity)
                assert content.report.answers["details"] == details
                for wrap in db.scalars(select(CaseKey).where(CaseKey.case_id == case.case_id)):
                    unwrap_identity_with_keys(wrap.wrap, [reviewer.identity])
            checked, broken = audit.verify_chain(db)
            assert broken is None and checked > 0
    finally:
        restored.dispose()


def test_backup_wipe_restore(
    database: Database,
    settings: Settings,
    populated: tuple[ReviewerKeys, list[SubmittedCase]],
    target: Target,
    tmp_path: Path,
) -> None:
    reviewer, cases = populated
    archive = tmp_path / "backups" / "liemchinh.tar.gz"
    result = backup(settings, database, archive)
    assert result.blobs == 2 and not result.encrypted
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = tar.extractfile(MANIFEST).read().decode()  # type: ignore[union-attr]
    assert "secrets.json" in names and MANIFEST in names
    sqlite = settings.database_url.startswith("sqlite")
    assert ("database.sqlite3" if sqlite else "database.pgdump") in names
    assert '"revision": "' + str(schema.head_revision()) + '"' in manifest
    before = store_digests(settings)

    fresh = target.fresh("restored")
    assert_empty(fresh)
    restored = restore(fresh, fresh.database_url, archive, backup_key=key(settings))
    assert restored.blobs == 2 and restored.upgraded_to is None
    assert store_digests(fresh) == before
    assert stat.S_IMODE(fresh.secrets_file.stat().st_mode) == 0o600
    assert fresh.secrets_file.read_bytes() == settings.secrets_file.read_bytes()
    assert_restored(fresh, reviewer, cases)

    # Backup refuses to overwrite.
    with pytest.raises(Exception, match="exists already"):
        backup(fresh, Database(fresh.database_url), archive)


def test_encrypted_backup_needs_the_identity(
    database: Database,
    settings: Settings,
    populated: tuple[ReviewerKeys, list[SubmittedCase]],
    target: Target,
    tmp_path: Path,
) -> None:
    reviewer, cases = populated
    offline = Identity.generate()
    archive = tmp_path / "liemchinh.tar.gz.age"
    assert backup(settings, database, archive, recipients=[offline.recipient]).encrypted
    assert archive.read_bytes().startswith(AGE_MAGIC)
    fresh = target.fresh("restored")
    with pytest.raises(RestoreError, match="--identity"):
        restore(fresh, fresh.database_url, archive, backup_key=key(settings))
    with pytest.raises(CorruptArchiveError, match="decrypt"):
        restore(
            fresh,
            fresh.database_url,
            archive,
            backup_key=key(settings),
            identities=[Identity.generate()],
        )
    tampered = tmp_path / "tampered.age"
    raw = bytearray(archive.read_bytes())
    raw[-100] ^= 0x01  # in the last payload chunk: found only after reading everything
    tampered.write_bytes(bytes(raw))
    with pytest.raises(CorruptArchiveError, match="damaged"):
        restore(fresh, fresh.database_url, tampered, backup_key=key(settings), identities=[offline])
    assert_empty(fresh)
    restore(fresh, fresh.database_url, archive, backup_key=key(settings), identities=[offline])
    assert_restored(fresh, reviewer, cases)


def test_restore_into_a_non_empty_instance_is_refused(
    database: Database,
    settings: Settings,
    populated: tuple[ReviewerKeys, list[SubmittedCase]],
    tmp_path: Path,
) -> None:
    archive = tmp_path / "b.tar.gz"
    backup(settings, database, archive)
    secrets_before = settings.secrets_file.read_bytes()
    blobs_before = store_digests(settings)
    with pytest.raises(NotEmptyError, match="empty instance"):
        restore(settings, settings.database_url, archive, backup_key=key(settings))
    # No secrets file, but the database has tables: refused as well.
    other = load_settings(
        {
            "LIEMCHINH_INSTANCE_PATH": str(tmp_path / "other"),
            "LIEMCHINH_DATABASE_URL": settings.database_url,
        }
    )
    with pytest.raises(NotEmptyError, match="table"):
        restore(other, other.database_url, archive, backup_key=key(settings))
    assert not other.secrets_file.exists()
    assert list(BlobStore(other.blob_path).stored_keys()) == []
    assert settings.secrets_file.read_bytes() == secrets_before
    assert store_digests(settings) == blobs_before


def _rewrite(archive: Path, out: Path, change: str) -> None:
    """Copy ``archive`` with one byte of member ``change`` flipped (manifest kept)."""
    buffer = io.BytesIO()
    with tarfile.open(archive) as src, tarfile.open(fileobj=buffer, mode="w:gz") as dst:
        for member in src.getmembers():
            data = bytearray(src.extractfile(member).read())  # type: ignore[union-attr]
            if member.name.startswith(change):
                data[len(data) // 2] ^= 0x01
            dst.addfile(member, io.BytesIO(bytes(data)))
    out.write_bytes(buffer.getvalue())


@pytest.mark.parametrize("member", ["blobs/", "secrets.json", "database."])
def test_a_corrupted_archive_is_refused_before_anything_is_written(
    database: Database,
    settings: Settings,
    populated: tuple[ReviewerKeys, list[SubmittedCase]],
    target: Target,
    tmp_path: Path,
    member: str,
) -> None:
    archive = tmp_path / "good.tar.gz"
    backup(settings, database, archive)
    bad = tmp_path / "bad.tar.gz"
    _rewrite(archive, bad, member)
    fresh = target.fresh("restored")
    with pytest.raises(CorruptArchiveError, match="SHA-256"):
        restore(fresh, fresh.database_url, bad, backup_key=key(settings))
    assert_empty(fresh)
    # A byte flipped in the compressed stream itself is caught too.
    raw = bytearray(archive.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(bytes(raw))
    with pytest.raises(CorruptArchiveError):
        restore(fresh, fresh.database_url, broken, backup_key=key(settings))
    assert_empty(fresh)
    assert gzip.decompress(archive.read_bytes())  # the original is intact


def test_an_older_backup_is_upgraded_to_head(
    backend: str,
    database: Database,
    settings: Settings,
    populated: tuple[ReviewerKeys, list[SubmittedCase]],
    target: Target,
    tmp_path: Path,
) -> None:
    if backend != "sqlite":
        pytest.skip("the upgrade path is the same code on both databases")
    reviewer, cases = populated
    # A downgrade past 0005 waits for the reporters' held events to be chained: as an
    # operator would, the day after.
    from app import clock
    from app.cases.day_release import release_finished_days

    with database.session() as db:
        release_finished_days(db, notify=False, today=clock.today() + timedelta(days=1))
    schema.downgrade(database.engine, "0002")
    archive = tmp_path / "old.tar.gz"
    assert backup(settings, database, archive).revision == "0002"
    fresh = target.fresh("restored")
    result = restore(fresh, fresh.database_url, archive, backup_key=key(settings))
    assert result.revision == "0002"
    assert result.upgraded_to == schema.head_revision()
    assert_restored(fresh, reviewer, cases)
