"""Constraints live in the database, not only in Python."""

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from app.database import Database
from app.models import Case, CaseKey, Unit


def _case(unit_id: int, **overrides: object) -> Case:
    values: dict[str, object] = {
        "id": "a" * 32,
        "reference": "CT-2026-00001",
        "ref_year": 2026,
        "ref_number": 1,
        "receipt_lookup_key": b"\x01" * 32,
        "reporter_recipient": "age1x",
        "case_recipient": "age1y",
        "staff_recipient": "age1z",
        "category": "corruption",
        "sector": "health",
        "holding_unit_id": unit_id,
        "created_day": date(2026, 11, 26),
    }
    values.update(overrides)
    return Case(**values)


def _intake_id(database: Database) -> int:
    with database.read_session() as db:
        return db.scalars(select(Unit.id).where(Unit.slug == "intake")).one()


pytestmark = pytest.mark.both_backends


def test_unknown_status_is_refused_by_the_database(database: Database) -> None:
    unit = _intake_id(database)
    with pytest.raises(IntegrityError), database.session() as db:
        db.add(_case(unit, status="lost"))


def test_unknown_category_is_refused_by_the_database(database: Database) -> None:
    unit = _intake_id(database)
    with pytest.raises(IntegrityError), database.session() as db:
        db.add(_case(unit, category="gossip"))


def test_receipt_lookup_key_is_unique(database: Database) -> None:
    unit = _intake_id(database)
    with database.session() as db:
        db.add(_case(unit))
    with pytest.raises(IntegrityError), database.session() as db:
        db.add(_case(unit, id="b" * 32, reference="CT-2026-00002", ref_number=2))


def test_deleting_a_case_removes_its_key_wraps(database: Database) -> None:
    unit = _intake_id(database)
    with database.session() as db:
        case = _case(unit)
        db.add(case)
        db.flush()
        db.add(CaseKey(case_id=case.id, kind="case", wrap=b"age", recipients="age1x"))
    with database.session() as db:
        db.execute(text("DELETE FROM cases"))
    with database.read_session() as db:
        assert db.scalars(select(CaseKey)).all() == []


def test_a_unit_holding_cases_cannot_be_deleted(database: Database) -> None:
    unit = _intake_id(database)
    with database.session() as db:
        db.add(_case(unit))
    with pytest.raises(IntegrityError), database.session() as db:
        db.execute(text("DELETE FROM units WHERE slug = 'intake'"))
