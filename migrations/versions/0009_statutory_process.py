"""the statutory process of a named denunciation: decision, extensions, notices

Luật Tố cáo 2018 arts. 24, 29, 30 (app/cases/legal_process.py): the decision after the
initial handling (accepted / refused / transferred) and its day, the acceptance
decision's register number, the number of extensions, the day of the conclusion; and the notices issued, whose
fields are an encrypted blob (staff key) and whose reporter copy is a thread message.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MessageId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("statutory_decision", sa.String(length=11), nullable=True))
        batch_op.add_column(sa.Column("statutory_decision_day", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("acceptance_decision_number", sa.String(length=40), nullable=True)
        )
        batch_op.add_column(
            sa.Column("statutory_extensions", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("statutory_concluded_day", sa.Date(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_cases_statutory_decision"),
            "statutory_decision IN ('accepted', 'refused', 'transferred')",
        )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column("statutory_extensions", server_default=None)
    op.create_table(
        "case_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=11), nullable=False),
        sa.Column("blob_id", sa.String(length=32), nullable=False),
        sa.Column("message_id", MessageId, nullable=True),
        sa.Column("issued_day", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('accept', 'refuse', 'transfer', 'extend', 'conclude', 'information')",
            name=op.f("ck_case_notices_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["blob_id"],
            ["blobs.id"],
            name=op.f("fk_case_notices_blob_id_blobs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_notices_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_case_notices_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_notices")),
    )
    op.create_index(op.f("ix_case_notices_case_id"), "case_notices", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_case_notices_case_id"), table_name="case_notices")
    op.drop_table("case_notices")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_cases_statutory_decision"), type_="check")
        batch_op.drop_column("statutory_concluded_day")
        batch_op.drop_column("statutory_extensions")
        batch_op.drop_column("acceptance_decision_number")
        batch_op.drop_column("statutory_decision_day")
        batch_op.drop_column("statutory_decision")
