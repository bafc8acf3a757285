"""The operations commands: purge, legal-hold, export, backup, restore."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click
import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text

from app.cases import workflow
from app.cases.access import load_actor
from app.database import Database
from app.factory import create_review_app
from app.models import Blob, Case
from app.storage import BlobStore
from config import Settings, load_settings
from crypto import Identity
from tests.factories import SubmittedCase, make_reviewer, submit_case

pytestmark = pytest.mark.both_backends


@pytest.fixture
def ops(review_app: Flask) -> Any:
    return review_app.test_cli_runner()


def closed_case(database: Database, settings: Settings, *, due: bool = True) -> str:
    member = make_reviewer(database, "intake")
    case = submit_case(database, settings)
    with database.session() as db:
        row = db.get(Case, case.case_id)
        assert row is not None
        workflow.close(
            db,
            load_actor(db, member.id, member.identity),
            row,
            "duplicate",
            settings.retention_days,
        )
        if due:  # as if the retention period had passed
            row.purge_after = date.today() - timedelta(days=1)
        return row.reference


def count_cases(database: Database) -> int:
    with database.read_session() as db:
        return int(db.scalar(select(func.count()).select_from(Case)) or 0)


def test_purge_dry_run_then_purge(ops: Any, database: Database, settings: Settings) -> None:
    reference = closed_case(database, settings)
    closed_case(database, settings, due=False)
    submit_case(database, settings)
    files_before = set(BlobStore(settings.blob_path).stored_keys())

    dry = ops.invoke(args=["purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert reference in dry.output and "purge after" in dry.output
    assert "1 case(s) would be purged; nothing changed" in dry.output
    assert count_cases(database) == 3
    assert set(BlobStore(settings.blob_path).stored_keys()) == files_before

    done = ops.invoke(args=["purge"])
    assert done.exit_code == 0, done.output
    assert "purged 1 case(s)" in done.output and "swept:" in done.output
    assert count_cases(database) == 2
    with database.read_session() as db:
        remaining = set(db.scalars(select(Blob.storage_key)))
    assert set(BlobStore(settings.blob_path).stored_keys()) == remaining
    verify = ops.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0 and "audit log OK" in verify.output

    again = ops.invoke(args=["purge"])
    assert "purged 0 case(s)" in again.output


def test_legal_hold(ops: Any, database: Database, settings: Settings) -> None:
    reference = closed_case(database, settings)
    held = ops.invoke(args=["legal-hold", reference, "--on"])
    assert held.exit_code == 0 and f"{reference}: legal hold on" in held.output
    assert "purged 0 case(s)" in ops.invoke(args=["purge"]).output
    released = ops.invoke(args=["legal-hold", reference, "--off"])
    assert "will be purged" in released.output
    assert "purged 1 case(s)" in ops.invoke(args=["purge"]).output
    unknown = ops.invoke(args=["legal-hold", "CT-1999-00001", "--on"])
    assert unknown.exit_code == 1 and "error: no case" in unknown.output


def test_export(ops: Any, database: Database, settings: Settings, tmp_path: Path) -> None:
    first = closed_case(database, settings, due=False)
    submit_case(database, settings)
    out = tmp_path / "export"
    one = ops.invoke(args=["export", first, "-o", str(out)])
    assert one.exit_code == 0, one.output
    assert (out / first / "case-key.age").exists()
    again = ops.invoke(args=["export", first, "-o", str(out)])
    assert again.exit_code == 1 and "error:" in again.output and "exists" in again.output
    everything = ops.invoke(args=["export", "--all", "-o", str(tmp_path / "all")])
    assert everything.exit_code == 0 and "exported 2 case(s)" in everything.output
    assert len(list((tmp_path / "all").iterdir())) == 2
    neither = ops.invoke(args=["export", "-o", str(out)])
    assert neither.exit_code == 1 and "error:" in neither.output
    unknown = ops.invoke(args=["export", "CT-1999-00001", "-o", str(out)])
    assert unknown.exit_code == 1 and "error: no case" in unknown.output


def _fresh_app(backend: str, env: dict[str, str], database: Database, tmp_path: Path) -> Any:
    url = env["LIEMCHINH_DATABASE_URL"]
    if backend == "postgresql":
        # pg_restore restores into a schema of the same name: wipe the source's.
        database.dispose()
        match = re.search(r"search_path%3D(\w+)", url)
        assert match
        engine = create_engine(url.split("?")[0], isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {match.group(1)} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {match.group(1)}"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path / 'restored' / 'liemchinh.sqlite3'}"
    settings = load_settings(
        {
            **env,
            "LIEMCHINH_INSTANCE_PATH": str(tmp_path / "restored"),
            "LIEMCHINH_DATABASE_URL": url,
        }
    )
    # The flask command loads the app inside a click context, which lets it start
    # without a secrets file (what init, and restore, create); reproduce that here.
    with click.Context(click.Command("flask")):
        app = create_review_app(settings, Database(settings.database_url))
    return app.test_cli_runner(), settings


def test_backup_and_restore(
    ops: Any,
    backend: str,
    env: dict[str, str],
    database: Database,
    settings: Settings,
    tmp_path: Path,
) -> None:
    case: SubmittedCase = submit_case(database, settings)
    offline = Identity.generate()
    plain = tmp_path / "plain.tar.gz"
    sealed = tmp_path / "sealed.tar.gz.age"
    made = ops.invoke(args=["backup", "-o", str(plain)])
    assert made.exit_code == 0, made.output
    assert "NOT encrypted" in made.output and "secrets" in made.output
    made = ops.invoke(args=["backup", "-o", str(sealed), "--recipient", str(offline.recipient)])
    assert made.exit_code == 0 and "age-encrypted" in made.output
    bad = ops.invoke(args=["backup", "-o", str(tmp_path / "x"), "--recipient", "age1nope"])
    assert bad.exit_code == 1 and "error: invalid --recipient" in bad.output
    again = ops.invoke(args=["backup", "-o", str(plain)])
    assert again.exit_code == 1 and "exists already" in again.output

    # The copy of the secrets file kept offline beside the recovery key.
    offline_secrets = tmp_path / "offline-secrets.json"
    shutil.copyfile(settings.secrets_file, offline_secrets)
    keep = ["--secrets", str(offline_secrets)]
    refused = ops.invoke(args=["restore", str(plain), *keep])
    assert refused.exit_code == 1 and "error:" in refused.output and "empty" in refused.output

    runner, fresh = _fresh_app(backend, env, database, tmp_path)
    no_secrets = runner.invoke(args=["restore", str(plain)])
    assert no_secrets.exit_code == 2 and "--secrets" in no_secrets.output
    no_key = runner.invoke(args=["restore", str(sealed), *keep])
    assert no_key.exit_code == 1 and "--identity" in no_key.output
    identity_file = tmp_path / "offline.txt"
    identity_file.write_text(f"# offline backup key\n{offline}\n")
    restored = runner.invoke(args=["restore", str(sealed), "--identity", str(identity_file), *keep])
    assert restored.exit_code == 0, restored.output
    assert "restored:" in restored.output
    assert fresh.secrets_file.exists()
    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output
    restored_db = Database(fresh.database_url)
    try:
        with restored_db.read_session() as db:
            assert db.get(Case, case.case_id) is not None
    finally:
        restored_db.dispose()
