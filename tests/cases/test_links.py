"""Related cases (issue 14 §5): staff link cases as duplicates (đơn trùng) or related
matters; the link shows on both cases, only to readers of both; the reason is encrypted
to the staff keys; the dashboard counts a group of duplicates once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData, func, select, update

from app import clock
from app.actors import CLI_ACTOR
from app.cases import unit_of_work
from app.cases.access import Actor, load_actor
from app.cases.grants import open_case_keys
from app.cases.links import (
    AlreadyLinkedError,
    LinkError,
    LinkReasonError,
    SelfLinkError,
    UnknownLinkError,
    UnknownOtherCaseError,
    link_cases,
    links_of,
    unlink_cases,
)
from app.cases.notes import read_staff_text
from app.cases.reading import open_case
from app.cases.retention import purge_case
from app.cases.unique_matters import count_unique, unique_matters
from app.database import Database
from app.models import AuditEvent, Blob, Case, CaseLink
from app.models.vocabulary import KeyKind
from app.storage import BlobStore
from config import Settings
from crypto import AgeError
from tests.factories import ReviewerKeys, hold_case, make_reviewer, submit_case

pytestmark = pytest.mark.both_backends

REASON = "Cùng dự án đường Nguyễn Văn Cừ, ông Đỗ Ủy"
CANARY = "CANARY-liên-kết-7d1e90"


@pytest.fixture
def people(database: Database) -> dict[str, ReviewerKeys]:
    """Made before the cases, so that every intake member is in their key wraps."""
    return {
        # reads both units' cases
        "both": make_reviewer(database, "intake", "inspection", username="đỗ-thị-uyên"),
        # reads intake cases only
        "intake": make_reviewer(database, "intake", username="lê-văn-đức"),
    }


def actor(database: Database, who: ReviewerKeys) -> Actor:
    with database.read_session() as db:
        return load_actor(db, who.id, who.identity)


def new_case(database: Database, settings: Settings, summary: str = "Đường Nguyễn Văn Cừ") -> str:
    return submit_case(database, settings, summary=summary).case_id


def reference(database: Database, case_id: str) -> str:
    with database.read_session() as db:
        case = db.get(Case, case_id)
        assert case is not None
        return case.reference


def link(
    database: Database,
    settings: Settings,
    who: ReviewerKeys,
    case_id: str,
    other_reference: str,
    kind: str = "duplicate",
    reason: str = REASON,
) -> int:
    with unit_of_work.transaction(database.sessionmaker) as db:
        case = db.get(Case, case_id)
        assert case is not None
        made = link_cases(
            db,
            BlobStore(settings.blob_path),
            load_actor(db, who.id, who.identity),
            case,
            other_reference,
            kind,
            reason,
        )
        return made.id


def shown(database: Database, settings: Settings, who: ReviewerKeys, case_id: str) -> list[str]:
    """The links of the case as ``who`` sees them: "REFERENCE kind reason"."""
    with database.read_session() as db:
        case = db.get(Case, case_id)
        assert case is not None
        me = load_actor(db, who.id, who.identity)
        staff = open_case_keys(db, case, [who.identity])[KeyKind.STAFF]
        views = links_of(db, BlobStore(settings.blob_path), me, case, staff)
        return [f"{v.other_reference} {v.kind.value} {v.reason}" for v in views]


def state(database: Database) -> tuple[int, int, int]:
    with database.read_session() as db:
        return (
            db.scalar(select(func.count()).select_from(CaseLink)) or 0,
            db.scalar(select(func.count()).select_from(Blob)) or 0,
            db.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def link_events(database: Database, case_id: str) -> list[str]:
    with database.read_session() as db:
        return list(
            db.scalars(
                select(AuditEvent.action)
                .where(
                    AuditEvent.case_id == case_id,
                    AuditEvent.action.in_(["case.linked", "case.unlinked"]),
                )
                .order_by(AuditEvent.seq)
            )
        )


def test_a_link_shows_on_both_cases_with_its_reason(
    database: Database, settings: Settings, people: dict[str, ReviewerKeys]
) -> None:
    a, b = new_case(database, settings), new_case(database, settings)
    ref_a, ref_b = reference(database, a), reference(database, b)

    link(database, settings, people["intake"], a, f"  {ref_b.lower()} ", kind="related")

    # Each case shows the other, and the reason decrypts with its own staff key.
    assert shown(database, settings, people["intake"], a) == [f"{ref_b} related {REASON}"]
    assert shown(database, settings, people["intake"], b) == [f"{ref_a} related {REASON}"]
    assert link_events(database, a) == link_events(database, b) == ["case.linked"]
    with database.read_session() as db:
        row = db.scalars(select(CaseLink)).one()
        assert row.case_id < row.other_case_id  # the canonical order
        assert row.created_by == people["intake"].id


def test_links_are_invisible_across_units(
    database: Database, settings: Settings, people: dict[str, ReviewerKeys]
) -> None:
    a, b = new_case(database, settings), new_case(database, settings)
    hold_case(database, b, "inspection")
    ref_a, ref_b = reference(database, a), reference(database, b)
    link(database, settings, people["both"], a, ref_b)

    # Positive control: a reviewer who can read both cases sees the link from each side,
    # and its event in the timeline.
    assert shown(database, settings, people["both"], a) == [f"{ref_b} duplicate {REASON}"]
    assert shown(database, settings, people["both"], b) == [f"{ref_a} duplicate {REASON}"]
    store = BlobStore(settings.blob_path)
    with database.read_session() as db:
        opened = open_case(db, store, actor(database, people["both"]), a)
        assert [e.action for e in opened.timeline].count("case.linked") == 1
        assert [v.other_reference for v in opened.links] == [ref_b]

    # A reviewer of the intake alone reads case A, but not B: no link, no reference, and
    # no timeline event saying a link exists.
    intake = people["intake"]
    assert shown(database, settings, intake, a) == []
    with database.read_session() as db:
        opened = open_case(db, store, actor(database, intake), a)
        assert opened.links == []
        assert "case.linked" not in [e.action for e in opened.timeline]
        assert ref_b not in repr(opened.timeline)

    # Naming B from A is refused exactly like a reference that does not exist.
    before = state(database)
    with pytest.raises(UnknownOtherCaseError) as hidden:
        link(database, settings, intake, a, ref_b, kind="related")
    with pytest.raises(UnknownOtherCaseError) as missing:
        link(database, settings, intake, a, "CT-2026-99999", kind="related")
    assert str(hidden.value) == str(missing.value)
    # And the link's id cannot be used to remove it.
    with database.read_session() as db:
        link_id = db.scalars(select(CaseLink.id)).one()
    with pytest.raises(UnknownLinkError), unit_of_work.transaction(database.sessionmaker) as db:
        case_a = db.get(Case, a)
        assert case_a is not None
        as_intake = load_actor(db, intake.id, intake.identity)
        unlink_cases(db, store, as_intake, case_a, link_id, "Lý do")
    assert state(database) == before


def test_self_links_and_second_links_are_refused_and_change_nothing(
    database: Database, settings: Settings, people: dict[str, ReviewerKeys]
) -> None:
    a, b = new_case(database, settings), new_case(database, settings)
    ref_a, ref_b = reference(database, a), reference(database, b)
    link(database, settings, people["intake"], a, ref_b)
    before = state(database)

    refusals: list[tuple[type[LinkError], str, str, str, str]] = [
        (SelfLinkError, a, ref_a, "duplicate", REASON),
        (AlreadyLinkedError, a, ref_b, "related", REASON),
        (AlreadyLinkedError, b, ref_a, "duplicate", REASON),  # the other direction too
        (LinkReasonError, b, ref_a, "duplicate", "   "),
        (LinkError, b, ref_a, "trùng", REASON),  # not a kind of link
    ]
    for error, case_id, other, kind, reason in refusals:
        with pytest.raises(error):
            link(database, settings, people["intake"], case_id, other, kind, reason)
        assert state(database) == before, error
    assert shown(database, settings, people["intake"], a) == [f"{ref_b} duplicate {REASON}"]


def test_unlinking_needs_a_reason_and_removes_the_link_from_both_cases(
    database: Database, settings: Settings, people: dict[str, ReviewerKeys]
) -> None:
    a, b = new_case(database, settings), new_case(database, settings)
    link_id = link(database, settings, people["intake"], a, reference(database, b))
    store = BlobStore(settings.blob_path)
    who = people["intake"]

    def unlink(case_id: str, reason: str) -> None:
        with unit_of_work.transaction(database.sessionmaker) as db:
            case = db.get(Case, case_id)
            assert case is not None
            unlink_cases(db, store, load_actor(db, who.id, who.identity), case, link_id, reason)

    before = state(database)
    with pytest.raises(LinkReasonError):
        unlink(b, "")
    assert state(database) == before

    unlink(b, "Nhầm lẫn: khác dự án, ông Đỗ Ủy không liên quan")
    assert shown(database, settings, who, a) == shown(database, settings, who, b) == []
    assert link_events(database, a) == link_events(database, b) == ["case.linked", "case.unlinked"]
    # The same pair may be linked again: unlinking is not irreversible.
    link(database, settings, who, b, reference(database, a), kind="related")
    assert len(shown(database, settings, who, a)) == 1


def _database_text(database: Database) -> str:
    """Every value of every row of every table, as text."""
    meta = MetaData()
    parts: list[str] = []
    with database.engine.connect() as conn:
        meta.reflect(bind=conn)
        for table in meta.sorted_tables:
            for row in conn.execute(table.select()):
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        parts.append(bytes(value).decode("utf-8", errors="replace"))
                    else:
                        parts.append(str(value))
    return "\n".join(parts)


def _files_text(root: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def test_the_reason_is_stored_encrypted_to_both_staff_keys(
    database: Database, settings: Settings, people: dict[str, ReviewerKeys]
) -> None:
    a, b = new_case(database, settings), new_case(database, settings)
    link(database, settings, people["intake"], a, reference(database, b), reason=CANARY)

    assert CANARY not in _database_text(database)
    assert CANARY.encode() not in _files_text(settings.blob_path)
    assert CANARY.encode() not in _files_text(settings.instance_path)

    # Positive control: the blob the link names decrypts with either case's staff key
    # (and the scan above does see text that is in clear: the case reference).
    store = BlobStore(settings.blob_path)
    assert reference(database, a) in _database_text(database)
    with database.read_session() as db:
        row = db.scalars(select(CaseLink)).one()
        blob = db.get(Blob, row.note_blob_id)
        assert blob is not None and blob.case_id == row.case_id
        for case_id in (a, b):
            case = db.get(Case, case_id)
            assert case is not None
            staff = open_case_keys(db, case, [people["intake"].identity])[KeyKind.STAFF]
            assert read_staff_text(store, blob, staff) == CANARY
        # Never the case key: the reporter cannot read staff reasons.
        case = db.get(Case, a)
        assert case is not None
        case_key = open_case_keys(db, case, [people["intake"].identity])[KeyKind.CASE]
        with pytest.raises(AgeError):
            read_staff_text(store, blob, case_key)


# -- unique matters ----------------------------------------------------------------------


def test_a_chain_of_duplicates_counts_once(
    database: Database, settings: Settings, people: dict[str, ReviewerKeys]
) -> None:
    a, b, c, d, e = (new_case(database, settings) for _ in range(5))
    who = people["intake"]
    with database.read_session() as db:
        assert unique_matters(db) == 5
    link(database, settings, who, a, reference(database, b))  # A–B
    link(database, settings, who, c, reference(database, b))  # B–C: one group A, B, C
    link(database, settings, who, d, reference(database, c), kind="related")  # not merged
    with database.read_session() as db:
        assert unique_matters(db) == 3  # {A, B, C}, D, E
        # Within a set of cases, only links between two of its cases join them: without
        # B, A and C are two matters.
        assert unique_matters(db, Case.id.in_([a, c, e])) == 3
        assert unique_matters(db, Case.id.in_([a, b, c])) == 1
    link(database, settings, who, e, reference(database, a))  # E joins the group
    with database.read_session() as db:
        assert unique_matters(db) == 2


def test_count_unique_is_connected_components() -> None:
    ids = ["a", "b", "c", "d", "e", "f"]
    assert count_unique(ids, []) == 6
    assert count_unique(ids, [("a", "b"), ("b", "c"), ("c", "a")]) == 4  # a cycle is one
    assert count_unique(ids, [("a", "b"), ("d", "e"), ("e", "f"), ("b", "d")]) == 2
    assert count_unique(["a", "b"], [("a", "z")]) == 2  # an end outside the set


def test_purging_either_case_removes_the_link_and_its_reason(
    database: Database, settings: Settings, people: dict[str, ReviewerKeys]
) -> None:
    a, b, c = (new_case(database, settings) for _ in range(3))
    who = people["intake"]
    link(database, settings, who, a, reference(database, b))
    link(database, settings, who, a, reference(database, c), kind="related")
    with database.read_session() as db:
        reasons = list(
            db.scalars(select(Blob.storage_key).join(CaseLink, CaseLink.note_blob_id == Blob.id))
        )
        kept = list(db.scalars(select(Blob.storage_key).where(Blob.case_id == a)))
    store = BlobStore(settings.blob_path)
    assert len(reasons) == 2 and all(store.exists(key) for key in reasons)
    # Whichever end of a pair is purged (the first or the second by id), the reason
    # goes with the link: row and file.
    for gone in (b, c):
        with database.session() as db:
            db.execute(
                update(Case)
                .where(Case.id == gone)
                .values(status="closed", purge_after=clock.today() - timedelta(days=1))
            )
        with unit_of_work.transaction(database.sessionmaker) as db:
            purge_case(db, store, gone, actor=CLI_ACTOR)
    with database.read_session() as db:
        assert db.scalar(select(func.count()).select_from(CaseLink)) == 0
        left = set(db.scalars(select(Blob.storage_key)))
    assert not any(store.exists(key) or key in left for key in reasons)
    # Positive control: case A keeps its own blobs.
    assert all(store.exists(key) and key in left for key in kept if key not in reasons)
