"""time at rest: day-only blobs, random message ids, held reporter events and notices

- ``blobs.created_at`` (a timestamp) becomes ``blobs.created_day`` (a date). Existing
  rows keep the UTC date of their timestamp (a migration does not know the
  installation's time zone; the day is not shown anywhere).
- ``case_keys.updated_at`` goes: rewraps are in the audit log.
- ``messages.id`` (and ``blobs.message_id``) become 64-bit and are no longer filled by a
  sequence: new ids are random (app.models.Message). Existing messages keep their
  sequential ids, which are below 2**32 and mark them as older (app.cases.thread). On
  SQLite the column stays INTEGER (the rowid), which already holds 64 bits.
- ``held_audit_events`` and ``held_notifications``: what a reporter's action records,
  held until its day is over (app.audit, app.notifications.outbox).

Downgrading refuses while anything is held (run ``audit release`` the next day first),
and gives random message ids new sequential ones (PostgreSQL).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "held_audit_events",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_audit_events")),
    )
    with op.batch_alter_table("held_audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_held_audit_events_case_id"), ["case_id"])
        batch_op.create_index(batch_op.f("ix_held_audit_events_day"), ["day"])

    op.create_table(
        "held_notifications",
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('new_case', 'reporter_message', 'overdue')",
            name=op.f("ck_held_notifications_kind"),
        ),
        sa.PrimaryKeyConstraint("case_id", "kind", "day", name=op.f("pk_held_notifications")),
    )

    with op.batch_alter_table("blobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_day", sa.Date(), nullable=True))
    if _is_postgresql():
        op.execute("UPDATE blobs SET created_day = CAST(created_at AS DATE)")
    else:
        op.execute("UPDATE blobs SET created_day = date(created_at)")
    with op.batch_alter_table("blobs", schema=None) as batch_op:
        batch_op.alter_column("created_day", existing_type=sa.Date(), nullable=False)
        batch_op.drop_column("created_at")

    with op.batch_alter_table("case_keys", schema=None) as batch_op:
        batch_op.drop_column("updated_at")

    if _is_postgresql():
        # The FK column first, then the key; then the sequence goes with its default.
        op.alter_column("blobs", "message_id", type_=sa.BigInteger(), existing_nullable=True)
        op.alter_column(
            "messages",
            "id",
            type_=sa.BigInteger(),
            server_default=None,
            existing_nullable=False,
        )
        op.execute("DROP SEQUENCE IF EXISTS messages_id_seq")


def downgrade() -> None:
    bind = op.get_bind()
    counts = {
        "held_audit_events": "SELECT COUNT(*) FROM held_audit_events",
        "held_notifications": "SELECT COUNT(*) FROM held_notifications",
    }
    for table, query in counts.items():
        if bind.execute(sa.text(query)).scalar():
            raise RuntimeError(
                f"{table} holds rows: run `flask --app wsgi:review_app audit release` the "
                "day after the last reporter action, then downgrade"
            )

    if _is_postgresql():
        op.execute("CREATE SEQUENCE messages_id_seq OWNED BY messages.id")
        op.execute(
            "SELECT setval('messages_id_seq', "
            "COALESCE((SELECT MAX(id) FROM messages WHERE id < 4294967296), 0) + 1, "
            "false)"
        )
        # Random ids (>= 2**32) do not fit the old INTEGER column: renumber them.
        op.drop_constraint("fk_blobs_message_id_messages", "blobs", type_="foreignkey")
        op.execute(
            "CREATE TEMPORARY TABLE message_renumbering ON COMMIT DROP AS "
            "SELECT id AS old_id, nextval('messages_id_seq') AS new_id FROM ("
            "SELECT id FROM messages WHERE id >= 4294967296 ORDER BY created_at, id"
            ") AS ordered"
        )
        op.execute(
            "UPDATE blobs SET message_id = r.new_id FROM message_renumbering r "
            "WHERE blobs.message_id = r.old_id"
        )
        op.execute(
            "UPDATE messages SET id = r.new_id FROM message_renumbering r "
            "WHERE messages.id = r.old_id"
        )
        op.alter_column(
            "messages",
            "id",
            type_=sa.Integer(),
            server_default=sa.text("nextval('messages_id_seq'::regclass)"),
            existing_nullable=False,
        )
        op.alter_column("blobs", "message_id", type_=sa.Integer(), existing_nullable=True)
        op.create_foreign_key(
            "fk_blobs_message_id_messages",
            "blobs",
            "messages",
            ["message_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("case_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE case_keys SET updated_at = CURRENT_TIMESTAMP")
    with op.batch_alter_table("case_keys", schema=None) as batch_op:
        batch_op.alter_column("updated_at", existing_type=sa.DateTime(), nullable=False)

    with op.batch_alter_table("blobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_at", sa.DateTime(), nullable=True))
    if _is_postgresql():
        op.execute("UPDATE blobs SET created_at = CAST(created_day AS TIMESTAMP)")
    else:
        op.execute("UPDATE blobs SET created_at = datetime(created_day)")
    with op.batch_alter_table("blobs", schema=None) as batch_op:
        batch_op.alter_column("created_at", existing_type=sa.DateTime(), nullable=False)
        batch_op.drop_column("created_day")

    op.drop_table("held_notifications")
    with op.batch_alter_table("held_audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_held_audit_events_day"))
        batch_op.drop_index(batch_op.f("ix_held_audit_events_case_id"))
    op.drop_table("held_audit_events")
