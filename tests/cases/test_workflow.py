"""Triage and routing: each transition checks who acts, and the key wraps follow."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import audit
from app.cases import workflow
from app.cases.access import AccessDenied, Actor, load_actor, readable_case
from app.cases.grants import fulfil_pending_grants, queue_grants_for_member
from app.cases.keys import try_unwrap
from app.database import Database
from app.installation import UnknownUnitError
from app.models import AuditEvent, Case, CaseKey, Membership, Unit
from app.models.vocabulary import Role
from config import Settings
from crypto import Identity, derive_receipt_keys
from tests.factories import ReviewerKeys, SubmittedCase, make_reviewer, submit_case

pytestmark = pytest.mark.both_backends


def actor(database: Database, who: ReviewerKeys) -> Actor:
    with database.read_session() as db:
        return load_actor(db, who.id, who.identity)


def wraps(database: Database, case_id: str) -> dict[str, bytes]:
    with database.read_session() as db:
        return {
            k.kind: k.wrap for k in db.scalars(select(CaseKey).where(CaseKey.case_id == case_id))
        }


def can_open(database: Database, case_id: str, identity: Identity) -> dict[str, bool]:
    return {
        kind: try_unwrap(w, [identity]) is not None for kind, w in wraps(database, case_id).items()
    }


@pytest.fixture
def intake_member(database: Database) -> ReviewerKeys:
    return make_reviewer(database, "intake")


@pytest.fixture
def inspector(database: Database) -> ReviewerKeys:
    return make_reviewer(database, "inspection")


@pytest.fixture
def case(database: Database, settings: Settings, intake_member: ReviewerKeys) -> SubmittedCase:
    return submit_case(database, settings)


def _act(database: Database, who: ReviewerKeys, case_id: str, fn: object, *args: object) -> None:
    with database.session() as db:
        target = db.get(Case, case_id)
        fn(db, actor(database, who), target, *args)  # type: ignore[operator]


def test_routing_moves_the_keys_to_the_target_unit(
    database: Database,
    settings: Settings,
    case: SubmittedCase,
    intake_member: ReviewerKeys,
    inspector: ReviewerKeys,
    recovery_identity: Identity,
) -> None:
    assert can_open(database, case.case_id, intake_member.identity) == {"case": True, "staff": True}
    assert can_open(database, case.case_id, inspector.identity) == {"case": False, "staff": False}
    _act(database, intake_member, case.case_id, workflow.acknowledge)
    _act(
        database,
        intake_member,
        case.case_id,
        workflow.route,
        "inspection",
        "Dấu hiệu sai phạm hành chính",
    )
    with database.read_session() as db:
        routed = db.get(Case, case.case_id)
        assert routed is not None and routed.status == "routed_inspection"
        assert db.get(Unit, routed.holding_unit_id).slug == "inspection"  # type: ignore[union-attr]
    assert can_open(database, case.case_id, inspector.identity) == {"case": True, "staff": True}
    assert can_open(database, case.case_id, intake_member.identity) == {
        "case": False,
        "staff": False,
    }
    assert can_open(database, case.case_id, recovery_identity) == {"case": True, "staff": True}
    salt = __import__("config").load_secrets(settings.secrets_file).receipt_salt
    reporter = derive_receipt_keys(
        case.receipt, salt, __import__("crypto").ReceiptKdfParams(64, 1, 1)
    ).identity
    assert can_open(database, case.case_id, reporter) == {"case": True, "staff": False}
    # And the SQL rule agrees with the keys.
    with database.read_session() as db:
        readable_case(db, actor(database, inspector), case.case_id)
        with pytest.raises(AccessDenied):
            readable_case(db, actor(database, intake_member), case.case_id)
        events = db.scalars(
            select(AuditEvent.action).where(AuditEvent.case_id == case.case_id)
        ).all()
        assert "case.routed" in events
        assert audit.verify_chain(db)[1] is None


def test_routing_is_refused_to_an_excluded_unit(
    database: Database, settings: Settings, intake_member: ReviewerKeys
) -> None:
    excluded_case = submit_case(database, settings, excluded=("inspection",))
    with pytest.raises(workflow.ExcludedUnitError):
        _act(database, intake_member, excluded_case.case_id, workflow.route, "inspection", "lý do")
    with database.read_session() as db:
        assert db.get(Case, excluded_case.case_id).status == "new"  # type: ignore[union-attr]
        slugs = [u.slug for u in workflow.route_targets(db, db.get(Case, excluded_case.case_id))]  # type: ignore[arg-type]
    assert slugs == ["investigation"]


@pytest.mark.parametrize(
    ("slug", "reason", "error"),
    [
        ("inspection", "   ", workflow.ReasonRequiredError),
        ("oversight", "lý do", UnknownUnitError),
        ("nowhere", "lý do", UnknownUnitError),
    ],
)
def test_bad_routing_changes_nothing(
    database: Database,
    case: SubmittedCase,
    intake_member: ReviewerKeys,
    slug: str,
    reason: str,
    error: type[Exception],
) -> None:
    before = wraps(database, case.case_id)
    with pytest.raises(error):
        _act(database, intake_member, case.case_id, workflow.route, slug, reason)
    assert wraps(database, case.case_id) == before


def test_only_readers_act_on_a_case(
    database: Database, case: SubmittedCase, inspector: ReviewerKeys
) -> None:
    with pytest.raises(AccessDenied):
        _act(database, inspector, case.case_id, workflow.acknowledge)
    observer = make_reviewer(database, "intake", role=Role.OBSERVER)
    with pytest.raises(AccessDenied):
        _act(database, observer, case.case_id, workflow.acknowledge)
    assert can_open(database, case.case_id, observer.identity) == {"case": False, "staff": False}


def test_recusal_removes_access_in_sql_and_in_keys(
    database: Database, case: SubmittedCase, intake_member: ReviewerKeys
) -> None:
    colleague = make_reviewer(database, "intake")
    with database.session() as db:
        queue_grants_for_member(
            db, colleague.id, db.scalars(select(Unit.id).where(Unit.slug == "intake")).one(), "test"
        )
        fulfil_pending_grants(db, [intake_member.identity], actor_label="test")
    assert can_open(database, case.case_id, colleague.identity)["case"]
    _act(database, colleague, case.case_id, workflow.recuse)
    assert can_open(database, case.case_id, colleague.identity) == {"case": False, "staff": False}
    assert can_open(database, case.case_id, intake_member.identity)["case"]
    with database.read_session() as db, pytest.raises(AccessDenied):
        readable_case(db, actor(database, colleague), case.case_id)


def test_close_and_reopen(
    database: Database, settings: Settings, case: SubmittedCase, intake_member: ReviewerKeys
) -> None:
    with database.session() as db:
        workflow.close(
            db, actor(database, intake_member), db.get(Case, case.case_id), "duplicate", 365
        )  # type: ignore[arg-type]
    with database.read_session() as db:
        closed = db.get(Case, case.case_id)
        assert closed is not None and closed.status == "closed" and closed.resolution == "duplicate"
        assert closed.purge_after is not None
    with pytest.raises(AccessDenied):
        _act(database, intake_member, case.case_id, workflow.reopen)
    admin = make_reviewer(database, "intake", role=Role.ADMIN)
    with database.session() as db:
        queue_grants_for_member(db, admin.id, db.get(Case, case.case_id).holding_unit_id, "t")  # type: ignore[union-attr]
    _act(database, admin, case.case_id, workflow.reopen)
    with database.read_session() as db:
        assert db.get(Case, case.case_id).status == "triage"  # type: ignore[union-attr]


def test_cases_that_arrived_before_any_reviewer_are_granted_with_the_recovery_key(
    database: Database, settings: Settings, recovery_identity: Identity
) -> None:
    lonely = submit_case(database, settings)  # nobody in intake yet: recovery key only
    newcomer = make_reviewer(database, "intake")
    assert not can_open(database, lonely.case_id, newcomer.identity)["case"]
    with database.session() as db:
        unit_id = db.scalars(select(Unit.id).where(Unit.slug == "intake")).one()
        assert queue_grants_for_member(db, newcomer.id, unit_id, "joined") == 1
        # The newcomer's own key cannot open anything yet: nothing happens.
        assert fulfil_pending_grants(db, [newcomer.identity], actor_label="x") == []
        done = fulfil_pending_grants(db, [recovery_identity], actor_label="cli")
        assert [d.case_id for d in done] == [lonely.case_id]
    assert can_open(database, lonely.case_id, newcomer.identity) == {"case": True, "staff": True}


def test_assign_only_to_a_reader(
    database: Database, case: SubmittedCase, intake_member: ReviewerKeys, inspector: ReviewerKeys
) -> None:
    with pytest.raises(workflow.NotAMemberError):
        _act(database, intake_member, case.case_id, workflow.assign, inspector.id)
    _act(database, intake_member, case.case_id, workflow.assign, intake_member.id)
    with database.read_session() as db:
        assert db.get(Case, case.case_id).assignee_id == intake_member.id  # type: ignore[union-attr]
        assert db.scalar(select(func.count()).select_from(Membership)) >= 2
