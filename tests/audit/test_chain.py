"""The audit log is a hash chain: any change, removal or reordering is detected."""

import pytest
from sqlalchemy import delete, select, update

from app import audit
from app.database import Database
from app.models import AuditEvent

pytestmark = pytest.mark.both_backends


def _fill(database: Database, n: int = 5) -> None:
    with database.session() as db:
        for i in range(n):
            audit.record(db, actor=f"reviewer:{i}", action="case.viewed", case_id=f"{i:032x}")


def test_a_real_log_verifies(database: Database) -> None:
    with database.read_session() as db:
        before, _ = audit.verify_chain(db)  # what init wrote: units, the recovery key
    _fill(database)
    with database.read_session() as db:
        checked, broken = audit.verify_chain(db)
    assert broken is None
    assert checked == before + 5


@pytest.mark.parametrize(
    "tamper",
    [
        update(AuditEvent).where(AuditEvent.seq == 7).values(actor="reviewer:999"),
        update(AuditEvent).where(AuditEvent.seq == 7).values(details='{"note": "x"}'),
        delete(AuditEvent).where(AuditEvent.seq == 7),
    ],
    ids=["changed actor", "changed details", "removed event"],
)
def test_tampering_names_the_first_broken_link(database: Database, tamper: object) -> None:
    _fill(database)
    with database.session() as db:
        db.execute(tamper)  # type: ignore[call-overload]
    with database.read_session() as db:
        checked, broken = audit.verify_chain(db)
    assert broken is not None and broken.seq == 7
    assert checked == 6


def test_rewriting_one_hash_is_still_caught_downstream(database: Database) -> None:
    _fill(database)
    with database.session() as db:
        event = db.scalars(select(AuditEvent).where(AuditEvent.seq == 6)).one()
        event.actor = "someone-else"
        event.hash = audit._event_hash(event)  # a forger recomputes this link...
    with database.read_session() as db:
        _, broken = audit.verify_chain(db)
    assert broken is not None and broken.seq == 7  # ...and the next one no longer chains
