"""Each kind of database, copied out of and back into an installation.

SQLite: the online backup API, one read transaction, so a consistent snapshot while
the apps keep writing. PostgreSQL: ``pg_dump --format=custom`` of the installation's
schema (one snapshot) and ``pg_restore --single-transaction`` (all or nothing), run as
the PostgreSQL client tools of the server's major version.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, text

from app import schema
from app.backup.archive import PG_MEMBER, Manifest
from app.backup.errors import BackupError, RestoreError
from app.database import Database

_PG_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_path(url: str) -> Path:
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


def sqlite_snapshot(source: Path, target: Path) -> str | None:
    """Copy the database file to ``target``; returns its schema revision."""
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


def pg_snapshot(database: Database, target: Path) -> tuple[dict[str, Any], list[str]]:
    """Dump the installation's schema to ``target``; returns the manifest's database
    entry and warnings for the operator."""
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


def restore_sqlite(staged: Path, target: Path) -> None:
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


def restore_pg(staged: Path, database_url: str, manifest: Manifest) -> None:
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
