"""Retention: purging closed cases (rows, files, tombstone) and sweeping stale state."""

from __future__ import annotations

import json
import os
import secrets
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import audit, clock
from app.cases import retention, unit_of_work, workflow
from app.cases.access import AccessDenied, Actor, load_actor
from app.cases.payloads import AttachmentMeta
from app.cases.submission import (
    CaseChoices,
)
from app.database import Database
from app.models import (
    AuditEvent,
    Base,
    Blob,
    Case,
    Note,
    Notification,
    PendingGrant,
    Recusal,
    SpentPowChallenge,
    WebSession,
    utcnow,
)
from app.models.vocabulary import Role
from app.storage import BlobStore
from config import Settings
from tests.factories import ReviewerKeys, case_with_thread, make_reviewer, submit_case

pytestmark = pytest.mark.both_backends

LATER = date.today() + timedelta(days=400)  # past any default retention day


def actor(database: Database, who: ReviewerKeys) -> Actor:
    with database.read_session() as db:
        return load_actor(db, who.id, who.identity)


def full_case(database: Database, settings: Settings, member: ReviewerKeys) -> str:
    """A closed case with something in every child table: an exclusion, a report
    attachment, a message with an attachment, a note, a pending grant and a recusal."""
    case_id = case_with_thread(
        database,
        settings,
        member,
        choices=CaseChoices("corruption", "health", ("investigation",)),
        answers={"summary": "Tóm tắt bí mật", "details": "Chi tiết bí mật"},
        report_files=[(b"report attachment", AttachmentMeta("a.txt", "text/plain", 17))],
        message="Tin nhắn bí mật",
        message_files=[(b"message attachment", AttachmentMeta("b.txt", "text/plain", 18))],
    )
    other = make_reviewer(database, "intake")
    with database.session() as db:
        db.add(PendingGrant(case_id=case_id, reviewer_id=other.id, reason="test"))
        db.add(Recusal(case_id=case_id, reviewer_id=other.id))
        db.add(Notification(kind="new_case", reviewer_id=member.id, case_id=case_id))
        case = db.get(Case, case_id)
        assert case is not None
        workflow.close(db, actor(database, member), case, "unsubstantiated", 365)
    return case_id


def case_rows(db: Session, case_id: str) -> dict[str, int]:
    """Rows in every table with a case_id column (the audit log excepted, with the
    reporters' events it holds until their day is over: events outlive their case)."""
    counts = {}
    for table in Base.metadata.sorted_tables:
        if "case_id" in table.c and table.name not in ("audit_events", "held_audit_events"):
            counts[table.name] = db.scalar(
                select(func.count()).select_from(table).where(table.c.case_id == case_id)
            )
    counts["cases"] = db.scalar(select(func.count()).select_from(Case).where(Case.id == case_id))
    return counts


@pytest.fixture
def member(database: Database) -> ReviewerKeys:
    return make_reviewer(database, "intake")


@pytest.fixture
def store(settings: Settings) -> BlobStore:
    return BlobStore(settings.blob_path)


def test_purge_removes_every_row_and_file_and_leaves_a_tombstone(
    database: Database, settings: Settings, member: ReviewerKeys, store: BlobStore
) -> None:
    case_id = full_case(database, settings, member)
    kept = submit_case(database, settings)
    with database.read_session() as db:
        before = case_rows(db, case_id)
        keys = set(db.scalars(select(Blob.storage_key).where(Blob.case_id == case_id)))
        reference = db.get(Case, case_id).reference  # type: ignore[union-attr]
    # Every child table holds something, so the check below proves the cascades.
    children = ("case_exclusions", "case_keys", "blobs", "messages", "notes")
    others = ("pending_grants", "recusals", "notifications")
    assert all(before[name] > 0 for name in (*children, *others)), before
    assert len(keys) == 5  # report, attachment, message, message attachment, note
    assert keys <= set(store.stored_keys())

    with unit_of_work.transaction(database.sessionmaker) as db:
        plan = retention.purge_plan(db, LATER)
        assert [c.case_id for c in plan] == [case_id]
        assert plan[0].closed_day == date.today()
        result = retention.purge_case(db, store, case_id, actor="cli", today=LATER)
    assert (result.files_deleted, result.files_left) == (5, 0)

    with database.read_session() as db:
        assert all(count == 0 for count in case_rows(db, case_id).values())
        assert db.scalar(select(func.count()).select_from(Note)) == 0
        tombstone = db.scalars(
            select(AuditEvent).where(
                AuditEvent.case_id == case_id, AuditEvent.action == "case.purged"
            )
        ).one()
        details = json.loads(tombstone.details)
        assert details["reference"] == reference
        assert details["category"] == "corruption"
        assert details["closed"] == date.today().isoformat()
        assert "bí mật" not in tombstone.details
        checked, broken = audit.verify_chain(db)
        assert broken is None and checked > 0
        # The other case is untouched.
        assert db.get(Case, kept.case_id) is not None
    assert not keys & set(store.stored_keys())


def test_a_file_that_cannot_be_deleted_is_swept_later(
    database: Database,
    settings: Settings,
    member: ReviewerKeys,
    store: BlobStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case_id = full_case(database, settings, member)
    with database.read_session() as db:
        keys = set(db.scalars(select(Blob.storage_key).where(Blob.case_id == case_id)))

    def refuse(_key: str) -> None:
        raise PermissionError("read-only file system")

    with unit_of_work.transaction(database.sessionmaker) as db:
        monkeypatch.setattr(store, "delete", refuse)
        result = retention.purge_case(db, store, case_id, actor="cli", today=LATER)
        unit_of_work.commit(db)  # the files are deleted (or not) once the rows are gone
        monkeypatch.undo()
    assert result.files_left == 5
    with database.read_session() as db:
        assert db.get(Case, case_id) is None
    assert keys <= set(store.stored_keys())  # orphans now
    with unit_of_work.transaction(database.sessionmaker) as db:
        counts = retention.sweep(db, store, utcnow() + retention.ORPHAN_GRACE * 2)
    assert counts.orphan_files == 5
    assert not keys & set(store.stored_keys())


def test_legal_hold_keeps_a_closed_case(
    database: Database, settings: Settings, member: ReviewerKeys, store: BlobStore
) -> None:
    case_id = full_case(database, settings, member)
    admin = make_reviewer(database, role=Role.ADMIN)
    with database.session() as db:
        case = db.get(Case, case_id)
        assert case is not None
        with pytest.raises(AccessDenied):
            retention.set_legal_hold(db, actor(database, member), case, True)
        assert retention.set_legal_hold(db, actor(database, admin), case, True)
    with unit_of_work.transaction(database.sessionmaker) as db:
        assert retention.purge_plan(db, LATER) == []
        with pytest.raises(retention.NotPurgeableError, match="legal hold"):
            retention.purge_case(db, store, case_id, actor="cli", today=LATER)
    with database.read_session() as db:
        assert db.get(Case, case_id) is not None
        actions = db.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case_id)).all()
        assert "case.legal_hold_set" in actions
    with database.session() as db:
        case = db.get(Case, case_id)
        assert case is not None
        retention.set_legal_hold(db, actor(database, admin), case, False)
    with database.sessionmaker() as db:
        assert [c.case_id for c in retention.purge_plan(db, LATER)] == [case_id]


def test_open_and_not_yet_due_cases_are_never_purged(
    database: Database, settings: Settings, member: ReviewerKeys, store: BlobStore
) -> None:
    open_case = submit_case(database, settings)
    closed = full_case(database, settings, member)
    with unit_of_work.transaction(database.sessionmaker) as db:
        assert retention.purge_plan(db, date.today()) == []  # closed today, due in 365 days
        assert [c.case_id for c in retention.purge_plan(db, LATER)] == [closed]
        with pytest.raises(retention.NotPurgeableError, match="not closed"):
            retention.purge_case(db, store, open_case.case_id, actor="cli", today=LATER)
        with pytest.raises(retention.NotPurgeableError, match="not due"):
            retention.purge_case(db, store, closed, actor="cli", today=date.today())
        with pytest.raises(retention.UnknownCaseError):
            retention.purge_case(db, store, "0" * 32, actor="cli", today=LATER)
    with database.read_session() as db:
        assert db.get(Case, open_case.case_id) is not None
        assert db.get(Case, closed) is not None


def _age(path: Path, delta: timedelta) -> None:
    stamp = (utcnow() - delta).timestamp()
    os.utime(path, (stamp, stamp))


def test_sweep_removes_expired_state_and_old_leftovers_only(
    database: Database, settings: Settings, store: BlobStore
) -> None:
    case = submit_case(database, settings)
    now = utcnow()
    past, future = now - timedelta(minutes=1), now + timedelta(minutes=30)
    with database.session() as db:
        for back in (0, 1, 2):  # spent challenges of today, yesterday, two days ago
            day = clock.local_day(now) - timedelta(days=back)
            db.add(SpentPowChallenge(challenge_hash=secrets.token_bytes(32), day=day))
        db.add_all(
            [
                WebSession(
                    id=secrets.token_hex(32),
                    face="intake",
                    payload=b"x",
                    created_at=now - timedelta(hours=3),
                    idle_expires_at=past,
                    absolute_expires_at=future,
                ),
                WebSession(
                    id=secrets.token_hex(32),
                    face="intake",
                    payload=b"x",
                    created_at=now - timedelta(hours=3),
                    idle_expires_at=future,
                    absolute_expires_at=past,
                ),
                WebSession(
                    id=secrets.token_hex(32),
                    face="intake",
                    payload=b"x",
                    created_at=now,
                    idle_expires_at=future,
                    absolute_expires_at=future,
                ),
            ]
        )
    with database.read_session() as db:
        referenced = db.scalars(select(Blob.storage_key).where(Blob.case_id == case.case_id)).all()
    for key in referenced:  # old but referenced: kept
        _age(store.root / key, timedelta(days=30))
    old_orphan = store.create()
    old_orphan.write(b"age-encryption.org/v1 orphan")
    old_key = old_orphan.finalize()
    _age(store.root / old_key, retention.ORPHAN_GRACE + timedelta(hours=1))
    fresh_orphan = store.create()
    fresh_orphan.write(b"in flight: finalized, not yet committed")
    fresh_key = fresh_orphan.finalize()
    stale = store.create()
    stale.handle.close()
    _age(stale.tmp_path, retention.PARTIAL_GRACE + timedelta(hours=1))
    fresh = store.create()
    fresh.write(b"still uploading")
    fresh.handle.flush()

    with unit_of_work.transaction(database.sessionmaker) as db:
        counts = retention.sweep(db, store)
    assert counts == retention.SweepCounts(
        challenges=1,
        sessions=2,
        orphan_files=1,
        stale_partials=1,
    )
    keys = set(store.stored_keys())
    assert old_key not in keys
    assert fresh_key in keys
    assert set(referenced) <= keys
    assert not stale.tmp_path.exists()
    assert fresh.tmp_path.exists()
    with database.read_session() as db:
        assert db.scalar(select(func.count()).select_from(SpentPowChallenge)) == 2
        assert db.scalar(select(func.count()).select_from(WebSession)) == 1
    fresh.discard()
