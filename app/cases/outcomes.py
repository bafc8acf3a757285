"""What a case found: the outcome figures of its conclusion, and the recovery ledger.

**Outcome figures** are recorded when the case is closed (app.cases.actions.close_case),
with the conclusion (``Case.resolution``): the day of the conclusion, people disciplined
by form, the number of administrative sanction decisions, the damage or
misappropriation found and the amount recommended for recovery, in đồng. They are
recorded only for a **founded or partly founded** conclusion (substantiated,
partly_substantiated): an unfounded denunciation found nothing to discipline or
recover, and a case not handled (insufficient information, duplicate, out of scope)
found nothing at all; such a closing with any figure above zero is refused, so the
dashboard's sums cannot count a finding the conclusion denies. Zero is a figure (a
founded case may find misconduct without money). Reopening a case withdraws its
conclusion and so its figures (:func:`withdraw_outcome`); closing again records new ones.

**The recovery ledger** (sổ theo dõi thu hồi) records money actually recovered, at any
time, also after the case is closed: an entry (day, amount, note) is never changed or
deleted by the application. A mistake is corrected by a new entry naming the one it
corrects (``corrects_id``), with the reason in its note, possibly negative; the sum
never goes below zero. :func:`guard_ledger` refuses any UPDATE or DELETE of an entry
in an ORM session; only the purge of the whole case (a Core DELETE of the case,
app.cases.retention) removes entries, with the case. Notes are encrypted to the staff
key like every note (app.cases.notes); the amounts and days are in clear for the
dashboard's sums (docs/threat-model.md, "Outcomes in clear").

Who may do what: app.cases.access (require_case_handler, may_read_outcome_figures).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app import audit
from app.cases.access import Actor, require_case_handler
from app.cases.grants import lock_case
from app.cases.money import AmountError, check_vnd
from app.cases.notes import encrypt_staff_text, read_staff_text
from app.models import Blob, Case, CaseOutcome, OutcomeDiscipline, RecoveryEntry, Reviewer
from app.models.vocabulary import DisciplineForm, Resolution
from app.storage import BlobStore
from crypto import Identity

# Conclusions that found something: the only ones with outcome figures.
FOUNDED = frozenset({Resolution.SUBSTANTIATED, Resolution.PARTLY_SUBSTANTIATED})
# More people disciplined in one form, or sanction decisions, than any one case has.
MAX_COUNT = 10_000


class OutcomeError(ValueError):
    """Outcome figures or a ledger entry that the rules refuse; nothing was changed.
    ``code`` picks the view's message (vi and en)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class LedgerImmutableError(OutcomeError):
    """An attempt to change or delete a recovery entry: only a correcting entry may."""

    def __init__(self) -> None:
        super().__init__("ledger_immutable")


@dataclass(frozen=True)
class OutcomeFigures:
    """What the closing form says, parsed (amounts in đồng)."""

    concluded_day: date | None = None
    damage_found_vnd: int = 0
    recovery_recommended_vnd: int = 0
    administrative_sanctions: int = 0
    disciplines: Mapping[str, int] = field(default_factory=dict)  # DisciplineForm -> people

    @property
    def empty(self) -> bool:
        return not (
            self.damage_found_vnd
            or self.recovery_recommended_vnd
            or self.administrative_sanctions
            or any(self.disciplines.values())
        )


def founded(resolution: str | None) -> bool:
    return resolution in {r.value for r in FOUNDED}


def _check_count(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise OutcomeError("bad_count")
    if value > MAX_COUNT:
        raise OutcomeError("count_too_large")
    return value


def check_figures(figures: OutcomeFigures, resolution: str | None) -> None:
    """Refuse figures that do not fit the conclusion, or are out of range."""
    if resolution not in {r.value for r in Resolution}:
        raise OutcomeError("conclusion_required")
    try:
        check_vnd(figures.damage_found_vnd)
        check_vnd(figures.recovery_recommended_vnd)
    except AmountError as exc:
        raise OutcomeError(f"amount_{exc.code}") from None
    _check_count(figures.administrative_sanctions)
    forms = {f.value for f in DisciplineForm}
    for form, people in figures.disciplines.items():
        if form not in forms:
            raise OutcomeError("unknown_discipline")
        _check_count(people)
    if not founded(resolution) and not figures.empty:
        raise OutcomeError("figures_need_founded_conclusion")


def record_outcome(
    session: Session, actor: Actor, case: Case, figures: OutcomeFigures, today: date
) -> CaseOutcome | None:
    """Write the outcome figures of a case being closed with ``case.resolution`` (the
    caller, app.cases.actions.close_case, closes it in the same unit of work). A
    conclusion that found nothing gets no row (its figures must be empty)."""
    require_case_handler(session, actor, case)
    check_figures(figures, case.resolution)
    concluded = figures.concluded_day or today
    if concluded > today:
        raise OutcomeError("day_in_future")
    if concluded < case.created_day:
        raise OutcomeError("day_before_report")
    _remove_outcome(session, case.id)
    if not founded(case.resolution):
        return None
    outcome = CaseOutcome(
        case_id=case.id,
        concluded_day=concluded,
        damage_found_vnd=figures.damage_found_vnd,
        recovery_recommended_vnd=figures.recovery_recommended_vnd,
        administrative_sanctions=figures.administrative_sanctions,
    )
    session.add(outcome)
    session.flush()
    for form in DisciplineForm:  # the enum's order: stable rows, whatever the form's order
        people = figures.disciplines.get(form.value, 0)
        if people:
            session.add(OutcomeDiscipline(case_id=case.id, form=form.value, people=people))
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="outcome.recorded",
        case_id=case.id,
        details={"resolution": case.resolution, "concluded_day": concluded.isoformat()},
    )
    return outcome


def _remove_outcome(session: Session, case_id: str) -> bool:
    existing = session.get(CaseOutcome, case_id)
    if existing is None:
        return False
    session.delete(existing)  # the database cascades to its disciplines
    session.flush()
    return True


def withdraw_outcome(session: Session, actor: Actor, case: Case) -> None:
    """Reopening withdraws the conclusion, and its figures with it (app.cases.workflow
    checks who may reopen and audits the reopening; this records the withdrawal)."""
    if _remove_outcome(session, case.id):
        audit.record(session, actor=actor.label, action="outcome.withdrawn", case_id=case.id)


@dataclass(frozen=True)
class OutcomeView:
    outcome: CaseOutcome
    disciplines: list[tuple[str, int]]  # (DisciplineForm value, people), in the enum's order

    @property
    def people_disciplined(self) -> int:
        return sum(people for _, people in self.disciplines)


def outcome_of(session: Session, case_id: str) -> OutcomeView | None:
    outcome = session.get(CaseOutcome, case_id)
    if outcome is None:
        return None
    rows = {
        form: people
        for form, people in session.execute(
            select(OutcomeDiscipline.form, OutcomeDiscipline.people).where(
                OutcomeDiscipline.case_id == case_id
            )
        )
    }
    return OutcomeView(outcome, [(f.value, rows[f.value]) for f in DisciplineForm if f in rows])


# -- the recovery ledger ---------------------------------------------------------------


def recovered_total(session: Session, case_id: str) -> int:
    """Recovered so far: the sum of the case's entries (0 when there are none)."""
    total = session.scalar(
        select(func.coalesce(func.sum(RecoveryEntry.amount_vnd), 0)).where(
            RecoveryEntry.case_id == case_id
        )
    )
    return int(total or 0)


def add_recovery_entry(
    session: Session,
    store: BlobStore,
    actor: Actor,
    case: Case,
    *,
    day: date | None,
    amount_vnd: int,
    note: str,
    today: date,
    corrects_id: int | None = None,
) -> RecoveryEntry:
    """Append an entry to the case's ledger, at any time (also after closing).

    A positive amount is money recovered on ``day``. A correction names the entry it
    corrects (``corrects_id``, of the same case), may be negative, and must give its
    reason in the note; a negative amount is only ever a correction. The sum of the
    ledger may never go below zero. The case row is locked first, so that two
    corrections at once cannot both pass the check on the same sum."""
    require_case_handler(session, actor, case)
    if day is None:
        raise OutcomeError("day_required")
    if day > today:
        raise OutcomeError("day_in_future")
    if day < case.created_day:
        raise OutcomeError("day_before_report")
    try:
        check_vnd(amount_vnd, signed=True)
    except AmountError as exc:
        raise OutcomeError(f"amount_{exc.code}") from None
    if amount_vnd == 0:
        raise OutcomeError("amount_zero")
    if corrects_id is None and amount_vnd < 0:
        raise OutcomeError("negative_needs_correction")
    if corrects_id is not None:
        corrected = session.get(RecoveryEntry, corrects_id)
        if corrected is None or corrected.case_id != case.id:
            raise OutcomeError("unknown_corrected_entry")
        if not note.strip():
            raise OutcomeError("correction_reason_required")
    case = lock_case(session, case)
    if recovered_total(session, case.id) + amount_vnd < 0:
        raise OutcomeError("total_below_zero")
    blob_id = encrypt_staff_text(session, store, case, note) if note.strip() else None
    entry = RecoveryEntry(
        case_id=case.id,
        entry_day=day,
        amount_vnd=amount_vnd,
        corrects_id=corrects_id,
        note_blob_id=blob_id,
        recorded_by=actor.reviewer_id,
    )
    session.add(entry)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="recovery.entry_added",
        case_id=case.id,
        details={
            "entry": entry.id,
            "day": day.isoformat(),
            "amount_vnd": amount_vnd,
            "corrects": corrects_id,
        },
    )
    return entry


@dataclass(frozen=True)
class LedgerLine:
    entry: RecoveryEntry
    note: str | None  # decrypted; None when the entry has none
    recorded_by: str
    running_total: int


def load_ledger(
    session: Session, store: BlobStore, case_id: str, staff_identity: Identity
) -> list[LedgerLine]:
    """The ledger in the order it was written, each line with the total so far."""
    rows = session.execute(
        select(RecoveryEntry, Blob, Reviewer.username)
        .outerjoin(Blob, Blob.id == RecoveryEntry.note_blob_id)
        .outerjoin(Reviewer, Reviewer.id == RecoveryEntry.recorded_by)
        .where(RecoveryEntry.case_id == case_id)
        .order_by(RecoveryEntry.id)
    ).all()
    lines: list[LedgerLine] = []
    total = 0
    for entry, blob, username in rows:
        total += entry.amount_vnd
        text = read_staff_text(store, blob, staff_identity) if blob is not None else None
        lines.append(LedgerLine(entry, text, username or "—", total))
    return lines


@event.listens_for(Session, "before_flush")
def guard_ledger(session: Session, flush_context: object, instances: object) -> None:
    """No ORM session may change or delete a recovery entry: the ledger is append-only.
    (A Core DELETE of the case, the retention purge, cascades in the database.)"""
    for obj in session.deleted:
        if isinstance(obj, RecoveryEntry):
            raise LedgerImmutableError()
    for obj in session.dirty:
        if isinstance(obj, RecoveryEntry) and session.is_modified(obj):
            raise LedgerImmutableError()
