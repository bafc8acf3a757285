"""Counters of the global rate limits (see :mod:`app.web.ratelimit`).

Keys name a limit and its scope ("LIMITER/global/intake/60/1/minute"), never a client:
the limits are global on purpose, so this table cannot say who sent what.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class RateLimitCounter(Base):
    """One fixed window of one limit: how many hits so far and when the window ends."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
