"""notify identity custodians of an unsealing request

A new notification kind, ``unseal_request``: when a reader asks to unseal a named
denunciation's identity, the holding unit's custodians (other than the requester) are
e-mailed a link to the case - no content, no reason (app.notifications.outbox
.queue_unseal_request). Only the CHECK constraint of ``notifications.kind`` changes.

Revision ID: 0015
Revises: 0014 (protection requests)
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = "kind IN ('new_case', 'reporter_message', 'overdue', 'access_change', 'audit_head')"
NEW_KINDS = (
    "kind IN ('new_case', 'reporter_message', 'overdue', 'access_change', 'audit_head', "
    "'unseal_request')"
)


def upgrade() -> None:
    # SQLite cannot alter a CHECK constraint: the batch copies the table.
    with op.batch_alter_table("notifications", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint(op.f("ck_notifications_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notifications_kind"), NEW_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE kind = 'unseal_request'")
    with op.batch_alter_table("notifications", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint(op.f("ck_notifications_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notifications_kind"), OLD_KINDS)
