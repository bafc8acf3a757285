"""Reports entered at the reception desk (app.cases.desk): who may, how the named
identity is sealed, and what time the entry leaves at rest."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import audit, clock
from app.cases import unit_of_work
from app.cases.access import AccessDenied, load_actor
from app.cases.desk import (
    DeskReceipt,
    DeskReport,
    InvalidChannelError,
    PaperScan,
    enter_at_desk,
    parse_channel,
)
from app.cases.identity import IdentityFields, open_identity
from app.cases.keys import try_unwrap
from app.cases.reading import open_case
from app.cases.submission import CaseChoices, ReceiptSettings
from app.database import Database
from app.models import AuditEvent, Blob, Case, SealedIdentity
from app.models.vocabulary import BlobKind, IntakeChannel, Role
from app.storage import BlobStore
from config import Settings, load_secrets
from crypto import AgeError, decrypt_bytes
from tests.factories import ReviewerKeys, make_custodian, make_reviewer, report_answers
from tests.test_time_at_rest import (
    TIME_IN_TEXT,
    has_time_of_day,
    snapshot,
    texts_of,
    times_of,
    written,
)

pytestmark = pytest.mark.both_backends

CANARY = "CANARY-tên-thật-4b2d"
LE_THI_UY = IdentityFields(
    full_name=f"Lê Thị Ủy {CANARY}",
    id_number="092187005678",
    address="Số 12 đường Nguyễn Trãi, phường Cái Khế, Cần Thơ",
    contact="0907 654 321",
)
LETTER = PaperScan("đơn tố cáo.pdf", "application/pdf", b"%PDF-1.4 don to cao " * 30)


def desk_report(identity: IdentityFields | None = None, **answers: str) -> DeskReport:
    values = report_answers(**answers)
    return DeskReport(
        channel=IntakeChannel.IN_PERSON,
        choices=CaseChoices(values["category"], values["sector"]),
        answers=values,
        identity=identity,
    )


def enter(
    database: Database, settings: Settings, who: ReviewerKeys, report: DeskReport
) -> DeskReceipt:
    receipts = ReceiptSettings.from_config(
        load_secrets(settings.secrets_file).receipt_salt, settings.receipt_kdf
    )
    with unit_of_work.transaction(database.sessionmaker) as db:
        return enter_at_desk(
            db,
            BlobStore(settings.blob_path),
            receipts,
            load_actor(db, who.id, who.identity),
            report,
            [LETTER],
            deadlines=settings.deadlines,
        )


def test_the_identity_a_desk_officer_types_is_sealed_from_them(
    database: Database, settings: Settings
) -> None:
    officer = make_reviewer(database, "intake", username="le-thi-uy-ban")
    custodian = make_reviewer(database, "intake", username="truong-ban-tiep-dan")
    make_custodian(database, custodian, "intake")
    entered = enter(database, settings, officer, desk_report(LE_THI_UY))
    store = BlobStore(settings.blob_path)
    case_id = entered.stored.case_id
    with database.read_session() as db:
        seal = db.get(SealedIdentity, case_id)
        assert seal is not None
        sealed_file = store.read(
            db.scalars(
                select(Blob.storage_key).where(
                    Blob.case_id == case_id, Blob.kind == BlobKind.IDENTITY.value
                )
            ).one()
        )
        # The officer's own key opens neither the wrap nor the file, nor the domain's door.
        assert try_unwrap(seal.wrap, [officer.identity]) is None
        with pytest.raises(AgeError):
            decrypt_bytes(sealed_file, [officer.identity])
        case = db.get(Case, case_id)
        assert case is not None
        with pytest.raises(AccessDenied):
            open_identity(db, store, load_actor(db, officer.id, officer.identity), case)
        # ... they do read the report they entered, as any member of the intake unit.
        report = open_case(db, store, load_actor(db, officer.id, officer.identity), case_id)
        assert CANARY not in repr(report)
    # Positive control: the custodian opens it.
    with database.session() as db:
        case = db.get(Case, case_id)
        assert case is not None
        actor = load_actor(db, custodian.id, custodian.identity)
        assert CANARY in open_identity(db, store, actor, case).full_name


def test_an_entry_keeps_the_day_only(database: Database, settings: Settings) -> None:
    officer = make_reviewer(database, "intake", username="ngo-thi-uyen")
    before = snapshot(database)
    entered = enter(database, settings, officer, desk_report())
    rows = written(before, snapshot(database))
    assert entered.day == clock.reporter_day() or entered.day < clock.reporter_day()
    assert {"cases", "blobs", "held_audit_events"} <= set(rows)
    timed = [(t, c) for t, c, value in times_of(rows) if has_time_of_day(value)]
    assert timed == []
    assert [(t, c) for t, c, text in texts_of(rows) if TIME_IN_TEXT.search(text)] == []
    # Nothing chained: the officer's event waits with the case's for the day's end ...
    assert "audit_events" not in rows
    held = {(e["action"], e["actor"]) for e in rows["held_audit_events"]}
    assert held == {
        ("case.submitted", "reporter"),
        ("case.entered_at_desk", f"reviewer:{officer.id}"),
    }
    # ... and then carries the officer's name with the day's label, not a time.
    with unit_of_work.transaction(database.sessionmaker) as db:
        audit.release_held(db, today=entered.day.replace(year=entered.day.year + 1))
    with database.read_session() as db:
        event = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "case.entered_at_desk")
        ).one()
        assert event.actor == f"reviewer:{officer.id}"
        assert not has_time_of_day(event.created_at)
        assert event.case_id == entered.stored.case_id


@pytest.mark.parametrize(
    ("units", "role"),
    [(("inspection",), Role.REVIEWER), (("intake",), Role.OBSERVER), (("oversight",), Role.ADMIN)],
)
def test_only_the_intake_unit_enters_reports(
    database: Database, settings: Settings, units: tuple[str, ...], role: Role
) -> None:
    outsider = make_reviewer(database, *units, role=role)
    with pytest.raises(AccessDenied):
        enter(database, settings, outsider, desk_report())
    with database.read_session() as db:
        assert db.scalars(select(Case.id)).all() == []
    assert [p for p in settings.blob_path.rglob("*") if p.is_file()] == []


def test_the_desk_channels() -> None:
    assert parse_channel("phone") is IntakeChannel.PHONE
    for refused in ("web", "", None, "thư tay"):
        with pytest.raises(InvalidChannelError):
            parse_channel(refused)
