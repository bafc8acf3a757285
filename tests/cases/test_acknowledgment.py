"""The optional automatic acknowledgment on a reviewer's first view of a new case."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.cases import unit_of_work
from app.cases.access import AccessDenied, Actor, load_actor
from app.cases.acknowledgment import AUTOMATIC_ACKNOWLEDGMENT, maybe_send_automatic_acknowledgment
from app.cases.messages import add_message_from_server, load_thread
from app.cases.reading import case_identities
from app.database import Database
from app.models import AuditEvent, Case, Message
from app.models.vocabulary import KeyKind, Role, Side
from app.storage import BlobStore, PendingBlob, StorageError
from config import Settings
from tests.factories import ReviewerKeys, SubmittedCase, make_reviewer, submit_case

pytestmark = pytest.mark.both_backends


class BrokenStore(BlobStore):
    def create(self, limit: int | None = None) -> PendingBlob:
        raise StorageError("disk gone")


@pytest.fixture
def member(database: Database) -> ReviewerKeys:
    return make_reviewer(database, "intake")


@pytest.fixture
def case(database: Database, settings: Settings, member: ReviewerKeys) -> SubmittedCase:
    return submit_case(database, settings)


def _actor(database: Database, who: ReviewerKeys) -> Actor:
    with database.read_session() as db:
        return load_actor(db, who.id, who.identity)


def _send(
    database: Database, store: BlobStore, who: ReviewerKeys, case_id: str, enabled: bool = True
) -> bool:
    with unit_of_work.transaction(database.sessionmaker) as db:
        target = db.get(Case, case_id)
        assert target is not None
        return maybe_send_automatic_acknowledgment(
            db, store, _actor(database, who), target, enabled
        )


def _state(database: Database, case_id: str) -> tuple[str, bool, list[str], list[str]]:
    with database.read_session() as db:
        found = db.get(Case, case_id)
        assert found is not None
        sides = list(
            db.scalars(select(Message.author_side).where(Message.case_id == case_id)).all()
        )
        actions = list(
            db.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.case_id == case_id)
                .order_by(AuditEvent.seq)
            ).all()
        )
        return found.status, found.acknowledged_at is not None, sides, actions


def test_off_by_default_nothing_happens(
    database: Database, settings: Settings, member: ReviewerKeys, case: SubmittedCase
) -> None:
    before = _state(database, case.case_id)
    assert not _send(database, BlobStore(settings.blob_path), member, case.case_id, enabled=False)
    assert _state(database, case.case_id) == before


def test_first_view_of_a_new_case_acknowledges_and_writes_to_the_reporter(
    database: Database, settings: Settings, member: ReviewerKeys, case: SubmittedCase
) -> None:
    store = BlobStore(settings.blob_path)
    assert _send(database, store, member, case.case_id)
    status, acknowledged, sides, actions = _state(database, case.case_id)
    # The fixed message, and the information notice of anonymous information (art. 25).
    assert (status, acknowledged, sides) == ("triage", True, [Side.REVIEWER.value] * 2)
    assert actions[-3:] == ["case.acknowledged", "message.to_reporter", "message.to_reporter"]
    with database.read_session() as db:
        target = db.get(Case, case.case_id)
        assert target is not None
        keys = case_identities(db, _actor(database, member), target)
        message, notice = load_thread(db, store, case.case_id, keys[KeyKind.CASE])
    assert message.text == AUTOMATIC_ACKNOWLEDGMENT
    assert [a.meta.name for a in notice.attachments] == ["thong-bao-tiep-nhan-thong-tin.pdf"]
    assert message.text.index("Phản ánh của bạn") < message.text.index("Your report")
    # Seen again, or by a colleague: nothing more.
    other = make_reviewer(database, "intake")
    assert not _send(database, store, member, case.case_id)
    assert not _send(database, store, other, case.case_id)
    assert _state(database, case.case_id)[2] == [Side.REVIEWER.value] * 2


def test_not_sent_when_a_reviewer_already_wrote(
    database: Database, settings: Settings, member: ReviewerKeys, case: SubmittedCase
) -> None:
    store = BlobStore(settings.blob_path)
    with unit_of_work.transaction(database.sessionmaker) as db:
        target = db.get(Case, case.case_id)
        assert target is not None
        add_message_from_server(
            db,
            store,
            case=target,
            side=Side.REVIEWER,
            author_id=member.id,
            text="Xin cảm ơn.",
            attachments=[],
        )
    assert not _send(database, store, member, case.case_id)
    assert _state(database, case.case_id)[:2] == ("new", False)


def test_a_failed_message_leaves_the_case_unacknowledged(
    database: Database, settings: Settings, member: ReviewerKeys, case: SubmittedCase
) -> None:
    before = _state(database, case.case_id)
    with pytest.raises(StorageError):
        _send(database, BrokenStore(settings.blob_path), member, case.case_id)
    assert _state(database, case.case_id) == before


def test_someone_who_cannot_read_the_case_sends_nothing(
    database: Database, settings: Settings, case: SubmittedCase
) -> None:
    before = _state(database, case.case_id)
    for who in (
        make_reviewer(database, "inspection"),
        make_reviewer(database, "oversight", role=Role.OBSERVER),
    ):
        with pytest.raises(AccessDenied):
            _send(database, BlobStore(settings.blob_path), who, case.case_id)
    assert _state(database, case.case_id) == before


def test_blob_store_path_is_untouched_when_refused(
    database: Database, settings: Settings, case: SubmittedCase
) -> None:
    # A refused actor must not leave a stray encrypted file behind either.
    before = sorted(p.name for p in settings.blob_path.rglob("*") if p.is_file())
    with pytest.raises(AccessDenied):
        _send(database, BlobStore(settings.blob_path), make_reviewer(database), case.case_id)
    assert sorted(p.name for p in settings.blob_path.rglob("*") if p.is_file()) == before
