"""Sealed identities of named denunciations, their custodians, and unsealing requests.

Luật Tố cáo 2018 art. 47(1)(b)/(c) obliges the authority to keep the denouncer's name,
address and personal details secret; the design that does it is in docs/crypto.md
("Sealed identity") and app.cases.identity.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, one_of, vocab
from app.models.vocabulary import UnsealStatus


class UnitCustodian(Base):
    """An identity custodian of a unit (the head of a handling unit). Effective only
    while the reviewer is also an active member of the unit with a key."""

    __tablename__ = "unit_custodians"

    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    reviewer_id: Mapped[int] = mapped_column(
        ForeignKey("reviewers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # set by app.cases.custodians


class SealedIdentity(Base):
    """The identity key of one named case: its public half (the identity file's only
    age recipient) and its private half wrapped for ``sealed_for_unit_id``'s custodians
    and the recovery key. After routing the wrap still names the old unit until a
    reseal (app.cases.identity.reseal) rewrites it."""

    __tablename__ = "sealed_identities"

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    identity_recipient: Mapped[str] = mapped_column(String(100))
    wrap: Mapped[bytes] = mapped_column(LargeBinary)
    recipients: Mapped[str] = mapped_column(Text)
    sealed_for_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)


class UnsealRequest(Base):
    """A reader's request to see a sealed identity, and a custodian's decision.

    The reason is encrypted to the case's staff key (it may quote the report). Days
    only: the reporter is shown the day of an unsealing, never a time. ``requester_wrap``
    is the case's identity key wrapped to the requester alone, written on approval."""

    __tablename__ = "identity_unseal_requests"
    __table_args__ = (
        one_of("status", UnsealStatus, "status"),
        Index("ix_identity_unseal_requests_case", "case_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id", ondelete="CASCADE"))
    sealed_reason: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(vocab(UnsealStatus), default=UnsealStatus.PENDING.value)
    requested_day: Mapped[date] = mapped_column(Date)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("reviewers.id", ondelete="SET NULL")
    )
    decided_day: Mapped[date | None] = mapped_column(Date)
    # The holding unit whose custodian decided: the reporter is told which unit unsealed.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    requester_wrap: Mapped[bytes | None] = mapped_column(LargeBinary)
