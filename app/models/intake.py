"""Short-lived intake state: the single-use set of spent proof-of-work challenges.

Challenges and submission tickets are stateless tokens (``app.cases.pow``,
``app.cases.tickets``): issuing one writes nothing. Only a redeemed challenge leaves a
row, so it cannot be redeemed twice, and that row holds a hash and a calendar day: no
time of day of a reporter's action.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class SpentPowChallenge(Base):
    """A redeemed proof-of-work challenge, by hash; swept two days later."""

    __tablename__ = "spent_pow_challenges"

    challenge_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
