"""The protection request's clock and its one answer, in the domain (issue 13 §5): the due
day counts working days of Vietnam's calendar (the `holidays` package), stored as a day;
only a reader of the case may answer, once."""

from __future__ import annotations

from datetime import UTC, date, datetime

import holidays
import pytest
from sqlalchemy import select, update

import app.cases.messages as messages_module
from app import clock
from app.cases import unit_of_work
from app.cases.access import AccessDenied, load_actor
from app.cases.deadlines import DeadlineState, protection_state
from app.cases.legal_periods import ProtectionPeriods, protection_due
from app.cases.legal_process import work_calendar
from app.cases.messages import EmptyMessageError
from app.cases.protection import ProtectionError, answer_request, file_request_from_server
from app.database import Database
from app.models import Case, Message, ProtectionRequest, utcnow
from app.storage import BlobStore
from config import Settings
from tests.factories import make_reviewer, submit_case

PACKAGE = holidays.country_holidays("VN", years=range(2026, 2028))
TEXT = "Tôi bị trù dập sau khi tố cáo ông Lê Văn Ưng."


def _skipped_are_rest_days(filed: date, due: date) -> None:
    """Every day between ``filed`` and ``due`` that was not counted is a weekend or a
    public holiday of the package (the check that the count is not "calendar days")."""
    day, counted = filed, 0
    while day < due:
        day = date.fromordinal(day.toordinal() + 1)
        rest = day.weekday() >= 5 or day in PACKAGE
        counted += not rest
    assert counted == ProtectionPeriods().decision_working_days
    assert due.weekday() < 5 and due not in PACKAGE


@pytest.mark.parametrize(
    ("filed", "due"),
    [
        # Friday 27/11/2026: Mon 30/11, Tue 1/12, Wed 2/12.
        (date(2026, 11, 27), date(2026, 12, 2)),
        # Wednesday 3/2/2027, the eve of Tết Đinh Mùi: 4-10/2 are holidays (and the
        # weekend), so Thu 11, Fri 12, Mon 15/2.
        (date(2027, 2, 3), date(2027, 2, 15)),
    ],
)
def test_due_day_skips_weekends_and_tet(filed: date, due: date) -> None:
    assert protection_due(filed, work_calendar()) == due
    _skipped_are_rest_days(filed, due)


def test_a_request_filed_before_tet_is_stored_with_its_day_and_due_day(
    database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = submit_case(database, settings).case_id
    # 15:30 in Cần Thơ on 3/2/2027 (08:30 UTC): only the day may remain.
    monkeypatch.setattr(messages_module, "utcnow", lambda: datetime(2027, 2, 3, 8, 30, tzinfo=UTC))
    store = BlobStore(settings.blob_path)
    with unit_of_work.transaction(database.sessionmaker) as db:
        case = db.get(Case, case_id)
        assert case is not None
        file_request_from_server(db, store, case=case, text=TEXT, attachments=[])
    with database.read_session() as db:
        (request,) = db.scalars(select(ProtectionRequest)).all()
        message = db.get(Message, request.message_id)
        assert message is not None
    assert (request.filed_day, request.due_day) == (date(2027, 2, 3), date(2027, 2, 15))
    assert clock.is_day_stamp(message.created_at)
    assert protection_state(request, date(2027, 2, 15)) is DeadlineState.DUE_SOON
    assert protection_state(request, date(2027, 2, 16)) is DeadlineState.OVERDUE


def test_only_a_reader_answers_and_only_once(database: Database, settings: Settings) -> None:
    reader = make_reviewer(database, "intake")
    stranger = make_reviewer(database, "inspection")
    case_id = submit_case(database, settings).case_id
    store = BlobStore(settings.blob_path)
    with unit_of_work.transaction(database.sessionmaker) as db:
        case = db.get(Case, case_id)
        assert case is not None
        request_id = file_request_from_server(
            db, store, case=case, text=TEXT, attachments=[]
        ).message_id

    def answer(
        who: object, text: str = "Đã tiếp nhận, đang xem xét.", which: int | None = None
    ) -> None:
        with unit_of_work.transaction(database.sessionmaker) as db:
            case = db.get(Case, case_id)
            assert case is not None
            actor = load_actor(db, who.id, who.identity)  # type: ignore[attr-defined]
            answer_request(db, store, actor, case, which or request_id, text)

    with pytest.raises(AccessDenied):
        answer(stranger)
    with pytest.raises(EmptyMessageError):
        answer(reader, " ")
    with database.read_session() as db:
        assert db.get(ProtectionRequest, request_id).answered_at is None  # type: ignore[union-attr]
        assert len(db.scalars(select(Message)).all()) == 1
    answer(reader)
    with pytest.raises(ProtectionError) as again:
        answer(reader)
    assert again.value.code == "already_answered"
    with database.read_session() as db:
        request = db.get(ProtectionRequest, request_id)
        assert request is not None and request.answered_by_id == reader.id
        assert protection_state(request, date(2099, 1, 1)) is DeadlineState.MET
        assert len(db.scalars(select(Message)).all()) == 2
    with pytest.raises(ProtectionError) as unknown:
        answer(reader, which=request_id + 1)
    assert unknown.value.code == "not_found"


@pytest.mark.both_backends
def test_a_purge_takes_the_requests_with_the_case(database: Database, settings: Settings) -> None:
    from app.cases import retention

    reader = make_reviewer(database, "intake")
    case_id = submit_case(database, settings).case_id
    store = BlobStore(settings.blob_path)
    with unit_of_work.transaction(database.sessionmaker) as db:
        case = db.get(Case, case_id)
        assert case is not None
        request = file_request_from_server(db, store, case=case, text=TEXT, attachments=[])
        actor = load_actor(db, reader.id, reader.identity)
        answer_request(db, store, actor, case, request.message_id, "Đã trả lời.")
    today = clock.today()
    with database.session() as db:
        db.execute(
            update(Case)
            .where(Case.id == case_id)
            .values(status="closed", closed_at=utcnow(), purge_after=today)
        )
    with database.read_session() as db:
        assert len(db.scalars(select(ProtectionRequest)).all()) == 1  # the positive control
    with unit_of_work.transaction(database.sessionmaker) as db:
        retention.purge_case(db, store, case_id, actor="cli", today=today)
    with database.read_session() as db:
        assert db.scalars(select(ProtectionRequest)).all() == []
