"""The audit log table. The chain logic lives in :mod:`app.audit`."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class AuditEvent(Base):
    """Append-only, hash-chained. No foreign keys on purpose: events outlive the rows
    they mention (a purged case leaves its tombstone; a deleted account its history)."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))  # "reviewer:12", "reporter", "system", "cli"
    case_id: Mapped[str | None] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    details: Mapped[str] = mapped_column(Text)  # canonical JSON; never content
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class HeldAuditEvent(Base):
    """A reporter's event waiting for its day to end before it joins the chain.

    Chaining it at once would give it a sequence number between the reviewers' events
    of the same day, whose times are exact, and so place the reporter's action to the
    minute. It is held here instead - with its day, and no time, no sequence - and
    appended with the other held events of its day, in random order, once the day is
    over (:func:`app.audit.release_held`). Until then it is NOT tamper-evident.

    The id is random; it only names the row.
    """

    __tablename__ = "held_audit_events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    case_id: Mapped[str | None] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(60))
    details: Mapped[str] = mapped_column(Text)
