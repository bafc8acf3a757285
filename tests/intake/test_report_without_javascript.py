"""The no-JavaScript path: the server encrypts while the upload streams in."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.cases.keys import unwrap_identity_with_keys
from app.database import Database
from app.models import Blob, Case, CaseExclusion, CaseKey, Unit
from app.models.vocabulary import KeyKind
from config import Settings
from crypto import Identity, decrypt_bytes, padme_length
from tests.conftest import CsrfClient
from tests.factories import ReviewerKeys, receipt_from, report_answers, send_report


def _count(database: Database, model: type) -> int:
    with database.read_session() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_form_fields_are_the_question_ids(intake_client: CsrfClient) -> None:
    html = intake_client.get("/report").get_data(as_text=True)
    for name in ("category", "sector", "summary", "details", "contact"):
        assert f'name="{name}"' in html
    assert 'name="attachments" multiple' in html
    assert 'value="inspection"' in html and 'value="investigation"' in html
    assert 'name="excluded_units" value="intake"' not in html


def test_report_is_stored_encrypted_and_opens_with_the_receipt(
    intake_client: CsrfClient, database: Database, intake_reviewer: ReviewerKeys
) -> None:
    photo = b"\x89PNG fake photo bytes " * 100
    response = send_report(intake_client, files=[(photo, "anh-hien-truong.png")])
    assert response.status_code == 200
    receipt = receipt_from(response)
    with database.read_session() as db:
        case = db.scalars(select(Case)).one()
        assert case.category == "corruption" and case.sector == "land_construction"
        assert case.status == "new" and case.reference.startswith("CT-")
        wraps = {k.kind: k for k in db.scalars(select(CaseKey))}
        blobs = db.scalars(select(Blob).order_by(Blob.position)).all()
    assert [b.kind for b in blobs] == ["report", "attachment"]
    # The intake reviewer can open the case key and read everything.
    case_identity = unwrap_identity_with_keys(wraps[KeyKind.CASE].wrap, [intake_reviewer.identity])
    assert str(case_identity.recipient) == case.case_recipient
    unwrap_identity_with_keys(wraps[KeyKind.STAFF].wrap, [intake_reviewer.identity])

    page = intake_client.submit("/followup", {"receipt": receipt}, action="/followup")
    assert page.status_code == 303
    case_page = intake_client.get("/followup/case").get_data(as_text=True)
    assert "Cán bộ phường đòi tiền" in case_page
    assert "anh-hien-truong.png" in case_page
    assert case.reference not in case_page  # never shown to the reporter
    download = intake_client.get(f"/followup/attachments/{blobs[1].id}")
    assert download.status_code == 200
    assert download.data == photo
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_missing_required_answer_changes_nothing_and_keeps_what_was_typed(
    intake_client: CsrfClient, database: Database, settings: Settings
) -> None:
    answers = report_answers(details="")
    response = send_report(intake_client, answers, files=[(b"secret scan", "scan.pdf")])
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "bắt buộc" in html  # Vietnamese by default
    assert "Cán bộ phường đòi tiền" in html  # the summary is kept
    assert _count(database, Case) == 0 and _count(database, Blob) == 0
    assert [p for p in settings.blob_path.rglob("*") if p.is_file()] == []


def test_english_errors(intake_client: CsrfClient) -> None:
    intake_client.get("/?lang=en")
    response = send_report(intake_client, report_answers(summary=""))
    assert response.status_code == 400
    assert "is required" in response.get_data(as_text=True)


def test_unknown_excluded_unit_is_refused(intake_client: CsrfClient, database: Database) -> None:
    response = send_report(intake_client, excluded=["intake"])
    assert response.status_code == 400
    assert _count(database, Case) == 0


def test_excluded_units_are_recorded(
    intake_client: CsrfClient, database: Database, intake_reviewer: ReviewerKeys
) -> None:
    response = send_report(intake_client, excluded=["investigation"])
    assert response.status_code == 200
    with database.read_session() as db:
        excluded = db.scalars(
            select(Unit.slug).join(CaseExclusion, CaseExclusion.unit_id == Unit.id)
        ).all()
    assert excluded == ["investigation"]


def test_attachment_over_the_limit_is_refused_and_nothing_stored(
    env: dict[str, str], database: Database, settings: Settings
) -> None:
    from app.factory import create_intake_app
    from config import load_settings

    small = load_settings({**env, "LIEMCHINH_MAX_FILE_BYTES": "2048"})
    app = create_intake_app(small, database)
    app.test_client_class = CsrfClient
    client = app.test_client()
    assert isinstance(client, CsrfClient)
    response = send_report(client, files=[(b"x" * 5000, "big.bin")])
    assert response.status_code == 413
    assert "quá lớn" in response.get_data(as_text=True)
    assert _count(database, Case) == 0
    assert [p for p in settings.blob_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("with_attachment", [True, False])
def test_blob_store_not_writable_gives_a_clear_error(
    env: dict[str, str], database: Database, tmp_path: Path, with_attachment: bool
) -> None:
    from app.factory import create_intake_app
    from config import load_settings

    # A blob store "directory" that is a file: every write fails, as on a broken mount
    # (permissions cannot be used: the tests may run as root).
    broken = tmp_path / "not-a-directory"
    broken.write_bytes(b"")
    app = create_intake_app(load_settings({**env, "LIEMCHINH_BLOB_PATH": str(broken)}), database)
    app.test_client_class = CsrfClient
    client = app.test_client()
    assert isinstance(client, CsrfClient)
    files = [(b"data", "a.txt")] if with_attachment else None
    response = send_report(client, files=files)
    assert response.status_code == 503
    assert "không lưu được" in response.get_data(as_text=True)
    assert _count(database, Case) == 0 and _count(database, Blob) == 0


@pytest.mark.skipif(not Path("/usr/bin/age").exists(), reason="the age tool is not installed")
def test_stored_files_open_with_the_age_tool_and_the_recovery_key(
    intake_client: CsrfClient,
    database: Database,
    settings: Settings,
    recovery_identity: Identity,
    tmp_path: Path,
) -> None:
    photo = bytes(range(256)) * 300
    receipt_from(send_report(intake_client, files=[(photo, "photo.jpg")]))
    with database.read_session() as db:
        wrap = db.scalars(select(CaseKey.wrap).where(CaseKey.kind == "case")).one()
        blobs = db.scalars(select(Blob).order_by(Blob.position)).all()
    (tmp_path / "recovery.txt").write_text(str(recovery_identity) + "\n")
    (tmp_path / "case-key.age").write_bytes(wrap)
    case_key = subprocess.run(
        ["age", "-d", "-i", str(tmp_path / "recovery.txt"), str(tmp_path / "case-key.age")],
        check=True,
        capture_output=True,
    ).stdout
    (tmp_path / "case-key.txt").write_bytes(case_key)
    report = subprocess.run(
        [
            "age",
            "-d",
            "-i",
            str(tmp_path / "case-key.txt"),
            str(settings.blob_path / blobs[0].storage_key),
        ],
        check=True,
        capture_output=True,
    ).stdout
    assert b"Ninh Ki" in report and b'"version":1' in report
    attachment = subprocess.run(
        [
            "age",
            "-d",
            "-i",
            str(tmp_path / "case-key.txt"),
            str(settings.blob_path / blobs[1].storage_key),
        ],
        check=True,
        capture_output=True,
    ).stdout
    # Padded with zero bytes to its PADMÉ length inside the encryption (docs/crypto.md).
    assert len(attachment) == padme_length(len(photo)) > len(photo)
    assert attachment == photo + bytes(len(attachment) - len(photo))
    assert decrypt_bytes(wrap, [recovery_identity]).decode().startswith("AGE-SECRET-KEY-1")
