"""Access-change requests: the two-person rule's waiting room (app.accounts.approvals)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, one_of, utcnow, vocab
from app.models.vocabulary import AccessChangeKind, AccessChangeStatus


class AccessChangeRequest(Base):
    """A change that would give someone keys to cases, held until a second admin decides.

    Nothing of the change happens before approval: no membership row, no role, no reset,
    no pending grant. ``decided_by`` is an audit actor label (``reviewer:7``, or
    ``cli:<os user>`` when the operator decided on the command line).
    """

    __tablename__ = "access_change_requests"
    __table_args__ = (
        one_of("kind", AccessChangeKind, "kind"),
        one_of("status", AccessChangeStatus, "status"),
        Index("ix_access_change_requests_status", "status", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(vocab(AccessChangeKind))
    # Whom the change is about (none for the recovery key).
    target_id: Mapped[int | None] = mapped_column(
        ForeignKey("reviewers.id", ondelete="CASCADE"), index=True
    )
    # The unit a membership is for.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    # The new role, or the new recovery recipient (age1…).
    value: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(
        vocab(AccessChangeStatus), default=AccessChangeStatus.PENDING.value
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("reviewers.id", ondelete="SET NULL")
    )
    requested_by: Mapped[str] = mapped_column(String(100))  # audit actor label
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("reviewers.id", ondelete="SET NULL")
    )
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
