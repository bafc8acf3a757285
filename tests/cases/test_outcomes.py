"""Outcome figures on closing (only for a founded or partly founded conclusion) and the
recovery ledger: append-only, corrected only by a new entry naming the one it corrects,
its sum never below zero, its notes encrypted to the staff key."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app import clock
from app.cases import actions, outcomes, unit_of_work, workflow
from app.cases.access import AccessDenied, load_actor
from app.cases.outcomes import LedgerImmutableError, OutcomeError, OutcomeFigures
from app.cases.reading import case_identities
from app.database import Database
from app.models import AuditEvent, Blob, Case, CaseOutcome, OutcomeDiscipline, RecoveryEntry
from app.models.vocabulary import KeyKind, Role
from app.storage import BlobStore
from config import Settings
from tests.factories import ReviewerKeys, SubmittedCase, make_reviewer, submit_case

pytestmark = pytest.mark.both_backends

TODAY = date(2027, 5, 10)
NOTE = "Đã thu hồi tại Sở Tài nguyên và Môi trường"
FIGURES = OutcomeFigures(
    concluded_day=date(2027, 5, 7),
    damage_found_vnd=1_250_000_000,
    recovery_recommended_vnd=900_000_000,
    administrative_sanctions=2,
    disciplines={"warning": 3, "reprimand": 1},
)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "today", lambda: TODAY)


@pytest.fixture
def hùng(database: Database) -> ReviewerKeys:
    return make_reviewer(database, "intake", username="hùng-thanh-tra")


@pytest.fixture
def case(database: Database, settings: Settings, hùng: ReviewerKeys) -> SubmittedCase:
    sent = submit_case(database, settings, summary="Chi sai ngân sách ở Sở Tài nguyên")
    with database.session() as db:
        row = db.get(Case, sent.case_id)
        assert row is not None
        row.created_day = TODAY - timedelta(days=60)
    return sent


def run(database: Database, settings: Settings, who: ReviewerKeys, case_id: str, fn: Any) -> Any:
    store = BlobStore(settings.blob_path)
    with unit_of_work.transaction(database.sessionmaker) as db:
        case = db.get(Case, case_id)
        assert case is not None
        result = fn(db, store, load_actor(db, who.id, who.identity), case)
        return getattr(result, "id", result)


def close(resolution: str, figures: OutcomeFigures | None) -> Any:
    return lambda db, store, actor, c: actions.close_with_message(
        db, store, actor, c, resolution, 365, "", figures, today=TODAY
    )


def add(amount: int, note: str = NOTE, corrects: int | None = None, day: date = TODAY) -> Any:
    return lambda db, store, actor, c: outcomes.add_recovery_entry(
        db,
        store,
        actor,
        c,
        day=day,
        amount_vnd=amount,
        note=note,
        today=TODAY,
        corrects_id=corrects,
    )


def counts(database: Database) -> tuple[int, int, int, int]:
    with database.read_session() as db:
        return (
            db.scalar(select(func.count()).select_from(CaseOutcome)) or 0,
            db.scalar(select(func.count()).select_from(OutcomeDiscipline)) or 0,
            db.scalar(select(func.count()).select_from(RecoveryEntry)) or 0,
            db.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def status(database: Database, case_id: str) -> str:
    with database.read_session() as db:
        row = db.get(Case, case_id)
        assert row is not None
        return row.status


def test_a_founded_conclusion_records_its_figures(
    database: Database, settings: Settings, case: SubmittedCase, hùng: ReviewerKeys
) -> None:
    run(database, settings, hùng, case.case_id, close("substantiated", FIGURES))
    with database.read_session() as db:
        view = outcomes.outcome_of(db, case.case_id)
        assert view is not None
        assert view.outcome.concluded_day == date(2027, 5, 7)
        assert view.outcome.damage_found_vnd == 1_250_000_000
        assert view.outcome.recovery_recommended_vnd == 900_000_000
        assert view.outcome.administrative_sanctions == 2
        assert view.disciplines == [("reprimand", 1), ("warning", 3)]
        assert view.people_disciplined == 4
        recorded = db.scalar(select(AuditEvent).where(AuditEvent.action == "outcome.recorded"))
        assert recorded is not None and "1250000000" not in recorded.details
    # Reopening withdraws the conclusion and its figures.
    admin = make_reviewer(database, "intake", role=Role.ADMIN, username="quản-trị")
    run(
        database,
        settings,
        admin,
        case.case_id,
        lambda db, s, actor, c: workflow.reopen(db, actor, c),
    )
    assert counts(database)[:2] == (0, 0)


@pytest.mark.parametrize("resolution", ["substantiated", "partly_substantiated"])
def test_a_founded_conclusion_may_find_nothing(
    database: Database,
    settings: Settings,
    case: SubmittedCase,
    hùng: ReviewerKeys,
    resolution: str,
) -> None:
    run(database, settings, hùng, case.case_id, close(resolution, None))
    with database.read_session() as db:
        view = outcomes.outcome_of(db, case.case_id)
        assert view is not None and view.outcome.damage_found_vnd == 0
        assert view.outcome.concluded_day == TODAY and view.disciplines == []


def test_figures_are_refused_without_a_conclusion(
    database: Database, settings: Settings, case: SubmittedCase, hùng: ReviewerKeys
) -> None:
    before = counts(database)
    with pytest.raises(workflow.ResolutionRequiredError):
        run(database, settings, hùng, case.case_id, close("", FIGURES))
    with pytest.raises(OutcomeError) as refused:
        run(
            database,
            settings,
            hùng,
            case.case_id,
            lambda db, store, actor, c: outcomes.record_outcome(db, actor, c, FIGURES, TODAY),
        )
    assert refused.value.code == "conclusion_required"
    assert counts(database) == before and status(database, case.case_id) == "new"


@pytest.mark.parametrize(
    "resolution", ["unsubstantiated", "insufficient_information", "duplicate", "out_of_scope"]
)
def test_figures_need_a_founded_conclusion(
    database: Database,
    settings: Settings,
    case: SubmittedCase,
    hùng: ReviewerKeys,
    resolution: str,
) -> None:
    before = counts(database)
    with pytest.raises(OutcomeError) as refused:
        run(database, settings, hùng, case.case_id, close(resolution, FIGURES))
    assert refused.value.code == "figures_need_founded_conclusion"
    assert counts(database) == before and status(database, case.case_id) == "new"
    # Without figures the case closes, with no outcome row.
    run(database, settings, hùng, case.case_id, close(resolution, OutcomeFigures()))
    assert status(database, case.case_id) == "closed" and counts(database)[0] == 0


@pytest.mark.parametrize(
    ("figures", "code"),
    [
        (OutcomeFigures(damage_found_vnd=-1), "amount_negative"),
        (OutcomeFigures(recovery_recommended_vnd=10**17), "amount_too_large"),
        (OutcomeFigures(administrative_sanctions=-2), "bad_count"),
        (OutcomeFigures(disciplines={"warning": 10**6}), "count_too_large"),
        (OutcomeFigures(disciplines={"hạ_bậc": 1}), "unknown_discipline"),
        (OutcomeFigures(concluded_day=TODAY + timedelta(days=1)), "day_in_future"),
    ],
)
def test_bad_figures_change_nothing(
    database: Database,
    settings: Settings,
    case: SubmittedCase,
    hùng: ReviewerKeys,
    figures: OutcomeFigures,
    code: str,
) -> None:
    before = counts(database)
    with pytest.raises(OutcomeError) as refused:
        run(database, settings, hùng, case.case_id, close("substantiated", figures))
    assert refused.value.code == code
    assert counts(database) == before and status(database, case.case_id) == "new"


def test_the_ledger_is_corrected_never_edited(
    database: Database, settings: Settings, case: SubmittedCase, hùng: ReviewerKeys
) -> None:
    run(database, settings, hùng, case.case_id, close("partly_substantiated", FIGURES))
    # After closing, money is still recovered.
    first = run(database, settings, hùng, case.case_id, add(300_000_000))
    second = run(database, settings, hùng, case.case_id, add(200_000_000, note=""))

    # A negative amount is only ever a correction, with a reason naming the entry.
    for fn, code in [
        (add(-50_000_000), "negative_needs_correction"),
        (add(-50_000_000, note="", corrects=first), "correction_reason_required"),
        (add(-600_000_000, note="Nhập trùng", corrects=first), "total_below_zero"),
        (add(0), "amount_zero"),
        (add(10**17), "amount_too_large"),
        (add(1, day=TODAY + timedelta(days=1)), "day_in_future"),
        (add(-1, note="Sai", corrects=999_999), "unknown_corrected_entry"),
    ]:
        before = counts(database)
        with pytest.raises(OutcomeError) as refused:
            run(database, settings, hùng, case.case_id, fn)
        assert refused.value.code == code
        assert counts(database) == before

    fix = run(
        database,
        settings,
        hùng,
        case.case_id,
        add(
            -500_000_000, note=f"Nhập nhầm số tiền của bút toán {first} và {second}", corrects=first
        ),
    )
    with database.read_session() as db:
        assert outcomes.recovered_total(db, case.case_id) == 0  # down to zero, never below
        actor = load_actor(db, hùng.id, hùng.identity)
        row = db.get(Case, case.case_id)
        assert row is not None
        staff = case_identities(db, actor, row)[KeyKind.STAFF]
        lines = outcomes.load_ledger(db, BlobStore(settings.blob_path), case.case_id, staff)
    assert [(line.entry.amount_vnd, line.running_total) for line in lines] == [
        (300_000_000, 300_000_000),
        (200_000_000, 500_000_000),
        (-500_000_000, 0),
    ]
    assert lines[0].note == NOTE and lines[1].note is None  # decrypted: the control
    assert lines[2].entry.corrects_id == first and lines[2].entry.id == fix
    # The note is stored encrypted: its words are in no file and no row.
    files = list(settings.blob_path.rglob("*"))
    assert files and not any(NOTE.encode() in f.read_bytes() for f in files if f.is_file())
    with database.read_session() as db:
        blob = db.get(Blob, lines[0].entry.note_blob_id)
        assert blob is not None and blob.kind == "note"
        events = db.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "recovery.entry_added")
        ).all()
        assert len(events) == 3 and not any("Sở Tài nguyên" in d for d in events)

    # No one edits or deletes an entry, not even a direct domain attempt.
    with pytest.raises(LedgerImmutableError), database.session() as db:
        entry = db.get(RecoveryEntry, first)
        assert entry is not None
        entry.amount_vnd = 1
        db.flush()
    with pytest.raises(LedgerImmutableError), database.session() as db:
        entry = db.get(RecoveryEntry, first)
        assert entry is not None
        db.delete(entry)
        db.flush()
    with database.read_session() as db:
        assert outcomes.recovered_total(db, case.case_id) == 0
        assert db.scalar(select(func.count()).select_from(RecoveryEntry)) == 3


def test_only_the_holding_unit_keeps_the_ledger(
    database: Database, settings: Settings, case: SubmittedCase, hùng: ReviewerKeys
) -> None:
    outsider = make_reviewer(database, "inspection", username="người-ngoài")
    observer = make_reviewer(database, "intake", role=Role.OBSERVER, username="giám-sát")
    for who in (outsider, observer):
        with pytest.raises(AccessDenied):
            run(database, settings, who, case.case_id, add(1_000_000))
    assert counts(database)[2] == 0
    run(database, settings, hùng, case.case_id, add(1_000_000))  # the control
    assert counts(database)[2] == 1


def test_the_purge_takes_the_ledger_and_the_outcome_with_the_case(
    database: Database, settings: Settings, case: SubmittedCase, hùng: ReviewerKeys
) -> None:
    """The one way entries leave: the retention purge of the whole case (a Core DELETE,
    the database's cascades, through a correction that points at another entry)."""
    from app.cases import retention

    run(database, settings, hùng, case.case_id, close("substantiated", FIGURES))
    first = run(database, settings, hùng, case.case_id, add(300_000_000))
    run(database, settings, hùng, case.case_id, add(-100_000_000, "Ghi thừa", corrects=first))
    assert counts(database)[:3] == (1, 2, 2)
    later = date.today() + timedelta(days=400)
    with unit_of_work.transaction(database.sessionmaker) as db:
        retention.purge_case(
            db, BlobStore(settings.blob_path), case.case_id, actor="cli", today=later
        )
    assert counts(database)[:3] == (0, 0, 0)
