"""Server-side web sessions for both faces."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, one_of, vocab
from app.models.vocabulary import SessionFace


class WebSession(Base):
    """One browser session. The row is useless without the cookie.

    ``id`` is a hash of the cookie's token and ``payload`` is encrypted under a key
    derived from that token, which the server never stores: a dump of this table holds
    no reviewer key, case key or CSRF secret in usable form.
    """

    __tablename__ = "web_sessions"
    __table_args__ = (one_of("face", SessionFace, "face"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    face: Mapped[str] = mapped_column(vocab(SessionFace))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    reviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("reviewers.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    idle_expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    absolute_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
