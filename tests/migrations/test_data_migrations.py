"""Real rows carried through every upgrade, one revision at a time (the per-revision
testers of SecureDrop are the model): for each revision, a database is migrated to the
revision before it, filled with one row of every table that exists there, upgraded
to the revision, and checked.

Every row must still be there with every value it kept a column for, except in the
tables the revision drops on purpose; what the revision changes or adds is checked by
its own function in :data:`CHECKS`. A new revision without an entry there fails
:func:`test_every_revision_has_a_tester`.

Rows go in through reflected tables (the schema of that revision, not today's
models), so the test describes the data an installation of that version really held.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, Table, insert, inspect, select

from app import schema
from app.database import make_engine
from app.models import Base

pytestmark = pytest.mark.both_backends

STAMP = datetime(2026, 3, 5, 10, 3, 12)
CASE_ID = "c" * 32
NOTE_BLOB, MESSAGE_BLOB = "d" * 32, "b" * 32

# One row per table, with the columns of every revision that had them; columns the
# table does not have (yet, or any more) are left out when the row is written.
WORLD: dict[str, list[dict[str, Any]]] = {
    "units": [
        {
            "id": 1,
            "slug": "intake",
            "kind": "intake",
            "name_vi": "Tổ tiếp nhận",
            "name_en": "Intake team",
            "active": True,
            "created_at": STAMP,
        }
    ],
    "reviewers": [
        {
            "id": 1,
            "username": "ngoc.tran",
            "password_hash": "!argon2-hash",
            "totp_secret": None,
            "totp_last_step": 0,
            "public_key": "age1ngoc",
            "wrapped_private_key": b"wrapped",
            "role": "reviewer",
            "failed_logins": 0,
            "active": True,
            "created_at": STAMP,
        }
    ],
    "memberships": [{"reviewer_id": 1, "unit_id": 1, "created_at": STAMP}],
    "recovery_keys": [{"id": 1, "recipient": "age1recovery", "active": True, "created_at": STAMP}],
    "cases": [
        {
            "id": CASE_ID,
            "reference": "CT-2026-00001",
            "ref_year": 2026,
            "ref_number": 1,
            "receipt_lookup_key": b"k" * 32,
            "reporter_recipient": "age1reporter",
            "case_recipient": "age1case",
            "staff_recipient": "age1staff",
            "category": "corruption",
            "sector": "health",
            "status": "triage",
            "priority": "high",
            "holding_unit_id": 1,
            "assignee_id": 1,
            "created_day": date(2026, 3, 5),
            "acknowledged_at": STAMP,
            "acknowledge_due": date(2026, 3, 10),
            "decision_due": date(2026, 4, 4),
            "legal_hold": False,
            # Required from 0008 on (left out before it: the column is not there yet).
            "track": "anonymous",
            # Required from 0009 on (no server default once the column exists).
            "statutory_extensions": 0,
        }
    ],
    "case_reference_counters": [{"year": 2026, "last_number": 1}],
    "case_keys": [
        {
            "id": 1,
            "case_id": CASE_ID,
            "kind": "case",
            "wrap": b"wrap",
            "recipients": "age1ngoc",
            "updated_at": STAMP,
        }
    ],
    "messages": [{"id": 1, "case_id": CASE_ID, "author_side": "reporter", "created_at": STAMP}],
    "blobs": [
        {
            "id": MESSAGE_BLOB,
            "case_id": CASE_ID,
            "kind": "message",
            "author_side": "reporter",
            "message_id": 1,
            "position": 0,
            "storage_key": f"bb/{MESSAGE_BLOB}.age",
            "size": 1,
            "created_at": STAMP,
            "created_day": date(2026, 3, 5),
        },
        {
            "id": NOTE_BLOB,
            "case_id": CASE_ID,
            "kind": "note",
            "author_side": "reviewer",
            "message_id": None,
            "position": 0,
            "storage_key": f"dd/{NOTE_BLOB}.age",
            "size": 1,
            "created_at": STAMP,
            "created_day": date(2026, 3, 5),
        },
    ],
    "notes": [
        {"id": 1, "case_id": CASE_ID, "blob_id": NOTE_BLOB, "author_id": 1, "created_at": STAMP}
    ],
    "audit_events": [
        {
            "seq": 1,
            "created_at": STAMP,
            "actor": "reviewer:1",
            "case_id": CASE_ID,
            "action": "case.viewed",
            "details": "{}",
            "prev_hash": "0" * 64,
            "hash": "a" * 64,
        }
    ],
    "notifications": [
        {
            "id": 1,
            "kind": "overdue",
            "reviewer_id": 1,
            "case_id": CASE_ID,
            "deadline": "acknowledge",
            "created_at": STAMP,
            "not_before": STAMP,
            "attempts": 0,
        }
    ],
    "submission_tickets": [
        {
            "token_hash": b"t" * 32,
            "receipt_lookup_key": b"r" * 32,
            "reporter_recipient": "age1ticket",
            "expires_at": STAMP,
        }
    ],
    "pow_challenges": [{"challenge": "p" * 32, "difficulty": 8, "expires_at": STAMP}],
    "rate_limit_counters": [{"key": "intake:report", "count": 3, "expires_at": STAMP}],
    # From 0011 on (issue 14): a referral, an outcome and one ledger line with its note.
    "referrals": [
        {
            "id": 1,
            "case_id": CASE_ID,
            "agency": "csdt_can_tho",
            "dispatch_number": "125/TTr-NV",
            "dispatch_day": date(2026, 3, 9),
            "procuracy_notified_day": None,
            "verification_due_day": date(2026, 3, 29),
            "extended_due_day": None,
            "result": None,
            "result_day": None,
        }
    ],
    "case_outcomes": [
        {
            "case_id": CASE_ID,
            "concluded_day": date(2026, 4, 1),
            "damage_found_vnd": 1_250_000_000,
            "recovery_recommended_vnd": 900_000_000,
            "administrative_sanctions": 2,
        }
    ],
    "outcome_disciplines": [{"case_id": CASE_ID, "form": "warning", "people": 3}],
    "recovery_entries": [
        {
            "id": 1,
            "case_id": CASE_ID,
            "entry_day": date(2026, 4, 20),
            "amount_vnd": 300_000_000,
            "corrects_id": None,
            "note_blob_id": NOTE_BLOB,
            "recorded_by": 1,
        }
    ],
}


def _tables(engine: Engine) -> dict[str, Table]:
    meta = MetaData()
    meta.reflect(bind=engine)
    return dict(meta.tables)


# Columns of WORLD that a later revision dropped: the only ones a row may name that are
# in neither this revision's table nor today's (so a misspelt column cannot hide).
HISTORICAL = {"blobs": {"created_at"}, "case_keys": {"updated_at"}}


def _fill(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Write the rows of :data:`WORLD` that fit this revision's tables; return them."""
    tables = _tables(engine)
    written: dict[str, list[dict[str, Any]]] = {}
    with engine.begin() as conn:
        for name, rows in WORLD.items():  # in dependency order
            if name not in tables:
                continue
            columns = set(tables[name].columns.keys())
            if name in Base.metadata.tables:
                known = columns | set(Base.metadata.tables[name].columns.keys())
                unknown = {k for row in rows for k in row} - known - HISTORICAL.get(name, set())
                assert not unknown, f"WORLD names columns {name} never had: {unknown}"
            fitted = [{k: v for k, v in row.items() if k in columns} for row in rows]
            conn.execute(insert(tables[name]), fitted)
            written[name] = fitted
    return written


def _read(conn: Connection, table: Table, row: dict[str, Any]) -> dict[str, Any] | None:
    key = inspect(table).primary_key
    where = [column == row[column.name] for column in key]
    found = conn.execute(select(table).where(*where)).mappings().first()
    return dict(found) if found is not None else None


# -- what each revision changes ------------------------------------------------------------


def _check_0002(conn: Connection, tables: dict[str, Table]) -> None:
    """A new table only (rate-limit counters)."""
    assert "rate_limit_counters" in tables


def _check_0003(conn: Connection, tables: dict[str, Table]) -> None:
    """Reviewers gain an e-mail address, empty for the ones already there."""
    reviewer = conn.execute(select(tables["reviewers"])).mappings().one()
    assert reviewer["email"] is None and reviewer["username"] == "ngoc.tran"


def _check_0004(conn: Connection, tables: dict[str, Table]) -> None:
    """New inbox indexes on cases; the cases stay."""
    index_names = {ix.name for ix in tables["cases"].indexes}
    assert "ix_cases_inbox" in index_names


def _check_0005(conn: Connection, tables: dict[str, Table]) -> None:
    """Blobs keep only the day they were made; key wraps lose their time. Rebuilding the
    blobs table must not cascade-delete the note that points at one."""
    days = dict(conn.execute(select(tables["blobs"].c.id, tables["blobs"].c.created_day)).all())
    assert {str(day) for day in days.values()} == {"2026-03-05"} and len(days) == 2
    assert "created_at" not in tables["blobs"].columns
    assert "updated_at" not in tables["case_keys"].columns
    assert "held_audit_events" in tables and "held_notifications" in tables


def _check_0006(conn: Connection, tables: dict[str, Table]) -> None:
    """The notifications table is rebuilt for new kinds and a detail column."""
    notification = conn.execute(select(tables["notifications"])).mappings().one()
    assert notification["kind"] == "overdue" and notification["detail"] is None
    assert "access_change_requests" in tables


def _check_0007(conn: Connection, tables: dict[str, Table]) -> None:
    """Tickets, stored challenges and counters are dropped on purpose (the intake's
    tokens became stateless); spent challenges get a table."""
    for gone in ("submission_tickets", "pow_challenges", "rate_limit_counters"):
        assert gone not in tables
    assert "spent_pow_challenges" in tables


def _check_0008(conn: Connection, tables: dict[str, Table]) -> None:
    """Cases gain a track; every case reported before it was anonymous."""
    assert conn.execute(select(tables["cases"].c.track)).scalars().all() == ["anonymous"]


def _check_0009(conn: Connection, tables: dict[str, Table]) -> None:
    """Cases gain the statutory state, empty for the cases already there (no decision,
    no extension); the notices get a table."""
    cases = tables["cases"]
    row = (
        conn.execute(
            select(
                cases.c.statutory_decision,
                cases.c.statutory_decision_day,
                cases.c.acceptance_decision_number,
                cases.c.statutory_extensions,
                cases.c.statutory_concluded_day,
            )
        )
        .mappings()
        .one()
    )
    assert dict(row) == {
        "statutory_decision": None,
        "statutory_decision_day": None,
        "acceptance_decision_number": None,
        "statutory_extensions": 0,
        "statutory_concluded_day": None,
    }
    assert "case_notices" in tables


def _check_0010(conn: Connection, tables: dict[str, Table]) -> None:
    """The sealed identity's tables arrive empty: the cases already there are
    anonymous and have no identity, no custodian is designated by the upgrade."""
    for name in ("unit_custodians", "sealed_identities", "identity_unseal_requests"):
        assert name in tables
        assert conn.execute(select(tables[name])).all() == []
    assert conn.execute(select(tables["cases"].c.track)).scalars().all() == ["anonymous"]


def _check_0011(conn: Connection, tables: dict[str, Table]) -> None:
    """Referrals, outcomes and the recovery ledger arrive empty: a case closed before
    the upgrade has no outcome figures and recovered nothing that anyone recorded."""
    for name in ("referrals", "case_outcomes", "outcome_disciplines", "recovery_entries"):
        assert name in tables
        assert conn.execute(select(tables[name])).all() == []
    assert conn.execute(select(tables["cases"].c.id)).scalars().all() == [CASE_ID]


CHECKS: dict[str, Callable[[Connection, dict[str, Table]], None]] = {
    "0002": _check_0002,
    "0003": _check_0003,
    "0004": _check_0004,
    "0005": _check_0005,
    "0006": _check_0006,
    "0007": _check_0007,
    "0008": _check_0008,
    "0009": _check_0009,
    "0010": _check_0010,
    "0011": _check_0011,
}
# Tables a revision drops with their rows, on purpose.
DROPPED = {"0007": {"submission_tickets", "pow_challenges", "rate_limit_counters"}}


def _revisions() -> list[tuple[str, str]]:
    """(revision, the one before it) for every revision after the first, oldest first."""
    script = ScriptDirectory(str(schema.MIGRATIONS_DIR))
    pairs = [
        (rev.revision, rev.down_revision)
        for rev in script.walk_revisions()
        if isinstance(rev.down_revision, str)
    ]
    return sorted(pairs)


def test_every_revision_has_a_tester() -> None:
    revisions = {revision for revision, _ in _revisions()}
    assert revisions, "no revisions found"
    assert revisions == set(CHECKS), "add a _check_<revision> for the new migration"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize(("revision", "previous"), _revisions(), ids=lambda v: str(v))
def test_rows_survive_the_upgrade(engine: Engine, revision: str, previous: str) -> None:
    schema.upgrade(engine, previous)
    written = _fill(engine)
    assert written["cases"] and written["units"]  # the world is not empty

    schema.upgrade(engine, revision)

    tables = _tables(engine)
    with engine.connect() as conn:
        for name, rows in written.items():
            if name in DROPPED.get(revision, set()):
                continue
            assert name in tables, f"{revision} dropped {name} with its rows"
            kept = set(tables[name].columns.keys())
            for row in rows:
                found = _read(conn, tables[name], row)
                assert found is not None, f"{revision} lost a row of {name}: {row}"
                for column, value in row.items():
                    if column in kept:
                        assert found[column] == value, (revision, name, column)
        CHECKS[revision](conn, tables)
    # And onwards to head, where today's code reads them.
    schema.upgrade(engine)
    assert schema.is_at_head(engine)
