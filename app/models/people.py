"""Units, reviewers, memberships, invitations and the installation's recovery key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, one_of, utcnow, vocab
from app.models.vocabulary import InvitationKind, Role, UnitKind


class Unit(Base):
    """A body that can hold cases: the intake team, inspection, investigation, oversight."""

    __tablename__ = "units"
    __table_args__ = (one_of("kind", UnitKind, "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(vocab(UnitKind))
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="unit", cascade="all, delete-orphan", passive_deletes=True
    )

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_vi


class Reviewer(Base):
    """A staff account. Its X25519 private key is stored only wrapped under its password."""

    __tablename__ = "reviewers"
    __table_args__ = (one_of("role", Role, "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    # TOTP seed, encrypted (ChaCha20-Poly1305 under a key derived from the review secret)
    # so that a database dump alone does not give second factors away.
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    public_key: Mapped[str | None] = mapped_column(String(100))  # age1...
    wrapped_private_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    role: Mapped[str] = mapped_column(vocab(Role), default=Role.REVIEWER.value)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Where notifications go (app.notifications); none when NULL. 254: RFC 5321's limit.
    email: Mapped[str | None] = mapped_column(String(254))

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="reviewer", cascade="all, delete-orphan", passive_deletes=True
    )


class Membership(Base):
    __tablename__ = "memberships"

    reviewer_id: Mapped[int] = mapped_column(
        ForeignKey("reviewers.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviewer: Mapped[Reviewer] = relationship(back_populates="memberships")
    unit: Mapped[Unit] = relationship(back_populates="memberships")


class Invitation(Base):
    """A one-time link: the first admin's setup link, or an invitation into a unit.

    Only a hash of the link's token is stored, so the table cannot be used to log in.
    """

    __tablename__ = "invitations"
    __table_args__ = (
        one_of("kind", InvitationKind, "kind"),
        one_of("role", Role, "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    kind: Mapped[str] = mapped_column(vocab(InvitationKind))
    role: Mapped[str] = mapped_column(vocab(Role))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("reviewers.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecoveryKey(Base):
    """The public half of the installation's offline recovery key (age X25519 recipient).

    Its private half never touches the server. Several rows allow a rotation: the newest
    active one is wrapped to from then on.
    """

    __tablename__ = "recovery_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(100), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
