"""The inbox's decrypted parts (summaries, text search) and its bulk actions, at the
domain level: who gets plaintext, what the caps leave out, and all-or-nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import clock
from app.cases import bulk, inbox_reading, unit_of_work, workflow
from app.cases.access import Actor, load_actor
from app.cases.bulk import BulkAction, BulkError, BulkRefused, apply_bulk
from app.cases.inbox import InboxFilters
from app.cases.inbox_reading import read_inbox
from app.cases.summaries import fold, read_reports
from app.database import Database
from app.models import AuditEvent, Case, CaseNotice
from app.storage import BlobStore
from config import Settings
from tests.factories import ReviewerKeys, make_reviewer, submit_case

pytestmark = pytest.mark.both_backends

LAND = "Cán bộ địa chính phường Hưng Lợi đòi tiền để cấp sổ đỏ"
SCHOOL = "Trường tiểu học Bình Thủy thu tiền ngoài quy định"
HEALTH = "Bệnh viện quận Ô Môn mua thiết bị đắt gấp đôi"


def _actor(database: Database, who: ReviewerKeys) -> Actor:
    with database.read_session() as db:
        return load_actor(db, who.id, who.identity)


@pytest.fixture
def member(database: Database) -> ReviewerKeys:
    return make_reviewer(database, "intake", username="nguyễn.thị.đào")


@pytest.fixture
def three(database: Database, settings: Settings, member: ReviewerKeys) -> list[str]:
    """Three cases held by the intake unit, oldest first, encrypted to ``member``."""
    return [
        submit_case(
            database, settings, summary=LAND, details="Ông Trần Văn Đức nhận 30 triệu."
        ).case_id,
        submit_case(
            database, settings, summary=SCHOOL, details="Phụ huynh nộp biên bản họp.pdf"
        ).case_id,
        submit_case(
            database, settings, summary=HEALTH, details="Gói thầu máy siêu âm năm 2025."
        ).case_id,
    ]


def test_fold_ignores_case_and_diacritics() -> None:
    assert fold("Đất ĐAI, Biên bản") == "dat dai, bien ban"
    assert fold("Ủy ban") == "uy ban"


def test_a_reader_sees_summaries_and_another_unit_does_not(
    database: Database, settings: Settings, member: ReviewerKeys, three: list[str]
) -> None:
    store = BlobStore(settings.blob_path)
    outsider = make_reviewer(database, "inspection", username="lê.văn.ủy")
    with database.read_session() as db:
        mine = read_reports(db, store, _actor(database, member), three)
        theirs = read_reports(db, store, _actor(database, outsider), three)
        view = read_inbox(db, store, _actor(database, member), InboxFilters(), clock.today())
        other_view = read_inbox(
            db, store, _actor(database, outsider), InboxFilters(), clock.today()
        )
    # Positive control: the member of the holding unit reads every summary.
    assert [mine[c].summary for c in three] == [LAND, SCHOOL, HEALTH]
    assert set(view.summaries.values()) == {LAND, SCHOOL, HEALTH}
    # Ids passed in by hand do not widen what another unit reads.
    assert theirs == {}
    assert other_view.page.rows == [] and other_view.summaries == {}


def test_no_key_in_session_means_no_summary(
    database: Database, settings: Settings, member: ReviewerKeys, three: list[str]
) -> None:
    keyless = make_reviewer(database, "intake", username="phạm.đức.huy")
    store = BlobStore(settings.blob_path)
    with database.read_session() as db:
        actor = _actor(database, keyless)  # a member, but the cases predate their key
        view = read_inbox(db, store, actor, InboxFilters(), clock.today())
    assert len(view.page.rows) == 3  # listed (the SQL rule) ...
    assert view.summaries == {}  # ... but the wraps hold no key of theirs


def test_summaries_stop_at_the_cap(
    database: Database,
    settings: Settings,
    member: ReviewerKeys,
    three: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(inbox_reading, "SUMMARY_CAP", 2)
    with database.read_session() as db:
        view = read_inbox(
            db,
            BlobStore(settings.blob_path),
            _actor(database, member),
            InboxFilters(),
            clock.today(),
        )
    assert len(view.page.rows) == 3 and view.summarised == 2
    assert set(view.summaries) == {row.id for row in view.page.rows[:2]}


def test_search_over_summary_and_details_without_accents(
    database: Database, settings: Settings, member: ReviewerKeys, three: list[str]
) -> None:
    store = BlobStore(settings.blob_path)
    actor = _actor(database, member)

    def found(query: str) -> list[str]:
        with database.read_session() as db:
            view = read_inbox(db, store, actor, InboxFilters(), clock.today(), query=query)
        assert view.search is not None
        return [row.id for row in view.page.rows]

    land, school, health = three
    assert found("so do") == [land]  # "sổ đỏ" typed without accents
    assert found("BIÊN BẢN họp") == [school]  # a word of the details only
    assert found("tiền") == [school, land]  # newest first, as the inbox
    assert found("không có ở đâu") == []
    with database.read_session() as db:
        reference = db.get(Case, health)
        assert reference is not None
        by_reference = read_inbox(
            db, store, actor, InboxFilters(), clock.today(), query=reference.reference.lower()
        )
    assert [row.id for row in by_reference.page.rows] == [health]


def test_search_says_what_the_cap_left_out(
    database: Database,
    settings: Settings,
    member: ReviewerKeys,
    three: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(inbox_reading, "SEARCH_CAP", 2)
    with database.read_session() as db:
        view = read_inbox(
            db,
            BlobStore(settings.blob_path),
            _actor(database, member),
            InboxFilters(),
            clock.today(),
            query="địa chính",
        )
    # The land case is the oldest: beyond the cap, so not found, and the page is told.
    assert view.search is not None
    assert (view.search.searched, view.search.not_searched) == (2, 1)
    assert view.page.rows == []


def _audit(database: Database, action: str) -> int:
    with database.read_session() as db:
        return db.scalar(select(func.count()).where(AuditEvent.action == action)) or 0


def _statuses(database: Database, ids: list[str]) -> list[str]:
    with database.read_session() as db:
        return [db.get(Case, case_id).status for case_id in ids]  # type: ignore[union-attr]


def test_bulk_acknowledge_audits_each_case(
    database: Database, settings: Settings, member: ReviewerKeys, three: list[str]
) -> None:
    store = BlobStore(settings.blob_path)
    with unit_of_work.transaction(database.sessionmaker) as db:
        done = apply_bulk(db, store, _actor(database, member), BulkAction.ACKNOWLEDGE, three[:2])
    assert len(done) == 2
    assert _statuses(database, three) == ["triage", "triage", "new"]
    assert _audit(database, "case.acknowledged") == 2
    with database.read_session() as db:  # anonymous information: its notice, per case
        assert db.scalar(select(func.count()).select_from(CaseNotice)) == 2


def test_bulk_is_all_or_nothing_and_names_the_case(
    database: Database, settings: Settings, member: ReviewerKeys, three: list[str]
) -> None:
    store = BlobStore(settings.blob_path)
    _land, school, _health = three
    with unit_of_work.transaction(database.sessionmaker) as db:
        case = db.get(Case, school)
        assert case is not None
        workflow.acknowledge(db, _actor(database, member), case)
    before = _audit(database, "case.acknowledged")
    db = database.sessionmaker()
    try:
        with pytest.raises(BulkRefused) as refused:
            apply_bulk(db, store, _actor(database, member), BulkAction.ACKNOWLEDGE, three)
        assert isinstance(refused.value.cause, workflow.InvalidTransitionError)
        unit_of_work.rollback(db)
    finally:
        db.close()
    with database.read_session() as check:
        school_case = check.get(Case, school)
        assert school_case is not None
        assert refused.value.reference == school_case.reference
        assert check.scalar(select(func.count()).select_from(CaseNotice)) == 0
    # The land case came first and was acknowledged in the batch: rolled back with it.
    assert _statuses(database, three) == ["new", "triage", "new"]
    assert _audit(database, "case.acknowledged") == before


def test_bulk_assign_checks_each_case_as_its_page_does(
    database: Database, settings: Settings, member: ReviewerKeys, three: list[str]
) -> None:
    store = BlobStore(settings.blob_path)
    colleague = make_reviewer(database, "intake", username="võ.thị.sáu")
    outsider = make_reviewer(database, "inspection", username="đặng.văn.ngữ")
    with unit_of_work.transaction(database.sessionmaker) as db:
        apply_bulk(
            db, store, _actor(database, member), BulkAction.ASSIGN, three, assignee_id=colleague.id
        )
    with database.read_session() as db:
        assert {db.get(Case, c).assignee_id for c in three} == {colleague.id}  # type: ignore[union-attr]
    assert _audit(database, "case.assigned") == 3
    db = database.sessionmaker()
    try:
        with pytest.raises(BulkRefused) as refused:
            apply_bulk(
                db,
                store,
                _actor(database, member),
                BulkAction.ASSIGN,
                three,
                assignee_id=outsider.id,
            )
        assert isinstance(refused.value.cause, workflow.NotAMemberError)
        unit_of_work.rollback(db)
    finally:
        db.close()
    assert _audit(database, "case.assigned") == 3


def test_bulk_refuses_a_case_of_another_unit_and_empty_or_huge_batches(
    database: Database, settings: Settings, member: ReviewerKeys, three: list[str]
) -> None:
    store = BlobStore(settings.blob_path)
    outsider = make_reviewer(database, "inspection", username="hồ.thị.kỷ")
    db = database.sessionmaker()
    try:
        for who, ids, code in (
            (outsider, three[:1], "not_readable"),
            (member, [], "none_selected"),
            (member, [f"{i:032x}" for i in range(bulk.BULK_LIMIT + 1)], "too_many"),
        ):
            with pytest.raises(BulkError) as error:
                apply_bulk(db, store, _actor(database, who), BulkAction.ACKNOWLEDGE, ids)
            assert error.value.code == code
            unit_of_work.rollback(db)
    finally:
        db.close()
    assert _statuses(database, three) == ["new", "new", "new"]
