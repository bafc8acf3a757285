"""case links: duplicates (đơn trùng) and related matters

Staff link two cases; the pair is stored once in a canonical order (case_id <
other_case_id). The reason is a blob encrypted to both cases' staff keys
(app.cases.links); only the kind and the day are in clear.

Revision ID: 0012
Revises: 0011 (outcomes)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("other_case_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=9), nullable=False),
        sa.Column("note_blob_id", sa.String(length=32), nullable=True),
        sa.Column("created_day", sa.Date(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("case_id < other_case_id", name=op.f("ck_case_links_canonical_order")),
        sa.CheckConstraint("kind IN ('duplicate', 'related')", name=op.f("ck_case_links_kind")),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_links_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["other_case_id"],
            ["cases.id"],
            name=op.f("fk_case_links_other_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["note_blob_id"],
            ["blobs.id"],
            name=op.f("fk_case_links_note_blob_id_blobs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["reviewers.id"],
            name=op.f("fk_case_links_created_by_reviewers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_links")),
        sa.UniqueConstraint(
            "case_id", "other_case_id", name=op.f("uq_case_links_case_id_other_case_id")
        ),
    )
    with op.batch_alter_table("case_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_links_other_case_id"), ["other_case_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("case_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_links_other_case_id"))
    op.drop_table("case_links")
