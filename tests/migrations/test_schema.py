"""Migrations bring an empty database to head, agree with the models, and go back down."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from app import schema
from app.database import Database, make_engine
from app.models import Base

pytestmark = pytest.mark.both_backends


def _diff(database_url: str) -> list[object]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_upgrade_from_empty_matches_the_models(database_url: str, settings: object) -> None:
    engine = make_engine(database_url)
    schema.upgrade(engine)
    assert schema.is_at_head(engine)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert _diff(database_url) == []


def test_downgrade_to_base_and_up_again(database_url: str, settings: object) -> None:
    engine = make_engine(database_url)
    schema.upgrade(engine)
    schema.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    schema.upgrade(engine)
    assert schema.is_at_head(engine)
    engine.dispose()
    assert _diff(database_url) == []


def test_sqlite_pragmas(database: Database, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite pragmas")
    with database.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_0005_keeps_every_row_and_gives_random_ids_back_on_the_way_down(
    database_url: str, settings: object, backend: str
) -> None:
    """Upgrading rebuilds ``blobs`` and ``case_keys`` (SQLite batch mode): a rebuild with
    foreign keys on would cascade-delete the notes that point at blobs. Downgrading gives
    random message ids sequential ones again (PostgreSQL's INTEGER cannot hold them)."""
    from datetime import date, datetime

    from sqlalchemy import MetaData, insert

    engine = make_engine(database_url)
    schema.upgrade(engine, "0004")
    meta = MetaData()
    meta.reflect(bind=engine)
    t = meta.tables
    case_id = "c" * 32
    stamp = datetime(2026, 3, 5, 10, 3, 12)
    with engine.begin() as conn:
        conn.execute(
            insert(t["units"]).values(
                id=1,
                slug="intake",
                kind="intake",
                name_vi="Tiếp nhận",
                name_en="Intake",
                active=True,
                created_at=stamp,
            )
        )
        conn.execute(
            insert(t["cases"]).values(
                id=case_id,
                reference="CT-2026-00001",
                ref_year=2026,
                ref_number=1,
                receipt_lookup_key=b"k" * 32,
                reporter_recipient="age1r",
                case_recipient="age1c",
                staff_recipient="age1s",
                category="waste",
                sector="other",
                status="new",
                priority="normal",
                holding_unit_id=1,
                created_day=date(2026, 3, 5),
                legal_hold=False,
            )
        )
        conn.execute(
            insert(t["case_keys"]).values(
                case_id=case_id, kind="case", wrap=b"w", recipients="age1x", updated_at=stamp
            )
        )
        conn.execute(
            insert(t["messages"]).values(
                id=1, case_id=case_id, author_side="reporter", created_at=stamp
            )
        )
        for blob_id, kind, side, message_id in (
            ("b" * 32, "message", "reporter", 1),
            ("d" * 32, "note", "reviewer", None),
        ):
            conn.execute(
                insert(t["blobs"]).values(
                    id=blob_id,
                    case_id=case_id,
                    kind=kind,
                    author_side=side,
                    message_id=message_id,
                    position=0,
                    storage_key=f"{blob_id[:2]}/{blob_id}.age",
                    size=1,
                    created_at=stamp,
                )
            )
        conn.execute(
            insert(t["notes"]).values(id=1, case_id=case_id, blob_id="d" * 32, created_at=stamp)
        )

    schema.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM notes")).scalar() == 1
        assert conn.execute(text("SELECT COUNT(*) FROM case_keys")).scalar() == 1
        days = conn.execute(text("SELECT created_day FROM blobs")).scalars().all()
        assert {str(day) for day in days} == {"2026-03-05"}
    random_id = 2**62 + 12345
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO messages (id, case_id, author_side, created_at) "
                f"VALUES ({random_id}, '{case_id}', 'reviewer', '2026-03-06 09:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO blobs (id, case_id, kind, author_side, message_id, position, "
                f"storage_key, size, created_day) VALUES ('{'e' * 32}', '{case_id}', 'message', "
                f"'reviewer', {random_id}, 0, 'ee/{'e' * 32}.age', 1, '2026-03-06')"
            )
        )

    schema.downgrade(engine, "0004")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM notes")).scalar() == 1
        ids = conn.execute(text("SELECT id FROM messages ORDER BY id")).scalars().all()
        pointed = conn.execute(
            text(f"SELECT message_id FROM blobs WHERE id = '{'e' * 32}'")
        ).scalar()
    if backend == "postgresql":
        assert ids == [1, 2] and pointed == 2
    else:
        assert ids == [1, random_id] and pointed == random_id
    schema.upgrade(engine)
    engine.dispose()
