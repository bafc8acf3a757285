"""The audit log table. The chain logic lives in :mod:`app.audit`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
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
