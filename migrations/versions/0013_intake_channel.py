"""case channel: the intake site, or how a desk officer received the report

A desk officer of the intake unit may enter a report received in person, by phone or by
letter (app/cases/desk.py). Every case before this revision came through the intake
site: it gets ``web``.

Revision ID: 0013
Revises: 0012 (case links)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNELS = "channel IN ('web', 'in_person', 'phone', 'letter', 'other')"


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=9), nullable=False, server_default="web")
        )
        batch_op.create_check_constraint(op.f("ck_cases_channel"), CHANNELS)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column("channel", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_cases_channel"), type_="check")
        batch_op.drop_column("channel")
