"""The sealed identity of a named denunciation (issue 13 §2): readable by the holding
unit's custodians and the recovery key, never by an ordinary member with their real key;
by a requester only after another person, a custodian, approved; routing moves it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.audit import recorded_actions
from app.cases import identity as sealed
from app.cases import resealing, unit_of_work, unsealing
from app.cases.access import AccessDenied, load_actor
from app.cases.identity import IdentityFields
from app.cases.keys import try_unwrap
from app.cases.workflow import route
from app.database import Database
from app.models import Blob, Case, SealedIdentity
from app.models.vocabulary import BlobKind, Track
from app.storage import BlobStore
from config import Settings
from crypto import AgeError, Identity, decrypt_bytes
from tests.factories import ReviewerKeys, make_custodian, make_reviewer, submit_case

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)

CANARY = "CANARY-danh-tính-9f3e71"
NGUYEN = IdentityFields(
    full_name=f"Nguyễn Thị Ủ {CANARY}",
    id_number="092187001234",
    address="Đường Trần Hưng Đạo, phường Ninh Kiều, Cần Thơ",
    contact="0901 234 567",
)


def identity_blob(database: Database, store: BlobStore, case_id: str) -> bytes:
    with database.read_session() as db:
        blob = db.scalars(
            select(Blob).where(Blob.case_id == case_id, Blob.kind == BlobKind.IDENTITY.value)
        ).one()
        return store.read(blob.storage_key)


def seal_opens(database: Database, case_id: str, identity: Identity) -> bool:
    with database.read_session() as db:
        seal = db.get(SealedIdentity, case_id)
        assert seal is not None
        return try_unwrap(seal.wrap, [identity]) is not None


def opened(database: Database, settings: Settings, case_id: str, who: ReviewerKeys) -> str:
    with database.session() as db:
        case = db.get(Case, case_id)
        assert case is not None
        actor = load_actor(db, who.id, who.identity)
        return sealed.open_identity(db, BlobStore(settings.blob_path), actor, case).full_name


@pytest.fixture
def people(database: Database) -> dict[str, ReviewerKeys]:
    head = make_reviewer(database, "intake", username="truong-phong-hung")
    make_custodian(database, head, "intake")
    return {
        "head": head,
        "member": make_reviewer(database, "intake", username="le-thi-dieu"),
        "colleague": make_reviewer(database, "intake", username="pham-van-duong"),
    }


def test_only_custodians_and_the_recovery_key_open_the_identity(
    database: Database,
    settings: Settings,
    recovery_identity: Identity,
    people: dict[str, ReviewerKeys],
) -> None:
    case = submit_case(database, settings, identity=NGUYEN)
    store = BlobStore(settings.blob_path)
    sealed_file = identity_blob(database, store, case.case_id)
    with database.read_session() as db:
        row = db.get(Case, case.case_id)
        assert row is not None and row.track == Track.NAMED.value
    # The ordinary member's real key opens neither the wrap nor the file ...
    member = people["member"]
    assert not seal_opens(database, case.case_id, member.identity)
    with pytest.raises(AgeError):
        decrypt_bytes(sealed_file, [member.identity])
    with pytest.raises(AccessDenied):
        opened(database, settings, case.case_id, member)
    # ... while they do read the report (they handle the content).
    from app.cases.reading import open_case

    with database.read_session() as db:
        actor = load_actor(db, member.id, member.identity)
        report = open_case(db, store, actor, case.case_id)
    assert "Chi tiết vụ việc" in repr(report.report)
    assert CANARY not in repr(report)
    # Positive controls: the custodian and the recovery identity read the name.
    assert CANARY in opened(database, settings, case.case_id, people["head"])
    with database.read_session() as db:
        seal = db.get(SealedIdentity, case.case_id)
        assert seal is not None
        key = try_unwrap(seal.wrap, [recovery_identity])
    assert key is not None
    assert CANARY in decrypt_bytes(sealed_file, [key]).decode()
    assert "identity.opened" in recorded_actions_of(database)


def recorded_actions_of(database: Database) -> list[str]:
    with database.read_session() as db:
        return recorded_actions(db)


def test_the_case_key_and_staff_key_do_not_open_the_identity(
    database: Database, settings: Settings, people: dict[str, ReviewerKeys]
) -> None:
    from app.cases.grants import open_case_keys

    case = submit_case(database, settings, identity=NGUYEN)
    sealed_file = identity_blob(database, BlobStore(settings.blob_path), case.case_id)
    with database.read_session() as db:
        row = db.get(Case, case.case_id)
        assert row is not None
        keys = open_case_keys(db, row, [people["member"].identity])
    assert len(keys) == 2  # positive control: the member holds both case keys
    with pytest.raises(AgeError):
        decrypt_bytes(sealed_file, list(keys.values()))


def test_unsealing_takes_a_request_and_another_persons_approval(
    database: Database, settings: Settings, people: dict[str, ReviewerKeys]
) -> None:
    case = submit_case(database, settings, identity=NGUYEN)
    member, head = people["member"], people["head"]
    with database.session() as db:
        row = db.get(Case, case.case_id)
        assert row is not None
        actor = load_actor(db, member.id, member.identity)
        with pytest.raises(unsealing.ReasonRequiredError):
            unsealing.request_unseal(db, actor, row, "   ", today=row.created_day)
        request = unsealing.request_unseal(
            db, actor, row, "Cần xác minh lời khai của người tố cáo", today=row.created_day
        )
        request_id = request.id
    # Requested is not granted.
    with pytest.raises(AccessDenied):
        opened(database, settings, case.case_id, member)
    # The requester cannot approve, nor can a non-custodian member.
    with database.session() as db:
        row = db.get(Case, case.case_id)
        assert row is not None
        with pytest.raises(unsealing.NotCustodianError):
            unsealing.approve_unseal(
                db,
                load_actor(db, people["colleague"].id, people["colleague"].identity),
                row,
                request_id,
                today=row.created_day,
            )
    make_custodian(database, member, "intake")  # even a custodian requester
    with database.session() as db:
        row = db.get(Case, case.case_id)
        assert row is not None
        with pytest.raises(unsealing.OwnRequestError):
            unsealing.approve_unseal(
                db,
                load_actor(db, member.id, member.identity),
                row,
                request_id,
                today=row.created_day,
            )
    with database.session() as db:
        row = db.get(Case, case.case_id)
        assert row is not None
        unsealing.approve_unseal(
            db, load_actor(db, head.id, head.identity), row, request_id, today=row.created_day
        )
    assert CANARY in opened(database, settings, case.case_id, member)
    # The colleague who did not ask still cannot.
    with pytest.raises(AccessDenied):
        opened(database, settings, case.case_id, people["colleague"])
    actions = recorded_actions_of(database)
    assert {"identity.unseal_requested", "identity.unsealed"} <= set(actions)
    with database.read_session() as db:
        shown = unsealing.unsealings_for_reporter(db, case.case_id)
        row = db.get(Case, case.case_id)
        assert row is not None
        assert [(u.day, u.unit_id) for u in shown] == [(row.created_day, row.holding_unit_id)]


def test_routing_moves_custodianship(
    database: Database,
    settings: Settings,
    recovery_identity: Identity,
    people: dict[str, ReviewerKeys],
) -> None:
    case = submit_case(database, settings, identity=NGUYEN)
    inspector_head = make_reviewer(database, "inspection", username="chanh-thanh-tra-dang")
    make_custodian(database, inspector_head, "inspection")
    with database.session() as db:
        row = db.get(Case, case.case_id)
        assert row is not None
        head = people["head"]
        route(db, load_actor(db, head.id, head.identity), row, "inspection", "Thuộc thẩm quyền")
    with database.read_session() as db:
        stale = resealing.stale_seals(db)
    assert [c.id for c, _ in stale] == [case.case_id]
    assert not seal_opens(database, case.case_id, inspector_head.identity)
    # The old custodian (who can open it) reseals for the new unit's custodians.
    with database.session() as db:
        assert resealing.reseal_stale(db, [people["head"].identity], actor_label="reviewer:1") == 1
    assert seal_opens(database, case.case_id, inspector_head.identity)
    assert not seal_opens(database, case.case_id, people["head"].identity)
    assert seal_opens(database, case.case_id, recovery_identity)
    assert CANARY in opened(database, settings, case.case_id, inspector_head)
    with database.read_session() as db:
        assert resealing.stale_seals(db) == []


def test_the_recovery_key_reseals_when_no_custodian_existed(
    database: Database, settings: Settings, recovery_identity: Identity
) -> None:
    case = submit_case(database, settings, identity=NGUYEN)  # intake has no custodian yet
    head = make_reviewer(database, "intake", username="truong-phong-hung")
    make_custodian(database, head, "intake")
    assert not seal_opens(database, case.case_id, head.identity)
    with database.session() as db:
        assert resealing.reseal_stale(db, [head.identity], actor_label="reviewer:1") == 0
        assert resealing.reseal_stale(db, [recovery_identity], actor_label="cli:op") == 1
    assert seal_opens(database, case.case_id, head.identity)


def test_an_anonymous_report_has_no_seal(database: Database, settings: Settings) -> None:
    case = submit_case(database, settings)
    with database.read_session() as db:
        row = db.get(Case, case.case_id)
        assert row is not None and row.track == Track.ANONYMOUS.value
        assert db.get(SealedIdentity, case.case_id) is None
        assert not db.scalars(select(Blob).where(Blob.kind == BlobKind.IDENTITY.value)).all()


def test_the_canary_is_nowhere_at_rest(
    database: Database,
    settings: Settings,
    people: dict[str, ReviewerKeys],
    tmp_path: Path,
    backend: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    case = submit_case(database, settings, identity=NGUYEN)
    needles = [CANARY.encode(), "Ninh Kiều".encode(), b"092187001234"]
    # Every table, every column, as text.
    with database.read_session() as db:
        from app.models import Base

        dump = []
        for table in Base.metadata.sorted_tables:
            for values in db.execute(table.select()).all():
                dump.append(repr(tuple(values)).encode())
    haystacks = {"database rows": b"\n".join(dump)}
    if backend == "sqlite":
        for path in (tmp_path / "instance").rglob("*"):
            if path.is_file():
                haystacks[str(path)] = path.read_bytes()
    for path in Path(settings.blob_path).rglob("*"):
        if path.is_file():
            haystacks[str(path)] = path.read_bytes()
    haystacks["logs"] = caplog.text.encode()
    for where, data in haystacks.items():
        for needle in needles:
            assert needle not in data, f"{needle!r} found in {where}"
    # Positive control: the same search finds the canary in the decrypted identity.
    decrypted = opened(database, settings, case.case_id, people["head"]).encode()
    assert CANARY.encode() in decrypted


def test_an_export_carries_the_identity_only_sealed(
    database: Database,
    settings: Settings,
    recovery_identity: Identity,
    people: dict[str, ReviewerKeys],
    tmp_path: Path,
) -> None:
    from app.cases.export import export_case

    case = submit_case(database, settings, identity=NGUYEN)
    with unit_of_work.transaction(database.sessionmaker) as db:
        result = export_case(db, BlobStore(settings.blob_path), case.case_id, tmp_path / "out")
    folder = result.path
    sealed_file = (folder / "identity" / "identity.age").read_bytes()
    wrap = (folder / "identity" / "identity-key.age").read_bytes()
    for path in folder.rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path
    # The case key (what the rest of the export opens with) does not open it ...
    case_key = try_unwrap((folder / "case-key.age").read_bytes(), [recovery_identity])
    assert case_key is not None
    with pytest.raises(AgeError):
        decrypt_bytes(sealed_file, [case_key])
    # ... the recovery identity does, through the identity key's wrap.
    key = try_unwrap(wrap, [recovery_identity])
    assert key is not None
    assert CANARY in decrypt_bytes(sealed_file, [key]).decode()
