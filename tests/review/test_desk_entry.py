"""The reception desk (issue 15): a desk officer of the intake unit enters a report made
in person, by phone or by letter; the citizen's printed receipt opens it on the intake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.database import Database
from app.models import Blob, Case, HeldAuditEvent, SealedIdentity
from app.models.vocabulary import BlobKind
from config import Settings
from crypto import Identity, decrypt_bytes
from tests.conftest import CsrfClient
from tests.factories import CITIZEN, LETTER_NAME, case_ids, desk_form, open_case, receipt_from
from tests.review.conftest import StaffFactory, assert_no_leak, audit_actions, held_actions
from tests.test_time_at_rest import snapshot

DESK = "/desk/report"
SUMMARY = "Cán bộ xã Mỹ Khánh đòi tiền khi cấp sổ đỏ"
LETTER = b"%PDF-1.4\n" + "Đơn tố cáo của bà Lê Thị Ủy. CANARY-thư-7c1e\n".encode() * 40


def enter(officer: Any, data: dict[str, Any]) -> Any:
    return officer.client.submit(DESK, data, content_type="multipart/form-data")


def stored_files(settings: Settings) -> list[Path]:
    return [p for p in Path(settings.blob_path).rglob("*") if p.is_file()]


def nothing_stored(database: Database) -> tuple[int, int, int]:
    with database.read_session() as db:
        return (
            db.scalar(select(func.count()).select_from(Case)) or 0,
            db.scalar(select(func.count()).select_from(Blob)) or 0,
            db.scalar(select(func.count()).select_from(HeldAuditEvent)) or 0,
        )


def test_an_anonymous_walk_in_gets_a_slip_whose_receipt_opens_the_case_on_the_intake(
    staff: StaffFactory, database: Database, settings: Settings, intake_client: CsrfClient
) -> None:
    officer = staff("le-thi-uy", "intake")
    form = officer.client.get(DESK)
    assert form.status_code == 200
    assert 'name="channel"' in form.get_data(as_text=True)
    response = enter(officer, desk_form(summary=SUMMARY, letter=LETTER))
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    receipt = receipt_from(response)
    assert "Anonymous information" in page and "In person at the reception office" in page
    assert "/followup" in page
    assert "no-store" in response.headers["Cache-Control"]
    (case_id,) = case_ids(database)
    with database.read_session() as db:
        case = db.get(Case, case_id)
        assert case is not None
        assert (case.channel, case.track) == ("in_person", "anonymous")
        assert db.get(SealedIdentity, case_id) is None
        kinds = sorted(db.scalars(select(Blob.kind).where(Blob.case_id == case_id)))
    assert kinds == [BlobKind.ATTACHMENT.value, BlobKind.REPORT.value]
    # Encrypted at rest: neither the answers nor the letter is in any stored file ...
    for path in stored_files(settings):
        assert b"CANARY" not in path.read_bytes() and SUMMARY.encode() not in path.read_bytes()
    # The receipt is not kept anywhere: not in any row, not in any file of the instance.
    digits, rows = receipt.replace(" ", ""), str(snapshot(database))
    assert case_id in rows and "in_person" in rows  # positive control: the rows are read
    assert digits not in rows and receipt not in rows
    for path in Path(settings.instance_path).rglob("*"):
        if path.is_file():
            assert digits.encode() not in path.read_bytes(), path
    # ... and the staff action is held to the day with the reporter's, not chained now.
    assert held_actions(database, case_id) == ["case.entered_at_desk", "case.submitted"]
    assert audit_actions(database, case_id) == []
    # The citizen, at home, types the printed receipt into the intake's follow-up form.
    followup = open_case(intake_client, receipt)
    if followup.status_code in (302, 303):
        followup = intake_client.get(followup.headers["Location"])
    text = followup.get_data(as_text=True)
    assert followup.status_code == 200, text[:2000]
    assert SUMMARY in text and LETTER_NAME in text


def test_a_named_walk_in_is_sealed_and_the_slip_gives_the_statutory_notice(
    staff: StaffFactory,
    database: Database,
    settings: Settings,
    intake_client: CsrfClient,
    recovery_identity: Identity,
) -> None:
    officer = staff("tran-van-duc", "intake")
    officer.client.get("/?lang=vi")
    response = enter(officer, desk_form(channel="letter", named=True, letter=LETTER))
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    receipt = receipt_from(response)
    assert "Tố cáo" in page or "tố cáo" in page
    assert "Luật Tố cáo" in page and "7 ngày làm việc" in page
    assert_no_leak(page, CITIZEN["identity_full_name"], CITIZEN["identity_id_number"])
    (case_id,) = case_ids(database)
    with database.read_session() as db:
        case = db.get(Case, case_id)
        seal = db.get(SealedIdentity, case_id)
        assert case is not None and seal is not None
        assert (case.channel, case.track) == ("letter", "named")
        identity_blob = db.scalars(
            select(Blob).where(Blob.case_id == case_id, Blob.kind == BlobKind.IDENTITY.value)
        ).one()
        officer_key = officer.account.public_key
        wrap_recipients = seal.recipients
    # Sealed to the custodians and the recovery key, never to the officer who typed it.
    assert officer_key not in wrap_recipients
    from app.cases.keys import try_unwrap

    key = try_unwrap(seal.wrap, [recovery_identity])
    assert key is not None  # positive control: the recovery key opens it
    sealed_file = (Path(settings.blob_path) / identity_blob.storage_key).read_bytes()
    assert CITIZEN["identity_full_name"].encode() not in sealed_file
    assert CITIZEN["identity_full_name"] in decrypt_bytes(sealed_file, [key]).decode()
    followup = open_case(intake_client, receipt)
    if followup.status_code in (302, 303):
        followup = intake_client.get(followup.headers["Location"])
    assert followup.status_code == 200
    assert LETTER_NAME in followup.get_data(as_text=True)


@pytest.mark.parametrize(
    "change",
    [
        {"summary": ""},  # a required answer missing
        {"channel": "web"},  # not a desk channel
        {"channel": "bồ câu đưa thư"},
        {"category": "không-có"},
        {"track": "named", "identity_full_name": ""},
        {"track": "nửa tên"},
        {"excluded_units": ["intake"]},
    ],
    ids=["no-summary", "web", "unknown-channel", "category", "no-name", "track", "exclusion"],
)
def test_refused_input_changes_nothing(
    staff: StaffFactory, database: Database, settings: Settings, change: dict[str, Any]
) -> None:
    officer = staff("nguyen-thi-ha", "intake")
    data = desk_form(named=change.get("track") == "named", letter=LETTER)
    data.update(change)
    before = nothing_stored(database)
    response = enter(officer, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page[:2000]
    assert 'id="receipt-code"' not in page
    assert "attach them again" in page
    assert nothing_stored(database) == before == (0, 0, 0)
    assert stored_files(settings) == []
    # Positive control: the same officer, the same form put right, is stored.
    assert enter(officer, desk_form(letter=LETTER)).status_code == 200
    assert nothing_stored(database)[0] == 1


@pytest.mark.parametrize(
    ("units", "role"),
    [(("inspection",), "reviewer"), (("intake",), "observer"), (("investigation",), "admin")],
    ids=["other-unit", "observer", "admin-elsewhere"],
)
def test_only_members_of_the_intake_unit_enter_reports(
    staff: StaffFactory, database: Database, settings: Settings, units: tuple[str, ...], role: str
) -> None:
    outsider = staff("pham-quoc-bao", *units, role=role)
    assert outsider.client.get(DESK).status_code == 403
    response = outsider.client.submit(
        "/account/password",
        desk_form(letter=LETTER),
        action=DESK,
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert nothing_stored(database) == (0, 0, 0)
    assert stored_files(settings) == []
    assert "Reception desk" not in outsider.client.get("/account/password").get_data(as_text=True)


def test_the_menu_offers_the_desk_to_its_officers(staff: StaffFactory) -> None:
    officer = staff("vo-thi-nga", "intake")
    assert "Reception desk" in officer.client.get("/account/password").get_data(as_text=True)


def test_logged_out_goes_to_login(review_client: CsrfClient) -> None:
    response = review_client.get(DESK)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
