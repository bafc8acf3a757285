"""The notification outbox: one row per e-mail to send to one reviewer.

A durable outbox rather than sending inside the request: the row is written in the same
transaction as the event it announces (a case, a reporter message), so a notification
exists exactly when the event does; a cron job sends it later, outside any request, and
a failed send stays here, counted and visible to admins (/admin/notifications), until a
later run delivers it or gives up.

No content is ever stored here, and no e-mail address either (it is read from the
reviewer at send time, so a corrected address applies to what is still pending).
``case_id`` has no foreign key: cases are purged, and the sent rows that remember an
overdue notice are pruned by :func:`app.notifications.outbox.prune`.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, one_of, utcnow, vocab


class NotificationKind(StrEnum):
    NEW_CASE = "new_case"
    REPORTER_MESSAGE = "reporter_message"
    OVERDUE = "overdue"
    ACCESS_CHANGE = "access_change"  # an access change to the reviewer's unit (approvals)
    AUDIT_HEAD = "audit_head"  # the audit chain's head, daily, to the oversight unit
    # A reader asked to unseal a named reporter's identity: to the unit's custodians.
    UNSEAL_REQUEST = "unseal_request"


class DeadlineKind(StrEnum):
    """Which deadline an overdue notice is about (one notice per case, reviewer, kind)."""

    ACKNOWLEDGE = "acknowledge"
    DECISION = "decision"
    FEEDBACK = "feedback"


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        one_of("kind", NotificationKind, "kind"),
        one_of("deadline", DeadlineKind, "deadline"),
        # An overdue notice goes once per case, reviewer and deadline; rows of other kinds
        # have no deadline, and NULLs never collide in a unique constraint.
        UniqueConstraint("case_id", "reviewer_id", "deadline"),
        # The sender's query: unsent rows that are due.
        Index("ix_notifications_pending", "sent_at", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(vocab(NotificationKind))
    reviewer_id: Mapped[int] = mapped_column(
        ForeignKey("reviewers.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[str | None] = mapped_column(String(32))
    deadline: Mapped[str | None] = mapped_column(vocab(DeadlineKind))
    # Written at system time: rows a reporter's action caused are only written when
    # their day is over (HeldNotification), so this time says nothing of the reporter.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Not sent before this time: backs off after a failure, and is the lease a sender
    # takes while it sends.
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The SMTP error's class and message; never the message body or the address.
    last_error: Mapped[str | None] = mapped_column(String(500))
    # What a notice of a kind without a case says: "pending:slug,slug" for an access
    # change, "SEQ HASH TIME" for the audit head. Never case content.
    detail: Mapped[str | None] = mapped_column(String(200))


class HeldNotification(Base):
    """A notice a reporter's action calls for, held until its day is over.

    A row in ``notifications`` written during the reporter's request would date the
    action by its autoincrement id (against overdue notices and other rows) and by when
    the e-mail leaves. So the request writes only this: which case, which kind, which
    day - no time, no sequence, one row per case, kind and day however many messages.
    :func:`app.notifications.outbox.release_held` turns the rows of finished days into
    ``notifications`` rows (at system time, for the readers of that moment).
    """

    __tablename__ = "held_notifications"
    __table_args__ = (one_of("kind", NotificationKind, "kind"),)

    case_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(vocab(NotificationKind), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
