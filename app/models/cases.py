"""Cases and what belongs to them: key wraps, encrypted blobs, messages, notes, grants."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.models.base import Base, UTCDateTime, one_of, utcnow, vocab
from app.models.vocabulary import (
    BlobKind,
    CaseLinkKind,
    CaseStatus,
    Category,
    IntakeChannel,
    KeyKind,
    Priority,
    Resolution,
    Sector,
    Side,
    StatutoryDecision,
    Track,
)

# A 64-bit id column; on SQLite declared INTEGER so that it is the table's rowid (a
# BIGINT primary key there would get a hidden, sequential rowid beside it).
MessageId = BigInteger().with_variant(Integer(), "sqlite")
# Message ids handed out before revision 0005 came from a sequence and are below this;
# new ones are random in [LEGACY_ID_LIMIT, 2**63).
LEGACY_ID_LIMIT = 2**32


def new_message_id() -> int:
    return LEGACY_ID_LIMIT + secrets.randbelow(2**63 - LEGACY_ID_LIMIT)


NOTICE_KINDS = ("accept", "refuse", "transfer", "extend", "conclude", "information")


class Case(Base):
    """One report and everything that follows from it.

    Only category and sector are in clear (routing and statistics); the reporter's
    answers live in an encrypted blob. ``created_day`` is a date, not a timestamp, so a
    case cannot be joined with a network log by its arrival time.
    """

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("ref_year", "ref_number"),
        one_of("category", Category, "category"),
        one_of("sector", Sector, "sector"),
        one_of("status", CaseStatus, "status"),
        one_of("resolution", Resolution, "resolution"),
        one_of("priority", Priority, "priority"),
        one_of("track", Track, "track"),
        one_of("channel", IntakeChannel, "channel"),
        one_of("statutory_decision", StatutoryDecision, "statutory_decision"),
        # The inbox: cases held by my units, by status, newest first. Measured at 100,000
        # cases (bench/inbox_latency.py): the wide index lets SQLite count and page a
        # unit's cases from the index alone, without visiting the table (348 ms -> 0.2 ms
        # for the first page, 179 ms -> 18 ms for the count).
        Index("ix_cases_inbox", "holding_unit_id", "status", "created_day", "id"),
        Index(
            "ix_cases_inbox_newest",
            "holding_unit_id",
            "created_day",
            "ref_year",
            "ref_number",
            "id",
            "status",
            "category",
            "sector",
            "assignee_id",
            "acknowledged_at",
            "acknowledge_due",
            "decided_at",
            "decision_due",
            "feedback_at",
            "feedback_due",
        ),
        Index("ix_cases_inbox_deadline", "holding_unit_id", "decision_due", "created_day"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, never sequential
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # CT-2026-00042
    ref_year: Mapped[int] = mapped_column(Integer)
    ref_number: Mapped[int] = mapped_column(Integer)
    receipt_lookup_key: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    reporter_recipient: Mapped[str] = mapped_column(String(100))
    case_recipient: Mapped[str] = mapped_column(String(100))
    staff_recipient: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(vocab(Category))
    sector: Mapped[str] = mapped_column(vocab(Sector), default=Sector.OTHER.value)
    status: Mapped[str] = mapped_column(vocab(CaseStatus), default=CaseStatus.NEW.value)
    resolution: Mapped[str | None] = mapped_column(vocab(Resolution))
    priority: Mapped[str] = mapped_column(vocab(Priority), default=Priority.NORMAL.value)
    holding_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("reviewers.id", ondelete="SET NULL"), index=True
    )
    created_day: Mapped[date] = mapped_column(Date)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledge_due: Mapped[date | None] = mapped_column(Date)
    decision_due: Mapped[date | None] = mapped_column(Date)
    feedback_due: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purge_after: Mapped[date | None] = mapped_column(Date, index=True)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    # In clear like category and sector: it decides which clocks and notices apply, and
    # it is the reporter's own choice of process, not who they are.
    track: Mapped[str] = mapped_column(vocab(Track), default=Track.ANONYMOUS.value)
    # In clear, a closed vocabulary: the intake site, or the channel through which a desk
    # officer received it (app/cases/desk.py). It says how the office was reached, never
    # when (the case keeps its day only, like any submission).
    channel: Mapped[str] = mapped_column(vocab(IntakeChannel), default=IntakeChannel.WEB.value)
    # The statutory process of a named denunciation (app/cases/legal_process.py). Days
    # only, like every staff date a reporter sees (the notices carry days). The decision
    # and the extension count are in clear: the clocks and the inbox need them, and they
    # say what the office did, not what the report says. The reasons, the content
    # accepted and the complexity criteria are in the notices, encrypted (CaseNotice).
    statutory_decision: Mapped[str | None] = mapped_column(vocab(StatutoryDecision))
    statutory_decision_day: Mapped[date | None] = mapped_column(Date)
    # The office's register number of the acceptance decision (Mẫu 04), "12/QĐ-TTr":
    # every later notice cites it (the extension decision, Mẫu 01).
    acceptance_decision_number: Mapped[str | None] = mapped_column(String(40))
    statutory_extensions: Mapped[int] = mapped_column(Integer, default=0)
    # The day of the conclusion (kết luận nội dung tố cáo, art. 35), which ends the
    # resolution period.
    statutory_concluded_day: Mapped[date | None] = mapped_column(Date)

    keys: Mapped[list[CaseKey]] = relationship(
        back_populates="case", cascade="all, delete-orphan", passive_deletes=True
    )
    exclusions: Mapped[list[CaseExclusion]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    blobs: Mapped[list[Blob]] = relationship(
        back_populates="case", cascade="all, delete-orphan", passive_deletes=True
    )


class CaseReferenceCounter(Base):
    """Last reference number handed out per year.

    Incremented with one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement, so
    two concurrent submissions can never get the same number (the row is locked until
    the transaction ends); ``cases``' unique (ref_year, ref_number) is the backstop.
    """

    __tablename__ = "case_reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class CaseExclusion(Base):
    """A unit the reporter asked to keep out: it can never hold or read the case."""

    __tablename__ = "case_exclusions"

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )


class CaseKey(Base):
    """A key wrap: the case's (or staff) private key as a small age file.

    ``recipients`` lists, one per line, the age recipients the wrap was made for; it is
    what grants and routing compare with the holding unit's members.

    No time column: the wraps are written during a reporter's submission, and every
    later rewrap is an audit event (``case.rewrapped``) with its exact staff time.
    """

    __tablename__ = "case_keys"
    __table_args__ = (UniqueConstraint("case_id", "kind"), one_of("kind", KeyKind, "kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(vocab(KeyKind))
    wrap: Mapped[bytes] = mapped_column(LargeBinary)
    recipients: Mapped[str] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="keys")


class Blob(Base):
    """An age file in the blob store. ``storage_key`` names it there; content never here.

    ``created_day`` is the installation's local day (app.clock), for every blob: most are
    written during a reporter's action, and a time here would date it.
    """

    __tablename__ = "blobs"
    __table_args__ = (one_of("kind", BlobKind, "kind"), one_of("author_side", Side, "author_side"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(vocab(BlobKind))
    author_side: Mapped[str] = mapped_column(vocab(Side))
    # A message's body and its attachments point at the message; report attachments
    # and notes do not.
    message_id: Mapped[int | None] = mapped_column(
        MessageId, ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    # Order among siblings: attachments are listed inside the encrypted report or message
    # in this order (the server never sees their names).
    position: Mapped[int] = mapped_column(Integer, default=0)
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    created_day: Mapped[date] = mapped_column(Date, default=clock.today)

    case: Mapped[Case] = relationship(back_populates="blobs")


class Message(Base):
    """A message between the reporter and the reviewers. Its body and attachments are
    blobs (encrypted to the case key) that point back here.

    The id is random (:func:`new_message_id`), not a sequence: a sequence would place a
    reporter's message between the reviewers' messages of the same day, whose times are
    exact. The thread's order comes from inside the encrypted messages instead
    (app.cases.thread). Ids below :data:`LEGACY_ID_LIMIT` are the sequential ids of
    messages written before revision 0005.

    ``created_at`` is exact for a reviewer's message and a day label
    (:func:`app.clock.day_stamp`) for a reporter's.
    """

    __tablename__ = "messages"
    __table_args__ = (one_of("author_side", Side, "author_side"),)

    id: Mapped[int] = mapped_column(
        MessageId, primary_key=True, autoincrement=False, default=lambda: new_message_id()
    )
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_side: Mapped[str] = mapped_column(vocab(Side))
    # Which reviewer wrote it (never shown to the reporter); NULL for the reporter.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("reviewers.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Note(Base):
    """An internal note, encrypted to the staff key; never shown to the reporter."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    blob_id: Mapped[str] = mapped_column(ForeignKey("blobs.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("reviewers.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseLink(Base):
    """Two cases linked by staff as duplicates (đơn trùng) or related matters.

    Stored once per pair, in a canonical order (``case_id`` < ``other_case_id``), so
    that a pair cannot be linked twice in opposite directions. The reason is a blob
    (kind ``note``, of ``case_id``) encrypted to both cases' staff keys; nothing typed
    by staff is in clear here. Who may see a link is app.cases.links' rule: readers of
    both cases only.
    """

    __tablename__ = "case_links"
    __table_args__ = (
        UniqueConstraint("case_id", "other_case_id"),
        CheckConstraint("case_id < other_case_id", name="canonical_order"),
        one_of("kind", CaseLinkKind, "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    other_case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(vocab(CaseLinkKind))
    note_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id", ondelete="SET NULL"))
    created_day: Mapped[date] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("reviewers.id", ondelete="SET NULL"))


class CaseNotice(Base):
    """A formal notice issued on a case (docs/notices.md): its fields, as JSON encrypted
    to the staff key (``blob_id``, kind ``note``), from which the office's DOCX is
    rendered again on demand; and the thread message that delivered the reporter's PDF
    (encrypted to the case key). Nothing typed by the inspector is in clear here."""

    __tablename__ = "case_notices"
    # The kinds of app.cases.notices.NoticeKind (the models do not import the domain;
    # tests/cases/test_legal_process.py checks the two lists agree).
    __table_args__ = (one_of("kind", NOTICE_KINDS, "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(11))
    blob_id: Mapped[str] = mapped_column(ForeignKey("blobs.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(
        MessageId, ForeignKey("messages.id", ondelete="SET NULL")
    )
    issued_day: Mapped[date] = mapped_column(Date)


class PendingGrant(Base):
    """A reviewer who should be able to read a case but is not yet in its key wraps."""

    __tablename__ = "pending_grants"
    __table_args__ = (UniqueConstraint("case_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(
        ForeignKey("reviewers.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Recusal(Base):
    """A reviewer who gave up access to a case (conflict of interest)."""

    __tablename__ = "recusals"

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    reviewer_id: Mapped[int] = mapped_column(
        ForeignKey("reviewers.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
