"""After each intake request: the SQLite files keep no trace of its time.

On a single-machine install the database is a file (plus its ``-wal`` and ``-shm``)
in the instance folder. A reporter's request that wrote leaves (a) the file times of
its last write and (b) the new page images in the write-ahead log, in commit order,
after the reviewers' commits of that day, until the next checkpoint. So after every
intake request (once the session is saved: Flask's ``teardown_request`` runs after
it) the log is checkpointed with TRUNCATE, when it holds anything, and the files and
the instance folder get the day label (:mod:`app.file_days`).

Best effort, by design: the checkpoint waits for nobody (``busy_timeout`` 0), so while
another connection reads, the log keeps its frames until a later request or ``purge``
folds it; a file system that refuses ``utime`` is skipped. Measured cost: see
docs/threat-model.md ("Time at rest"). PostgreSQL's files are the database server's
business: see that section for what stays there.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from flask import Flask
from sqlalchemy import make_url

from app.database import SQLITE_BUSY_TIMEOUT_MS, Database
from app.file_days import stamp_day

_log = logging.getLogger("liemchinh.database_files")


def sqlite_files(database: Database) -> list[Path]:
    """The database file, its -wal and -shm; empty for PostgreSQL or in-memory SQLite."""
    if database.engine.dialect.name != "sqlite":
        return []
    name = make_url(database.url).database
    if not name or name == ":memory:":
        return []
    path = Path(name)
    return [path, Path(f"{path}-wal"), Path(f"{path}-shm")]


def _checkpoint(database: Database) -> None:
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA busy_timeout=0")
        try:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()
    finally:
        raw.close()


def settle(database: Database) -> None:
    """Checkpoint a non-empty WAL, then date the SQLite files and their folder to the
    day. Never raises: a failure here must not turn a stored report into an error."""
    files = sqlite_files(database)
    if not files:
        return
    main, wal, _shm = files
    try:
        if wal.exists() and wal.stat().st_size > 0:
            _checkpoint(database)
    except (OSError, sqlite3.Error) as exc:
        _log.warning("WAL checkpoint skipped: %s", type(exc).__name__)
    stamp_day(*files, main.parent)


def init_database_files(app: Flask, database: Database) -> None:
    if not sqlite_files(database):
        return

    @app.teardown_request
    def _settle(_exc: BaseException | None) -> None:
        settle(database)
