"""stateless intake tokens: spent challenges by day; no tickets, challenges or counters

Submission tickets and proof-of-work challenges become sealed tokens (nothing stored at
issue time) and rate-limit counters leave the database for volatile storage: all three
tables held exact times of reporters' actions. What remains is the single-use set of
spent challenges, keyed by a hash, with the calendar day only.

Rows of the dropped tables are not carried over: tickets and challenges live minutes,
counters a minute; a deploy at worst asks a browser that was mid-submission to retry.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spent_pow_challenges",
        sa.Column("challenge_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("challenge_hash", name=op.f("pk_spent_pow_challenges")),
    )
    with op.batch_alter_table("spent_pow_challenges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spent_pow_challenges_day"), ["day"], unique=False)

    with op.batch_alter_table("submission_tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_tickets_expires_at"))
    op.drop_table("submission_tickets")

    with op.batch_alter_table("pow_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pow_challenges_expires_at"))
    op.drop_table("pow_challenges")

    with op.batch_alter_table("rate_limit_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_limit_counters_expires_at"))
    op.drop_table("rate_limit_counters")


def downgrade() -> None:
    # The old tables come back empty: outstanding tokens of the new kind are not
    # convertible (the old code would refuse them and the browser retries).
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_counters")),
    )
    with op.batch_alter_table("rate_limit_counters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rate_limit_counters_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "pow_challenges",
        sa.Column("challenge", sa.String(length=64), nullable=False),
        sa.Column("difficulty", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("challenge", name=op.f("pk_pow_challenges")),
    )
    with op.batch_alter_table("pow_challenges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pow_challenges_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "submission_tickets",
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("receipt_lookup_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("reporter_recipient", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_submission_tickets")),
        sa.UniqueConstraint(
            "receipt_lookup_key", name=op.f("uq_submission_tickets_receipt_lookup_key")
        ),
    )
    with op.batch_alter_table("submission_tickets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_tickets_expires_at"), ["expires_at"], unique=False
        )

    with op.batch_alter_table("spent_pow_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spent_pow_challenges_day"))
    op.drop_table("spent_pow_challenges")
