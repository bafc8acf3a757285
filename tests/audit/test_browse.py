"""What an administrator sees when filtering the audit log."""

from app import audit
from app.database import Database


def _record(database: Database) -> None:
    with database.session() as db:
        for i in range(6):
            audit.record(
                db,
                actor=f"reviewer:{i % 2}",
                action="case.viewed" if i % 3 else "case.routed",
                case_id=f"{i:032x}",
            )


def test_filters_narrow_the_log_newest_first(database: Database) -> None:
    _record(database)
    with database.read_session() as db:
        viewed = audit.browse(db, audit.AuditFilter(action="case.viewed"), limit=100)
        by_one = audit.browse(db, audit.AuditFilter(actor="reviewer:1"), limit=100)
        one_case = audit.browse(db, audit.AuditFilter(case_id=f"{4:032x}"), limit=100)
        actions = audit.recorded_actions(db)
    assert [e.case_id for e in viewed] == [f"{i:032x}" for i in (5, 4, 2, 1)]
    assert {e.actor for e in by_one} == {"reviewer:1"} and len(by_one) == 3
    assert [e.case_id for e in one_case] == [f"{4:032x}"]
    assert {"case.viewed", "case.routed"} <= set(actions)


def test_paging_continues_before_the_oldest_shown(database: Database) -> None:
    _record(database)
    with database.read_session() as db:
        first = audit.browse(db, audit.AuditFilter(action="case.viewed"), limit=2)
        rest = audit.browse(
            db, audit.AuditFilter(action="case.viewed", before=first[-1].seq), limit=2
        )
    assert [e.case_id for e in first + rest] == [f"{i:032x}" for i in (5, 4, 2, 1)]
