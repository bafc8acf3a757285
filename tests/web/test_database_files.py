"""After an intake request, the SQLite files keep no time of it: the write-ahead log is
folded into the database and truncated, and the files are dated to the day."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import text

from app import clock
from app.database import Database
from app.web.database_files import settle, sqlite_files
from config import Settings
from tests.conftest import CsrfClient


def label() -> float:
    return clock.day_stamp(clock.reporter_day()).timestamp()


def test_a_reporters_request_leaves_an_empty_log_and_day_labels(
    intake_client: CsrfClient, database: Database, settings: Settings
) -> None:
    main, wal, shm = sqlite_files(database)
    # A staff write goes through the log (the control): creating the app may already
    # have settled the files, since it renders its error pages in advance.
    with database.session() as db:
        db.execute(text("UPDATE units SET name_en = name_en || ' '"))
    assert wal.stat().st_size > 0
    for path in (main, wal, shm, Path(main).parent):
        os.utime(path, None)  # now, as any write leaves them
        assert path.stat().st_mtime != label()

    # Opening the report form writes the reporter's session (its CSRF secret).
    assert intake_client.get("/report").status_code == 200
    assert wal.stat().st_size == 0
    for path in (main, wal, shm, Path(main).parent):
        assert path.stat().st_mtime == label(), path


def test_settling_is_cheap(database: Database) -> None:
    # Measured here so that a regression shows: one small write, then settle, 50 times.
    from app.models import HeldAuditEvent

    elapsed = 0.0
    for n in range(50):
        with database.session() as db:
            db.add(
                HeldAuditEvent(
                    id=f"{n:032x}",
                    day=clock.reporter_day(),
                    actor="reporter",
                    action="x",
                    details="{}",
                )
            )
        start = time.perf_counter()
        settle(database)
        elapsed += time.perf_counter() - start
    assert elapsed / 50 < 0.25, f"{elapsed / 50 * 1000:.1f} ms per settle"
