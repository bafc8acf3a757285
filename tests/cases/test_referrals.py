"""Referral to the investigation agency: routing to an investigation unit records the
agency, the dispatch and the BLTTHS 2015 art. 147 period in calendar days; the
investigation unit records the procuracy notice, an extension within the law's cap, and
the result; a return goes back to an inspection unit by the routing rules. The clock is
the app's (``clock.today``), moved by the tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app import clock
from app.cases import actions, referrals, unit_of_work
from app.cases.access import AccessDenied, load_actor
from app.cases.deadlines import DeadlineState, referral_overdue_clause
from app.cases.referrals import ReferralDetails, ReferralError
from app.database import Database
from app.models import AuditEvent, Case, Referral, Unit
from app.storage import BlobStore
from config import Settings
from tests.factories import ReviewerKeys, SubmittedCase, make_reviewer, submit_case

pytestmark = pytest.mark.both_backends

DISPATCHED = date(2027, 3, 3)  # a Wednesday
AGENCY = "csdt_can_tho"  # Cơ quan CSĐT Công an TP Cần Thơ
DETAILS = ReferralDetails(AGENCY, "125/TTr-NV", DISPATCHED)
REASON = "Có dấu hiệu tội tham ô tài sản tại Sở Tài nguyên và Môi trường"


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.day = DISPATCHED
        monkeypatch.setattr(clock, "today", lambda: self.day)


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def đạt(database: Database) -> ReviewerKeys:
    return make_reviewer(database, "intake", username="đạt-tiếp-nhận")


@pytest.fixture
def điều_tra(database: Database) -> ReviewerKeys:
    return make_reviewer(database, "investigation", username="điều-tra-viên")


@pytest.fixture
def thanh_tra(database: Database) -> ReviewerKeys:
    return make_reviewer(database, "inspection", username="thanh-tra-viên")


@pytest.fixture
def case(database: Database, settings: Settings, đạt: ReviewerKeys) -> SubmittedCase:
    sent = submit_case(database, settings, summary="Tham ô tại Sở Tài nguyên và Môi trường")
    with database.session() as db:
        row = db.get(Case, sent.case_id)
        assert row is not None
        row.created_day = DISPATCHED - timedelta(days=10)
    return sent


def run(database: Database, settings: Settings, who: ReviewerKeys, case_id: str, fn: Any) -> Any:
    """``fn(db, store, actor, case)`` in one unit of work, committed."""
    store = BlobStore(settings.blob_path)
    with unit_of_work.transaction(database.sessionmaker) as db:
        case = db.get(Case, case_id)
        assert case is not None
        return fn(db, store, load_actor(db, who.id, who.identity), case)


def refer(database: Database, settings: Settings, who: ReviewerKeys, case_id: str) -> None:
    run(
        database,
        settings,
        who,
        case_id,
        lambda db, store, actor, case: actions.route_with_reason(
            db, store, actor, case, "investigation", REASON, DETAILS, today=clock.today()
        ),
    )


def state(database: Database, case_id: str) -> referrals.ReferralState:
    with database.read_session() as db:
        case = db.get(Case, case_id)
        assert case is not None
        found = referrals.referral_state(db, case, clock.today())
        assert found is not None
        return found


def overdue_in_sql(database: Database, case_id: str) -> bool:
    with database.read_session() as db:
        return bool(
            db.scalar(
                select(func.count())
                .select_from(Referral)
                .join(Case, Case.id == Referral.case_id)
                .where(Case.id == case_id, referral_overdue_clause(clock.today()))
            )
        )


def actions_of(database: Database, case_id: str) -> list[str]:
    with database.read_session() as db:
        return list(
            db.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.case_id == case_id)
                .order_by(AuditEvent.seq)
            )
        )


def test_the_referral_lifecycle_with_its_days(
    database: Database,
    settings: Settings,
    today: Clock,
    case: SubmittedCase,
    đạt: ReviewerKeys,
    điều_tra: ReviewerKeys,
) -> None:
    refer(database, settings, đạt, case.case_id)
    current = state(database, case.case_id)
    # Art. 147(1): 20 calendar days from the dispatch, the day itself not counted.
    assert current.referral.verification_due_day == date(2027, 3, 23)
    assert current.referral.agency == AGENCY and current.referral.dispatch_number == "125/TTr-NV"
    assert current.state is DeadlineState.OPEN and not current.overdue
    # Art. 147(2): 2 + 2 months, 3 July 2027 is a Saturday: Monday 5 July (art. 134).
    assert current.latest_allowed == date(2027, 7, 5)
    assert "referral.sent" in actions_of(database, case.case_id)

    today.day = date(2027, 3, 22)
    assert state(database, case.case_id).state is DeadlineState.DUE_SOON
    today.day = date(2027, 3, 23)  # the last day itself is not late
    assert not state(database, case.case_id).overdue
    assert not overdue_in_sql(database, case.case_id)
    today.day = date(2027, 3, 24)
    assert state(database, case.case_id).overdue
    assert overdue_in_sql(database, case.case_id)  # the SQL rule agrees

    # The investigation unit, now the holder, records the procuracy's notice late.
    run(
        database,
        settings,
        điều_tra,
        case.case_id,
        lambda db, store, actor, c: referrals.record_procuracy_notice(
            db, actor, c, date(2027, 3, 5), clock.today()
        ),
    )
    with pytest.raises(ReferralError) as again:
        run(
            database,
            settings,
            điều_tra,
            case.case_id,
            lambda db, store, actor, c: referrals.record_procuracy_notice(
                db, actor, c, date(2027, 3, 6), clock.today()
            ),
        )
    assert again.value.code == "procuracy_already_recorded"

    # An extension beyond 2 + 2 months is refused, naming the last day the law allows.
    with pytest.raises(ReferralError) as beyond:
        run(
            database,
            settings,
            điều_tra,
            case.case_id,
            lambda db, store, actor, c: referrals.extend(db, actor, c, date(2027, 7, 6)),
        )
    assert beyond.value.code == "extension_beyond_law" and beyond.value.day == date(2027, 7, 5)
    run(
        database,
        settings,
        điều_tra,
        case.case_id,
        lambda db, store, actor, c: referrals.extend(db, actor, c, date(2027, 5, 3)),
    )
    extended = state(database, case.case_id)
    assert extended.due == date(2027, 5, 3) and not extended.overdue
    assert not overdue_in_sql(database, case.case_id)

    today.day = date(2027, 4, 20)
    run(
        database,
        settings,
        điều_tra,
        case.case_id,
        lambda db, store, actor, c: referrals.record_result(
            db, actor, c, "prosecuted", date(2027, 4, 19), clock.today()
        ),
    )
    done = state(database, case.case_id)
    assert done.referral.result == "prosecuted" and done.referral.result_day == date(2027, 4, 19)
    assert done.state is DeadlineState.MET
    today.day = date(2027, 6, 1)
    assert not state(database, case.case_id).overdue and not overdue_in_sql(database, case.case_id)
    with pytest.raises(ReferralError) as twice:
        run(
            database,
            settings,
            điều_tra,
            case.case_id,
            lambda db, store, actor, c: referrals.record_result(
                db, actor, c, "not_prosecuted", clock.today(), clock.today()
            ),
        )
    assert twice.value.code == "result_recorded"
    assert [a for a in actions_of(database, case.case_id) if a.startswith("referral.")] == [
        "referral.sent",
        "referral.procuracy_notified",
        "referral.extended",
        "referral.result_recorded",
    ]


@pytest.mark.parametrize(
    ("details", "code"),
    [
        (ReferralDetails("công_an_khác", "125/TTr-NV", DISPATCHED), "unknown_agency"),
        (ReferralDetails(AGENCY, "  ", DISPATCHED), "dispatch_number_required"),
        (ReferralDetails(AGENCY, "125/TTr-NV", None), "day_required"),
        (ReferralDetails(AGENCY, "125/TTr-NV", DISPATCHED + timedelta(days=1)), "day_in_future"),
        (
            ReferralDetails(AGENCY, "125/TTr-NV", DISPATCHED, DISPATCHED - timedelta(days=1)),
            "day_before_dispatch",
        ),
        (None, "referral_required"),
    ],
)
def test_a_referral_without_its_facts_changes_nothing(
    database: Database,
    settings: Settings,
    today: Clock,
    case: SubmittedCase,
    đạt: ReviewerKeys,
    details: ReferralDetails | None,
    code: str,
) -> None:
    before = actions_of(database, case.case_id)
    with pytest.raises(ReferralError) as refused:
        run(
            database,
            settings,
            đạt,
            case.case_id,
            lambda db, store, actor, c: actions.route_with_reason(
                db, store, actor, c, "investigation", REASON, details, today=clock.today()
            ),
        )
    assert refused.value.code == code
    with database.read_session() as db:
        row = db.get(Case, case.case_id)
        assert row is not None and row.status == "new"
        assert db.scalar(select(func.count()).select_from(Referral)) == 0
    assert actions_of(database, case.case_id) == before


def test_a_return_goes_back_to_inspection_and_a_new_referral_becomes_current(
    database: Database,
    settings: Settings,
    today: Clock,
    case: SubmittedCase,
    đạt: ReviewerKeys,
    điều_tra: ReviewerKeys,
    thanh_tra: ReviewerKeys,
) -> None:
    refer(database, settings, đạt, case.case_id)
    # While the agency owes its result, the case cannot be routed away by hand.
    with pytest.raises(ReferralError) as open_:
        run(
            database,
            settings,
            điều_tra,
            case.case_id,
            lambda db, store, actor, c: actions.route_with_reason(
                db, store, actor, c, "inspection", "Chuyển lại"
            ),
        )
    assert open_.value.code == "open_referral"
    # A return must go to an inspection unit.
    with pytest.raises(ReferralError):
        run(
            database,
            settings,
            điều_tra,
            case.case_id,
            lambda db, store, actor, c: actions.return_to_inspection(
                db, store, actor, c, "intake", "Trả lại", clock.today(), clock.today()
            ),
        )
    today.day = date(2027, 3, 15)
    run(
        database,
        settings,
        điều_tra,
        case.case_id,
        lambda db, store, actor, c: actions.return_to_inspection(
            db,
            store,
            actor,
            c,
            "inspection",
            "Không có dấu hiệu tội phạm; trả lại cho Thanh tra thành phố",
            date(2027, 3, 14),
            clock.today(),
        ),
    )
    with database.read_session() as db:
        row = db.get(Case, case.case_id)
        inspection = db.scalar(select(Unit.id).where(Unit.slug == "inspection"))
        assert row is not None and row.status == "routed_inspection"
        assert row.holding_unit_id == inspection
    returned = state(database, case.case_id)
    assert returned.referral.result == "returned" and returned.state is DeadlineState.MET
    # The investigation unit lost the case; the inspection refers it again later.
    with pytest.raises(AccessDenied):
        run(
            database,
            settings,
            điều_tra,
            case.case_id,
            lambda db, store, actor, c: referrals.record_procuracy_notice(
                db, actor, c, clock.today(), clock.today()
            ),
        )
    today.day = date(2027, 4, 1)
    run(
        database,
        settings,
        thanh_tra,
        case.case_id,
        lambda db, store, actor, c: actions.route_with_reason(
            db,
            store,
            actor,
            c,
            "investigation",
            "Có tài liệu mới",
            ReferralDetails("anninh_dt_can_tho", "31/TTr-NV", date(2027, 4, 1)),
            today=clock.today(),
        ),
    )
    second = state(database, case.case_id)
    assert second.referral.agency == "anninh_dt_can_tho"
    assert second.referral.verification_due_day == date(2027, 4, 21)
    with database.read_session() as db:
        assert [r.result for r in referrals.referrals_of(db, case.case_id)] == ["returned", None]
        # The SQL form of "current" agrees (the dashboard counts with it).
        current = db.scalars(select(Referral).where(referrals.current_referral_clause())).all()
        assert [r.agency for r in current] == ["anninh_dt_can_tho"]


def test_a_closed_case_is_not_overdue_on_its_referral(
    database: Database,
    settings: Settings,
    today: Clock,
    case: SubmittedCase,
    đạt: ReviewerKeys,
    điều_tra: ReviewerKeys,
) -> None:
    refer(database, settings, đạt, case.case_id)
    today.day = date(2027, 4, 1)
    assert state(database, case.case_id).overdue  # positive control
    run(
        database,
        settings,
        điều_tra,
        case.case_id,
        lambda db, store, actor, c: actions.close_with_message(
            db, store, actor, c, "duplicate", 365, ""
        ),
    )
    assert state(database, case.case_id).state is DeadlineState.MET
    assert not overdue_in_sql(database, case.case_id)


def test_only_the_holding_unit_records_the_result(
    database: Database,
    settings: Settings,
    today: Clock,
    case: SubmittedCase,
    đạt: ReviewerKeys,
    thanh_tra: ReviewerKeys,
) -> None:
    refer(database, settings, đạt, case.case_id)
    for who in (đạt, thanh_tra):  # the router lost the case; another unit never had it
        with pytest.raises(AccessDenied):
            run(
                database,
                settings,
                who,
                case.case_id,
                lambda db, store, actor, c: referrals.record_result(
                    db, actor, c, "suspended", clock.today(), clock.today()
                ),
            )
    assert state(database, case.case_id).referral.result is None
