"""case track: anonymous information or a named denunciation (Luật Tố cáo 2018)

Existing cases were all submitted anonymously (the only path there was): they get
``anonymous``.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("track", sa.String(length=9), nullable=False, server_default="anonymous")
        )
        batch_op.create_check_constraint(op.f("ck_cases_track"), "track IN ('anonymous', 'named')")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column("track", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_cases_track"), type_="check")
        batch_op.drop_column("track")
