"""referrals to the investigation agency, outcome figures, the recovery ledger (issue 14)

Four new tables (app/models/outcomes.py); the cases already there get no referral, no
outcome and an empty ledger: nothing is inferred from their status or resolution.

Revision ID: 0011
Revises: 0010 (sealed identities)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_outcomes",
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("concluded_day", sa.Date(), nullable=False),
        sa.Column("damage_found_vnd", sa.BigInteger(), nullable=False),
        sa.Column("recovery_recommended_vnd", sa.BigInteger(), nullable=False),
        sa.Column("administrative_sanctions", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "administrative_sanctions >= 0", name=op.f("ck_case_outcomes_administrative_sanctions")
        ),
        sa.CheckConstraint("damage_found_vnd >= 0", name=op.f("ck_case_outcomes_damage_found_vnd")),
        sa.CheckConstraint(
            "recovery_recommended_vnd >= 0", name=op.f("ck_case_outcomes_recovery_recommended_vnd")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_outcomes_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_outcomes")),
    )
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("agency", sa.String(length=40), nullable=False),
        sa.Column("dispatch_number", sa.String(length=40), nullable=False),
        sa.Column("dispatch_day", sa.Date(), nullable=False),
        sa.Column("procuracy_notified_day", sa.Date(), nullable=True),
        sa.Column("verification_due_day", sa.Date(), nullable=False),
        sa.Column("extended_due_day", sa.Date(), nullable=True),
        sa.Column("result", sa.String(length=14), nullable=True),
        sa.Column("result_day", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "result IN ('prosecuted', 'not_prosecuted', 'suspended', 'returned')",
            name=op.f("ck_referrals_result"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_referrals_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referrals_case_id"), ["case_id"], unique=False)

    op.create_table(
        "outcome_disciplines",
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("form", sa.String(length=18), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "form IN ('reprimand', 'warning', 'demotion', 'dismissal', 'forced_resignation')",
            name=op.f("ck_outcome_disciplines_form"),
        ),
        sa.CheckConstraint("people > 0", name=op.f("ck_outcome_disciplines_people")),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_outcomes.case_id"],
            name=op.f("fk_outcome_disciplines_case_id_case_outcomes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", "form", name=op.f("pk_outcome_disciplines")),
    )
    op.create_table(
        "recovery_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("entry_day", sa.Date(), nullable=False),
        sa.Column("amount_vnd", sa.BigInteger(), nullable=False),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("note_blob_id", sa.String(length=32), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("amount_vnd != 0", name=op.f("ck_recovery_entries_amount_vnd")),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_recovery_entries_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["corrects_id"],
            ["recovery_entries.id"],
            name=op.f("fk_recovery_entries_corrects_id_recovery_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["note_blob_id"],
            ["blobs.id"],
            name=op.f("fk_recovery_entries_note_blob_id_blobs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["reviewers.id"],
            name=op.f("fk_recovery_entries_recorded_by_reviewers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_entries")),
    )
    with op.batch_alter_table("recovery_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_entries_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recovery_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_entries_case_id"))

    op.drop_table("recovery_entries")
    op.drop_table("outcome_disciplines")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referrals_case_id"))

    op.drop_table("referrals")
    op.drop_table("case_outcomes")
