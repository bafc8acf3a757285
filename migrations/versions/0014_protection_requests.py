"""whistleblower protection requests (Luật Tố cáo 2018 arts. 47-51)

A reporter's message flagged as a request for protection or a report of retaliation:
the message row and its encrypted blob are unchanged; ``protection_requests`` holds the
flag, the filing day, the due day (days only: the reporter's action) and the staff
answer (exact time: a staff action). Nothing is rewritten for the messages already
there: none of them was filed as a request.

Revision ID: 0014
Revises: 0013 (intake channel)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As app.models.cases.MessageId: 64-bit random ids, plain INTEGER on SQLite.
MESSAGE_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "protection_requests",
        sa.Column("message_id", MESSAGE_ID, autoincrement=False, nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("filed_day", sa.Date(), nullable=False),
        sa.Column("due_day", sa.Date(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answer_message_id", MESSAGE_ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["answer_message_id"],
            ["messages.id"],
            name=op.f("fk_protection_requests_answer_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["reviewers.id"],
            name=op.f("fk_protection_requests_answered_by_id_reviewers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_protection_requests_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_protection_requests_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_protection_requests")),
    )
    with op.batch_alter_table("protection_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_protection_requests_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            "ix_protection_requests_open", ["answered_at", "due_day"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("protection_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_protection_requests_open")
        batch_op.drop_index(batch_op.f("ix_protection_requests_case_id"))
    op.drop_table("protection_requests")
