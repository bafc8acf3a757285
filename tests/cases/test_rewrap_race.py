"""Two transactions on PostgreSQL: a routing and a grant being fulfilled, forced to
interleave in the dangerous order. The final wraps must match the final holding unit.

The order: the routing (A) has moved the case to inspection and rewrapped it, but not
committed; the fulfilment (B, the operator's ``grants fulfil`` with the recovery key)
starts now. Without a row lock B reads the holding unit as it was (intake), computes
intake's readers, waits for A's row locks on the wraps, and after A commits writes the
intake readers back: the unit that no longer holds the case keeps its keys. With the
lock (app.cases.grants.lock_case) B waits before reading, then sees inspection.

The test holds A open until PostgreSQL reports B waiting on a lock, so the interleaving
is forced, not hoped for. The second test is the positive control: the same run with
the locks taken out shows the leak.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.cases import grants, workflow
from app.cases.access import load_actor
from app.cases.keys import try_unwrap
from app.database import Database
from app.models import Case, CaseKey, PendingGrant, Unit
from config import Settings
from crypto import Identity
from tests.factories import ReviewerKeys, make_reviewer, submit_case

pytestmark = pytest.mark.postgresql_only
WAIT_SECONDS = 20


def _waiting_on_lock(database: Database, pid: int) -> bool:
    with database.engine.connect() as conn:
        kind = conn.execute(
            text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        ).scalar()
    return kind == "Lock"


def _in_thread(target: Callable[[], None], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            target()
        except BaseException as exc:  # re-raised by the test
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _race(
    database: Database, case_id: str, router: ReviewerKeys, recovery: Identity, inspector_id: int
) -> None:
    routed = threading.Event()
    granter_pid: list[int] = []
    errors: list[BaseException] = []

    def route() -> None:  # transaction A
        with database.sessionmaker() as db:
            case = db.get(Case, case_id)
            assert case is not None
            actor = load_actor(db, router.id, router.identity)
            workflow.route(db, actor, case, "inspection", "Thuộc thẩm quyền thanh tra")
            db.flush()
            routed.set()
            deadline = time.monotonic() + WAIT_SECONDS
            while not (granter_pid and _waiting_on_lock(database, granter_pid[0])):
                if time.monotonic() > deadline:
                    raise AssertionError("the fulfilment never waited on the routing's locks")
                time.sleep(0.02)
            db.commit()  # only now: B is stuck behind A

    def fulfil() -> None:  # transaction B
        assert routed.wait(WAIT_SECONDS)
        # A grant queued meanwhile (a member joined): committed, so B sees it.
        with database.session() as db:
            db.add(PendingGrant(case_id=case_id, reviewer_id=inspector_id, reason="joined"))
        with database.sessionmaker() as db:
            granter_pid.append(int(db.scalar(text("SELECT pg_backend_pid()"))))
            grants.fulfil_pending_grants(db, [recovery], actor_label="cli:vanhanh")
            db.commit()

    threads = [_in_thread(route, errors), _in_thread(fulfil, errors)]
    for thread in threads:
        thread.join(WAIT_SECONDS * 2)
    if errors:
        raise errors[0]
    assert not any(t.is_alive() for t in threads)


def _final(database: Database, case_id: str) -> tuple[str, list[bytes]]:
    with database.read_session() as db:
        case = db.get(Case, case_id)
        assert case is not None
        unit = db.scalar(select(Unit.slug).where(Unit.id == case.holding_unit_id))
        wraps = list(db.scalars(select(CaseKey.wrap).where(CaseKey.case_id == case_id)))
    return str(unit), wraps


@pytest.fixture
def world(
    database: Database, settings: Settings
) -> tuple[ReviewerKeys, ReviewerKeys, ReviewerKeys, str]:
    router = make_reviewer(database, "intake", username="nguyen-thi-dieu")
    colleague = make_reviewer(database, "intake", username="tran-van-uc")
    inspector = make_reviewer(database, "inspection", username="le-thanh-tra")
    case = submit_case(database, settings, details="Hồ sơ đấu thầu, biên bản họp.pdf")
    return router, colleague, inspector, case.case_id


def test_the_final_wraps_follow_the_final_holding_unit(
    database: Database, recovery_identity: Identity, world: Any
) -> None:
    router, colleague, inspector, case_id = world
    _race(database, case_id, router, recovery_identity, inspector.id)
    unit, wraps = _final(database, case_id)
    assert unit == "inspection"
    for wrap in wraps:
        assert try_unwrap(wrap, [inspector.identity]) is not None
        assert try_unwrap(wrap, [router.identity]) is None
        assert try_unwrap(wrap, [colleague.identity]) is None


def test_without_the_lock_the_old_unit_keeps_its_keys(
    database: Database,
    recovery_identity: Identity,
    world: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Positive control: the same forced interleaving, with the row locks removed."""
    router, colleague, inspector, case_id = world

    def no_lock(session: Session, case: Case) -> Case:
        return case

    def no_locks(session: Session, case_ids: Any) -> list[Case]:
        return list(session.scalars(select(Case).where(Case.id.in_(list(case_ids)))))

    monkeypatch.setattr(grants, "lock_case", no_lock)
    monkeypatch.setattr(grants, "_lock_cases", no_locks)
    monkeypatch.setattr(workflow, "lock_case", no_lock)
    _race(database, case_id, router, recovery_identity, inspector.id)
    unit, wraps = _final(database, case_id)
    assert unit == "inspection"
    # The leak: intake (which no longer holds the case) reads it, inspection cannot.
    assert all(try_unwrap(wrap, [colleague.identity]) is not None for wrap in wraps)
    assert all(try_unwrap(wrap, [inspector.identity]) is None for wrap in wraps)
