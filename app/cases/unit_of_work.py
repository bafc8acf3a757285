"""The one place a transaction is committed: rows and their blob files together.

The rule (``app/cases/__init__.py``): domain functions add, change and flush; they never
commit. Whoever owns the unit of work - a view for its request, a CLI command, a test -
commits it once with :func:`commit`. Files are the part a database transaction cannot
undo, so the domain hands them to the session instead of touching them itself:

- new blob files (:func:`stage_blobs`) are moved to their final names just before the
  COMMIT, and removed if the session rolls back: a committed row never points at a
  missing file, and a failed transaction leaves no file behind;
- work that may only happen once the rows are committed (deleting a purged case's
  files, renaming a finished export into place) is handed over with
  :func:`after_commit`, and its undo with :func:`after_rollback`.

Two guards keep the rule honest. A plain ``session.commit()`` while blob files are
staged raises (they would stay temporary files under rows that name them), and every
rollback of a session discards what it staged, whoever rolls back (a view's error path,
the request's teardown, a ``with database.session()`` block that raised).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.cases.blobs import discard_all
from app.storage import PendingBlob

_STAGED = "liemchinh.staged_blobs"
_AFTER_COMMIT = "liemchinh.after_commit"
_AFTER_ROLLBACK = "liemchinh.after_rollback"


class UnstagedCommitError(RuntimeError):
    """``session.commit()`` was called directly while blob files were staged."""


def _staged(session: Session) -> list[PendingBlob]:
    staged: list[PendingBlob] = session.info.setdefault(_STAGED, [])
    return staged


def stage_blobs(session: Session, blobs: Iterable[PendingBlob]) -> None:
    """Make ``blobs`` final when ``session`` commits, and remove them if it rolls back."""
    _staged(session).extend(blobs)


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run ``action`` once ``session`` has committed (never if it rolls back). It runs
    outside any transaction and must not use the session; an error it raises reaches
    whoever committed, with the rows already stored."""
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


def after_rollback(session: Session, action: Callable[[], None]) -> None:
    """Run ``action`` if ``session`` rolls back (never once it has committed)."""
    session.info.setdefault(_AFTER_ROLLBACK, []).append(action)


def commit(session: Session) -> None:
    """Flush, make the staged blob files final, then COMMIT.

    A failure before the COMMIT rolls back and removes the files. If the COMMIT itself
    fails (e.g. the connection drops), its outcome is unknown: the rows may have been
    stored. The files are then kept; if the rows were not stored they are orphans, which
    ``purge`` removes after a grace period. Deleting them here could leave a stored case
    without its report.
    """
    staged = session.info.pop(_STAGED, [])
    try:
        session.flush()
        for blob in staged:
            blob.finalize()
    except BaseException:
        session.rollback()
        discard_all(staged)
        raise
    try:
        session.commit()
    finally:
        for blob in staged:
            blob.kept = True


def rollback(session: Session) -> None:
    """Undo the unit of work: its rows and its files (also when no SQL ran yet, which
    leaves SQLAlchemy nothing to roll back and the listener below silent)."""
    session.rollback()
    _undo_files(session)


@contextmanager
def transaction(sessionmaker: Callable[[], Session]) -> Iterator[Session]:
    """A session of its own, committed with :func:`commit` when the block ends and
    rolled back if it raises (for the CLI, and a view's side transaction)."""
    with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            rollback(session)
            raise
        commit(session)


@event.listens_for(Session, "before_commit")
def _refuse_commit_with_staged_files(session: Session) -> None:
    if session.info.get(_STAGED):
        raise UnstagedCommitError(
            "blob files are staged: commit through app.cases.unit_of_work.commit"
        )


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    session.info.pop(_AFTER_ROLLBACK, None)
    for action in session.info.pop(_AFTER_COMMIT, []):
        action()


@event.listens_for(Session, "after_soft_rollback")
def _discard_staged_files(session: Session, previous: SessionTransaction) -> None:
    # A savepoint's rollback leaves the outer transaction, and its files, in place.
    if previous.nested:
        return
    _undo_files(session)


def _undo_files(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)
    discard_all(session.info.pop(_STAGED, []))
    for action in session.info.pop(_AFTER_ROLLBACK, []):
        action()
