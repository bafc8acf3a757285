"""Case references: unique per year, safe under concurrent submissions."""

import threading

import pytest

from app.cases.references import CaseReference, allocate_reference
from app.database import Database

pytestmark = pytest.mark.both_backends


def test_references_count_per_year(database: Database) -> None:
    with database.session() as db:
        assert str(allocate_reference(db, 2026)) == "CT-2026-00001"
        assert str(allocate_reference(db, 2026)) == "CT-2026-00002"
        assert str(allocate_reference(db, 2027)) == "CT-2027-00001"


def test_rolled_back_number_is_given_again(database: Database) -> None:
    with database.session() as db:
        allocate_reference(db, 2026)
    db = database.sessionmaker()
    allocate_reference(db, 2026)
    db.rollback()
    db.close()
    with database.session() as db:
        assert allocate_reference(db, 2026).number == 2


def test_concurrent_allocations_never_collide(database: Database) -> None:
    results: list[CaseReference] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            for _ in range(10):
                with database.session() as db:
                    ref = allocate_reference(db, 2026)
                with lock:
                    results.append(ref)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.number for r in results) == list(range(1, 81))
