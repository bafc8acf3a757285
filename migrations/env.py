"""Alembic environment: runs against the engine handed over by app.schema."""

from __future__ import annotations

from alembic import context

from app.models import Base
from app.models.base import UTCDateTime


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Migrations must not import model code that may change later: a UTC timestamp is
    # stored as a plain DateTime, so render it as one.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


config = context.config
engine = config.attributes.get("engine")
if engine is None:  # `alembic` run by hand: take the URL from the installation settings
    from app.database import make_engine
    from config import load_settings

    engine = make_engine(load_settings().database_url)

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a SQLite table by copying it and dropping the original. With
        # foreign keys on, that DROP deletes every row first and fires ON DELETE CASCADE:
        # rebuilding ``blobs`` would delete every note. The pragma only takes effect
        # outside a transaction, so it is set on the driver connection before Alembic
        # begins one, and checked and restored after the commit.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=sqlite,
        compare_type=True,
        compare_server_default=True,
        render_item=render_item,
    )
    try:
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    finally:
        if sqlite:
            driver = connection.connection.driver_connection
            assert driver is not None
            driver.execute("PRAGMA foreign_keys=ON")
    if sqlite:
        broken = driver.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migration left rows that break foreign keys: {broken[:5]}")
