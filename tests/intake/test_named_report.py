"""The named track on the no-JavaScript form (issue 13 §1-§2): the identity is sealed as
it is read; a named report without its identity is refused whole, in Vietnamese and
English; the anonymous track stays the default."""

from __future__ import annotations

from sqlalchemy import func, select

from app.cases.keys import try_unwrap
from app.database import Database
from app.models import Blob, Case, SealedIdentity
from app.models.vocabulary import BlobKind, Track
from config import Settings
from crypto import AgeError, decrypt_bytes
from tests.conftest import CsrfClient
from tests.factories import (
    ReviewerKeys,
    make_custodian,
    make_reviewer,
    receipt_from,
    report_answers,
    send_report,
)

CANARY = "CANARY-form-7c1d"
IDENTITY = {
    "track": "named",
    "identity_full_name": f"Nguyễn Thị Ủ {CANARY}",
    "identity_id_number": "092187001234",
    "identity_address": "Đường Trần Hưng Đạo, phường Ninh Kiều",
    "identity_contact": "0901 234 567",
}


def _count(database: Database, model: type) -> int:
    with database.read_session() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_the_form_offers_both_tracks_anonymous_first(intake_client: CsrfClient) -> None:
    html = intake_client.get("/report").get_data(as_text=True)
    assert 'name="track" value="anonymous" checked' in html
    assert 'name="track" value="named"' in html
    for name in (
        "identity_full_name",
        "identity_id_number",
        "identity_address",
        "identity_contact",
    ):
        assert f'name="{name}"' in html
    assert "niêm phong" in html  # the identity is sealed, said in Vietnamese
    assert "khiếu nại" in html  # complaints follow another procedure


def test_a_named_report_reaches_intake_with_its_identity_sealed(
    intake_client: CsrfClient, database: Database, settings: Settings
) -> None:
    head = make_reviewer(database, "intake", username="truong-phong-hung")
    make_custodian(database, head, "intake")
    member = make_reviewer(database, "intake", username="le-thi-dieu")
    response = send_report(intake_client, {**report_answers(), **IDENTITY})
    assert response.status_code == 200
    receipt_from(response)
    with database.read_session() as db:
        case = db.scalars(select(Case)).one()
        seal = db.scalars(select(SealedIdentity)).one()
        blob = db.scalars(select(Blob).where(Blob.kind == BlobKind.IDENTITY.value)).one()
    assert case.track == Track.NAMED.value
    sealed_file = (settings.blob_path / blob.storage_key).read_bytes()
    assert CANARY.encode() not in sealed_file
    # The ordinary member's real key: neither the wrap nor the file opens.
    assert try_unwrap(seal.wrap, [member.identity]) is None
    try:
        decrypt_bytes(sealed_file, [member.identity])
        raise AssertionError("an ordinary member decrypted the sealed identity")
    except AgeError:
        pass
    # The custodian's does (positive control).
    key = try_unwrap(seal.wrap, [head.identity])
    assert key is not None
    assert CANARY in decrypt_bytes(sealed_file, [key]).decode()


def test_a_named_report_without_identity_stores_nothing(
    intake_client: CsrfClient, database: Database, settings: Settings
) -> None:
    answers = {**report_answers(), **IDENTITY, "identity_address": "  "}
    response = send_report(intake_client, answers, files=[(b"scan", "biên bản họp.pdf")])
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Cần điền mục này để tố cáo có danh tính." in html
    assert 'id="error-identity_address"' in html
    assert "Cán bộ phường đòi tiền" in html  # what was typed is kept
    assert _count(database, Case) == 0 and _count(database, Blob) == 0
    assert _count(database, SealedIdentity) == 0
    assert [p for p in settings.blob_path.rglob("*") if p.is_file()] == []


def test_named_errors_in_english(intake_client: CsrfClient, database: Database) -> None:
    intake_client.get("/report?lang=en")
    answers = {**report_answers(), **IDENTITY, "identity_full_name": ""}
    response = send_report(intake_client, answers)
    assert response.status_code == 400
    assert "This is required to denounce with your name." in response.get_data(as_text=True)
    assert _count(database, Case) == 0


def test_an_unknown_track_is_refused(intake_client: CsrfClient, database: Database) -> None:
    response = send_report(intake_client, {**report_answers(), "track": "loud"})
    assert response.status_code == 400
    assert _count(database, Case) == 0


def test_anonymous_is_the_default_and_ignores_identity_fields(
    intake_client: CsrfClient, database: Database, intake_reviewer: ReviewerKeys
) -> None:
    answers = {**report_answers(), **IDENTITY, "track": "anonymous"}
    assert send_report(intake_client, answers).status_code == 200
    assert send_report(intake_client, report_answers()).status_code == 200
    with database.read_session() as db:
        assert {c.track for c in db.scalars(select(Case))} == {Track.ANONYMOUS.value}
        assert db.scalars(select(SealedIdentity)).all() == []
    assert _count(database, Blob) == 2
