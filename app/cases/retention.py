"""Retention: closed cases are purged once their ``purge_after`` day has come, unless an
administrator put them on legal hold; short-lived intake and web state is swept.

A purge is one transaction: a tombstone audit event ("case.purged": reference,
category, closed day - never content) is written first, then the case row is deleted
and the foreign keys' ``ON DELETE CASCADE`` removes its key wraps, blob rows, messages,
notes, exclusions, pending grants and recusals (notification outbox rows, which have
no foreign key, are deleted explicitly). Only once that transaction committed
are the blob files overwritten and unlinked (:meth:`app.storage.BlobStore.delete`):
deleting files first would leave rows pointing at nothing if the commit failed. If a
file cannot be deleted after the commit, nothing refers to it any more; it is an
orphan, and the next :func:`sweep` removes it.

The audit chain stays verifiable: a purge appends an event and removes no event.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import CursorResult, Engine, delete, select
from sqlalchemy.orm import Session

from app import audit, clock
from app.actors import CLI_ACTOR
from app.cases import references, unit_of_work
from app.cases.access import Actor, require_admin
from app.cases.pow import delete_spent_challenges
from app.models import (
    Blob,
    Case,
    CaseLink,
    WebSession,
    utcnow,
)
from app.models.vocabulary import CaseStatus
from app.notifications import outbox
from app.storage import BlobStore, StorageError

log = logging.getLogger(__name__)

# Blob files carry a day label as their mtime (app.storage), not the time they were
# written: a label can be up to 36 hours older than the instant it was set (in a zone
# west of UTC). A file's age is therefore only known to the day, and both graces below
# add two days to what they mean.
LABEL_SLACK = timedelta(days=2)
# A blob file is moved to its final name just before the transaction that refers to it
# commits. A file younger than this may belong to such a transaction still in flight,
# so the orphan sweep leaves it alone; an hour is far longer than any commit takes.
ORPHAN_GRACE = timedelta(hours=1) + LABEL_SLACK
# A ``tmp/*.partial`` file is an upload being received. Uploads are bounded in size and
# time (the web server's timeouts), so one untouched for six hours was abandoned.
PARTIAL_GRACE = timedelta(hours=6) + LABEL_SLACK
_KEY_BATCH = 500


class RetentionError(RuntimeError):
    """A retention operation was refused."""


class UnknownCaseError(RetentionError, references.UnknownCaseError):
    """No case with this id (the case went while the command ran)."""


class NotPurgeableError(RetentionError):
    """The case is open, on legal hold, or not yet due for purging."""


@dataclass(frozen=True)
class PurgeCandidate:
    case_id: str
    reference: str
    category: str
    closed_day: date | None
    purge_after: date


@dataclass
class PurgeResult:
    """A purge; the file counts are filled in once the caller committed."""

    case_id: str
    reference: str
    files_deleted: int = 0
    # Files that could not be deleted after the commit: orphans for the next sweep.
    files_left: int = 0


@dataclass(frozen=True)
class SweepCounts:
    challenges: int  # spent proof-of-work challenges older than yesterday
    sessions: int
    orphan_files: int
    stale_partials: int


def purge_plan(session: Session, today: date) -> list[PurgeCandidate]:
    """Closed cases due for purging on ``today`` and not on legal hold, oldest first."""
    rows = session.scalars(
        select(Case)
        .where(
            Case.status == CaseStatus.CLOSED.value,
            Case.purge_after.is_not(None),
            Case.purge_after <= today,
            Case.legal_hold.is_(False),
        )
        .order_by(Case.purge_after, Case.reference)
    ).all()
    return [_candidate(case) for case in rows]


def _candidate(case: Case) -> PurgeCandidate:
    assert case.purge_after is not None
    return PurgeCandidate(
        case_id=case.id,
        reference=case.reference,
        category=case.category,
        closed_day=case.closed_at.date() if case.closed_at else None,
        purge_after=case.purge_after,
    )


def _check_purgeable(case: Case, today: date) -> None:
    # Checked again inside the purge's transaction: a hold set or a reopening done
    # between the plan and the purge must win.
    if case.status != CaseStatus.CLOSED.value:
        raise NotPurgeableError(f"{case.reference} is not closed")
    if case.legal_hold:
        raise NotPurgeableError(f"{case.reference} is on legal hold")
    if case.purge_after is None or case.purge_after > today:
        raise NotPurgeableError(
            f"{case.reference} is not due for purging before {case.purge_after}"
        )


def purge_case(
    session: Session,
    store: BlobStore,
    case_id: str,
    *,
    actor: str,
    today: date | None = None,
) -> PurgeResult:
    """Purge one case: tombstone and rows now; the files once the caller committed
    (:func:`app.cases.unit_of_work.after_commit`; the module docstring says why).

    Raises :class:`UnknownCaseError` or :class:`NotPurgeableError` (and changes nothing)
    when the case is missing, open, on hold or not yet due on ``today``.
    """
    day = today or clock.today()
    try:
        case = session.get(Case, case_id, with_for_update=True)
        if case is None:
            raise UnknownCaseError(f"no case {case_id}")
        _check_purgeable(case, day)
        candidate = _candidate(case)
        storage_keys = list(
            session.scalars(select(Blob.storage_key).where(Blob.case_id == case_id))
        )
        # The reason of a link to this case is a blob of the pair's first case (and
        # speaks of both): it goes with the link (app.cases.links).
        link_reasons = session.execute(
            select(Blob.id, Blob.storage_key)
            .join(CaseLink, CaseLink.note_blob_id == Blob.id)
            .where(CaseLink.other_case_id == case_id)
        ).all()
        storage_keys += [key for _id, key in link_reasons]
        audit.record(
            session,
            actor=actor,
            action="case.purged",
            case_id=case_id,
            details={
                "reference": candidate.reference,
                "category": candidate.category,
                "closed": candidate.closed_day.isoformat() if candidate.closed_day else None,
                "blobs": len(storage_keys),
            },
        )
        # The outbox keeps case ids without a foreign key (app.models.notifications);
        # nothing about a purged case should wait there for the outbox's own pruning.
        outbox.forget_case(session, case_id)
        if link_reasons:
            session.execute(
                delete(Blob)
                .where(Blob.id.in_([blob_id for blob_id, _key in link_reasons]))
                .execution_options(synchronize_session=False)
            )
        # Core DELETE, not session.delete(): the database's cascades remove the
        # children, so nothing depends on which relationships the ORM has loaded.
        session.execute(
            delete(Case).where(Case.id == case_id).execution_options(synchronize_session=False)
        )
        session.expunge(case)
        session.flush()
    except BaseException:
        session.rollback()
        raise
    result = PurgeResult(case_id, candidate.reference)
    unit_of_work.after_commit(session, lambda: _delete_files(store, storage_keys, result))
    return result


def _delete_files(store: BlobStore, storage_keys: Iterable[str], result: PurgeResult) -> None:
    for key in storage_keys:
        try:
            store.delete(key)
            result.files_deleted += 1
        except (OSError, StorageError) as exc:
            # The row is gone already: the file is an orphan the next sweep removes.
            log.warning("blob %s left for the orphan sweep: %s", key, exc)
            result.files_left += 1


def _apply_legal_hold(session: Session, actor_label: str, case: Case, on: bool) -> bool:
    changed = case.legal_hold != on
    case.legal_hold = on
    audit.record(
        session,
        actor=actor_label,
        action="case.legal_hold_set" if on else "case.legal_hold_released",
        case_id=case.id,
        details={"reference": case.reference, "changed": changed},
    )
    return changed


def set_legal_hold(session: Session, actor: Actor, case: Case, on: bool) -> bool:
    """Set or release a legal hold (administrators only); audited. The caller commits.

    Returns whether the flag changed. A held case is never purged, whatever its
    ``purge_after``; releasing the hold of an overdue case lets the next purge take it.
    """
    require_admin(actor)
    return _apply_legal_hold(session, actor.label, case, on)


def set_legal_hold_by_operator(
    session: Session, case: Case, on: bool, *, actor_label: str = CLI_ACTOR
) -> bool:
    """The same from the server's command line: whoever runs ``flask`` there already
    controls the installation (as for ``init`` or ``grants fulfil``), so no reviewer
    account is checked; the event names the command line as the actor."""
    return _apply_legal_hold(session, actor_label, case, on)


def _rowcount(result: object) -> int:
    return int(cast(CursorResult[tuple[()]], result).rowcount)


def sweep(session: Session, store: BlobStore, now: datetime | None = None) -> SweepCounts:
    """Remove orphaned blob files older than :data:`ORPHAN_GRACE`, upload leftovers
    under ``tmp/`` older than :data:`PARTIAL_GRACE`, then spent proof-of-work challenges
    older than yesterday and expired web sessions (the caller commits those deletions).
    Returns how many of each went."""
    when = now or utcnow()
    orphans = 0
    for key in _orphan_keys(session, store, when - ORPHAN_GRACE):
        try:
            store.delete(key)
            orphans += 1
        except (OSError, StorageError) as exc:
            log.warning("orphan blob %s could not be deleted: %s", key, exc)
    partials = 0
    for path in _stale_partials(store, when, PARTIAL_GRACE):
        try:
            path.unlink()
            partials += 1
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("stale upload %s could not be deleted: %s", path.name, exc)
    challenges = delete_spent_challenges(session, clock.local_day(when))
    sessions = _rowcount(
        session.execute(
            delete(WebSession)
            .where((WebSession.idle_expires_at <= when) | (WebSession.absolute_expires_at <= when))
            .execution_options(synchronize_session=False)
        )
    )
    return SweepCounts(challenges, sessions, orphans, partials)


def _old_store_keys(store: BlobStore, cutoff: datetime) -> Iterator[str]:
    for key in store.stored_keys():
        try:
            mtime = datetime.fromtimestamp((store.root / key).stat().st_mtime, UTC)
        except FileNotFoundError:
            continue
        if mtime < cutoff:
            yield key


def _orphan_keys(session: Session, store: BlobStore, cutoff: datetime) -> list[str]:
    """Store files older than ``cutoff`` that no ``blobs`` row names, checked in batches
    so that a large store never needs every key in one query."""
    orphans: list[str] = []
    batch: list[str] = []

    def check(keys: list[str]) -> None:
        known = set(session.scalars(select(Blob.storage_key).where(Blob.storage_key.in_(keys))))
        orphans.extend(key for key in keys if key not in known)

    for key in _old_store_keys(store, cutoff):
        batch.append(key)
        if len(batch) >= _KEY_BATCH:
            check(batch)
            batch = []
    if batch:
        check(batch)
    return orphans


def _stale_partials(store: BlobStore, now: datetime, grace: timedelta) -> list[Path]:
    # Measured here against ``now`` (a caller may give it: tests, a catch-up run), over
    # every partial file: east of UTC a day label lies up to a day *ahead* of the wall
    # clock, and a pre-filter on the wall clock would skip such a file until then.
    cutoff = now - grace
    found = []
    for path in store.partial_files():
        try:
            if datetime.fromtimestamp(path.stat().st_mtime, UTC) < cutoff:
                found.append(path)
        except FileNotFoundError:
            continue
    return found


def checkpoint_sqlite(engine: Engine) -> None:
    """On SQLite, fold the write-ahead log back into the database file and truncate it,
    so that earlier versions of purged rows do not linger in the WAL file.

    Run outside any transaction (a checkpoint cannot complete inside one), on a raw
    connection, which app.database puts in autocommit mode.
    """
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
