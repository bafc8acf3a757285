"""Short-lived intake state: submission tickets and proof-of-work challenges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class SubmissionTicket(Base):
    """Issued to a browser before it submits: the receipt is shown only after storing.

    Holds the receipt's lookup key and the reporter's public key, never the receipt.
    The ticket itself is stored hashed; it is single-use and expires.
    """

    __tablename__ = "submission_tickets"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    receipt_lookup_key: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    reporter_recipient: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PowChallenge(Base):
    """A single-use proof-of-work challenge: flood control that identifies nobody."""

    __tablename__ = "pow_challenges"

    challenge: Mapped[str] = mapped_column(String(64), primary_key=True)
    difficulty: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
