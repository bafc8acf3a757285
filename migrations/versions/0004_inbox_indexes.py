"""inbox indexes

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_inbox"))
        batch_op.create_index(
            "ix_cases_inbox", ["holding_unit_id", "status", "created_day", "id"], unique=False
        )
        batch_op.create_index(
            "ix_cases_inbox_deadline",
            ["holding_unit_id", "decision_due", "created_day"],
            unique=False,
        )
        batch_op.create_index(
            "ix_cases_inbox_newest",
            [
                "holding_unit_id",
                "created_day",
                "ref_year",
                "ref_number",
                "id",
                "status",
                "category",
                "sector",
                "assignee_id",
                "acknowledged_at",
                "acknowledge_due",
                "decided_at",
                "decision_due",
                "feedback_at",
                "feedback_due",
            ],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_inbox_newest")
        batch_op.drop_index("ix_cases_inbox_deadline")
        batch_op.drop_index("ix_cases_inbox")
        batch_op.create_index(
            batch_op.f("ix_cases_inbox"), ["holding_unit_id", "status", "created_day"], unique=False
        )
