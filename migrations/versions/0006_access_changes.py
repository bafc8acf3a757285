"""access change requests; notices of access changes and of the audit head

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = "kind IN ('new_case', 'reporter_message', 'overdue')"
NEW_KINDS = "kind IN ('new_case', 'reporter_message', 'overdue', 'access_change', 'audit_head')"


def upgrade() -> None:
    op.create_table(
        "access_change_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=14), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('membership', 'role', 'password_reset', 'totp_reset', 'recovery_key')",
            name=op.f("ck_access_change_requests_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'refused', 'expired')",
            name=op.f("ck_access_change_requests_status"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["reviewers.id"],
            name=op.f("fk_access_change_requests_decided_by_id_reviewers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["reviewers.id"],
            name=op.f("fk_access_change_requests_requested_by_id_reviewers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["reviewers.id"],
            name=op.f("fk_access_change_requests_target_id_reviewers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_access_change_requests_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_change_requests")),
    )
    with op.batch_alter_table("access_change_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_access_change_requests_status", ["status", "requested_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_change_requests_target_id"), ["target_id"], unique=False
        )

    # SQLite cannot alter a CHECK constraint: the batch copies the table.
    with op.batch_alter_table("notifications", schema=None, recreate="always") as batch_op:
        batch_op.add_column(sa.Column("detail", sa.String(length=200), nullable=True))
        batch_op.drop_constraint(op.f("ck_notifications_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notifications_kind"), NEW_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE kind IN ('access_change', 'audit_head')")
    with op.batch_alter_table("notifications", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint(op.f("ck_notifications_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notifications_kind"), OLD_KINDS)
        batch_op.drop_column("detail")

    with op.batch_alter_table("access_change_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_change_requests_target_id"))
        batch_op.drop_index("ix_access_change_requests_status")

    op.drop_table("access_change_requests")
