"""Whistleblower protection requests (Luật Tố cáo 2018, Chương VI, arts. 47-51).

A request is a reporter's message (encrypted to the case key like every message,
app.cases.messages) flagged by a row here: the flag, the day it was filed, its due day
and whether staff answered it. Days only for the reporter's side (DESIGN.md promise 7);
the answer is a staff action and keeps its exact time. The primary key is the message's
random id, so no sequence orders a request against the staff actions of its day.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime
from app.models.cases import MessageId


class ProtectionRequest(Base):
    """A protection request / report of retaliation: open while ``answered_at`` is
    NULL, answered once a reviewer's reply (``answer_message_id``) was sent."""

    __tablename__ = "protection_requests"
    __table_args__ = (Index("ix_protection_requests_open", "answered_at", "due_day"),)

    message_id: Mapped[int] = mapped_column(
        MessageId,
        ForeignKey("messages.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    filed_day: Mapped[date] = mapped_column(Date)
    # The last day to answer (app.cases.legal_periods.protection_due, working days).
    due_day: Mapped[date] = mapped_column(Date)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("reviewers.id", ondelete="SET NULL")
    )
    answer_message_id: Mapped[int | None] = mapped_column(
        MessageId, ForeignKey("messages.id", ondelete="SET NULL")
    )
