"""What came of a case (issue 14): referrals to the investigation agency, the outcome
figures of a conclusion, and the recovery ledger.

Everything here except the ledger notes is in clear on purpose: the dashboard and the
public statistics sum these figures without any key. They describe the office's own
findings and steps (an agency code, a dispatch number, days, amounts in đồng, counts of
people disciplined), never the report or the reporter; days, never times
(docs/threat-model.md, "Outcomes in clear"). Amounts are whole đồng in BIGINT, never
floats. The rules that write these rows live in app.cases.referrals and
app.cases.outcomes.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, one_of, vocab
from app.models.vocabulary import DisciplineForm, ReferralResult


class Referral(Base):
    """One referral of a case to the investigation agency (chuyển cơ quan điều tra).

    A case may be referred several times (after a return to the inspection); its
    current referral is the latest by ``dispatch_day``, ``id``. ``verification_due_day``
    is the end of the verification period of a crime report (BLTTHS 2015 art. 147(2),
    calendar days, app.cases.legal_periods); ``extended_due_day`` the end after an
    extension, never later than the law's cap.
    """

    __tablename__ = "referrals"
    __table_args__ = (one_of("result", ReferralResult, "result"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    # A code of config/referral_agencies.toml; its vi/en names come from there.
    agency: Mapped[str] = mapped_column(String(40))
    dispatch_number: Mapped[str] = mapped_column(String(40))  # số công văn, "125/TTr-NV"
    dispatch_day: Mapped[date] = mapped_column(Date)
    # The procuracy (Viện kiểm sát) is notified of the referral; may be recorded later.
    procuracy_notified_day: Mapped[date | None] = mapped_column(Date)
    verification_due_day: Mapped[date] = mapped_column(Date)
    extended_due_day: Mapped[date | None] = mapped_column(Date)
    result: Mapped[str | None] = mapped_column(vocab(ReferralResult))
    result_day: Mapped[date | None] = mapped_column(Date)


class CaseOutcome(Base):
    """The figures of a case's conclusion, written when it is closed. The conclusion
    itself is ``Case.resolution``."""

    __tablename__ = "case_outcomes"
    __table_args__ = (
        CheckConstraint("damage_found_vnd >= 0", name="damage_found_vnd"),
        CheckConstraint("recovery_recommended_vnd >= 0", name="recovery_recommended_vnd"),
        CheckConstraint("administrative_sanctions >= 0", name="administrative_sanctions"),
    )

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    concluded_day: Mapped[date] = mapped_column(Date)
    damage_found_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    recovery_recommended_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    # Number of administrative sanction decisions (quyết định xử phạt vi phạm hành chính).
    administrative_sanctions: Mapped[int] = mapped_column(Integer, default=0)


class OutcomeDiscipline(Base):
    """How many people an outcome disciplines in one form."""

    __tablename__ = "outcome_disciplines"
    __table_args__ = (
        one_of("form", DisciplineForm, "form"),
        CheckConstraint("people > 0", name="people"),
    )

    case_id: Mapped[str] = mapped_column(
        ForeignKey("case_outcomes.case_id", ondelete="CASCADE"), primary_key=True
    )
    form: Mapped[str] = mapped_column(vocab(DisciplineForm), primary_key=True)
    people: Mapped[int] = mapped_column(Integer)


class RecoveryEntry(Base):
    """One line of a case's recovery ledger (số tiền đã thu hồi), append-only.

    The application never updates or deletes a row (only the purge of the whole case
    removes them): a mistake is corrected by a new entry, possibly negative, naming the
    entry it corrects in ``corrects_id``, with its reason in the note. Recovered so far
    = SUM(amount_vnd), never below zero (app.cases.outcomes checks before it adds).
    The note is encrypted to the case's staff key like a Note; the amount is in clear.
    """

    __tablename__ = "recovery_entries"
    __table_args__ = (CheckConstraint("amount_vnd != 0", name="amount_vnd"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    entry_day: Mapped[date] = mapped_column(Date)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    corrects_id: Mapped[int | None] = mapped_column(
        ForeignKey("recovery_entries.id", ondelete="CASCADE")
    )
    # SET NULL, not CASCADE: losing a note's file must never take an amount out of the
    # sum (a later negative correction would then push it below zero).
    note_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id", ondelete="SET NULL"))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("reviewers.id", ondelete="SET NULL"))
