"""sealed identities of named denunciations, identity custodians, unsealing requests

Luật Tố cáo 2018 art. 47(1): the denouncer's identity is kept secret. A named case's
identity is a separate age file (blob kind ``identity``) encrypted to a per-case
identity key; ``sealed_identities`` holds that key wrapped for the holding unit's
custodians and the recovery key (docs/crypto.md, "Sealed identity").

Revision ID: 0010
Revises: 0009 (the statutory process)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_BLOB_KINDS = "kind IN ('report', 'attachment', 'message', 'note')"
NEW_BLOB_KINDS = "kind IN ('report', 'attachment', 'message', 'note', 'identity')"
OLD_CHANGE_KINDS = "kind IN ('membership', 'role', 'password_reset', 'totp_reset', 'recovery_key')"
NEW_CHANGE_KINDS = (
    "kind IN ('membership', 'role', 'password_reset', 'totp_reset', 'recovery_key', 'custodian')"
)


def upgrade() -> None:
    op.create_table(
        "unit_custodians",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["reviewers.id"],
            name=op.f("fk_unit_custodians_reviewer_id_reviewers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_unit_custodians_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("unit_id", "reviewer_id", name=op.f("pk_unit_custodians")),
    )
    with op.batch_alter_table("unit_custodians", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unit_custodians_reviewer_id"), ["reviewer_id"], unique=False
        )
    op.create_table(
        "sealed_identities",
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("identity_recipient", sa.String(length=100), nullable=False),
        sa.Column("wrap", sa.LargeBinary(), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("sealed_for_unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_sealed_identities_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sealed_for_unit_id"],
            ["units.id"],
            name=op.f("fk_sealed_identities_sealed_for_unit_id_units"),
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_sealed_identities")),
    )
    with op.batch_alter_table("sealed_identities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sealed_identities_sealed_for_unit_id"),
            ["sealed_for_unit_id"],
            unique=False,
        )
    op.create_table(
        "identity_unseal_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("sealed_reason", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("requested_day", sa.Date(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_day", sa.Date(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("requester_wrap", sa.LargeBinary(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'refused')",
            name=op.f("ck_identity_unseal_requests_status"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_identity_unseal_requests_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["reviewers.id"],
            name=op.f("fk_identity_unseal_requests_decided_by_id_reviewers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["reviewers.id"],
            name=op.f("fk_identity_unseal_requests_requester_id_reviewers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_identity_unseal_requests_unit_id_units"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_unseal_requests")),
    )
    with op.batch_alter_table("identity_unseal_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_identity_unseal_requests_case", ["case_id", "status"], unique=False
        )

    # SQLite cannot alter a CHECK constraint: there the batch copies the table; PostgreSQL
    # alters it in place (blobs is referenced by other tables and cannot be recreated).
    with op.batch_alter_table("blobs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_blobs_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_blobs_kind"), NEW_BLOB_KINDS)
    with op.batch_alter_table("access_change_requests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_access_change_requests_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_access_change_requests_kind"), NEW_CHANGE_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM access_change_requests WHERE kind = 'custodian'")
    op.execute("DELETE FROM blobs WHERE kind = 'identity'")
    with op.batch_alter_table("access_change_requests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_access_change_requests_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_access_change_requests_kind"), OLD_CHANGE_KINDS)
    with op.batch_alter_table("blobs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_blobs_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_blobs_kind"), OLD_BLOB_KINDS)
    with op.batch_alter_table("identity_unseal_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_unseal_requests_case")
    op.drop_table("identity_unseal_requests")
    with op.batch_alter_table("sealed_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sealed_identities_sealed_for_unit_id"))
    op.drop_table("sealed_identities")
    with op.batch_alter_table("unit_custodians", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_custodians_reviewer_id"))
    op.drop_table("unit_custodians")
