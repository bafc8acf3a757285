"""Engine and sessions, for the web apps, the CLI and the benchmarks alike.

Plain SQLAlchemy rather than Flask-SQLAlchemy: the domain layer (``app.cases``) takes an
explicit :class:`~sqlalchemy.orm.Session`, so the same functions run from a request, a
CLI command or a benchmark without an application context.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 15000
READ_ONLY_OPTION = "liemchinh_read_only"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run while one writer commits; foreign_keys makes ON DELETE real;
    # secure_delete overwrites freed pages so a purged case does not linger in the file;
    # busy_timeout turns a concurrent writer into a short wait instead of an error.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A transaction that may write takes the write lock at BEGIN (IMMEDIATE): a deferred
    # one that reads first and writes later fails at once with "database is locked" when
    # another writer committed in between, instead of waiting for busy_timeout. Readers
    # (GET requests) begin deferred so they never queue behind a writer under WAL.
    if conn.get_execution_options().get(READ_ONLY_OPTION):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        database_file = make_url(url).database
        if database_file and database_file != ":memory:":
            # The instance folder holds secrets too: only its owner may enter it.
            Path(database_file).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)

        # pysqlite's own transaction handling is switched off so that BEGIN IMMEDIATE
        # (above) is the only one issued.
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # pre_ping: a restarted PostgreSQL costs one failed request, not a pool of dead ones.
    return create_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessionmaker = sessionmaker(
            self.engine.execution_options(**{READ_ONLY_OPTION: True}), expire_on_commit=False
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error: for tests, the
        benchmarks and scripts. The app's own code commits through
        ``app.cases.unit_of_work`` (which also makes staged blob files final); a plain
        commit here of a session holding staged files is refused."""
        with self.sessionmaker() as session, session.begin():
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reading; on SQLite it never takes the write lock at BEGIN."""
        with self.read_sessionmaker() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
