"""Offline export: the folder opens with the recovery key and the stock ``age`` tool."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from app.cases import unit_of_work
from app.cases.export import ExportExistsError, export_case
from app.cases.payloads import AttachmentMeta, decode_message, decode_report
from app.cases.references import UnknownCaseError, find_case
from app.cases.submission import (
    CaseChoices,
)
from app.database import Database
from app.models import AuditEvent
from app.storage import BlobStore
from config import Settings
from crypto import Identity, padme_length
from tests.factories import ReviewerKeys, case_with_thread, make_reviewer

pytestmark = pytest.mark.both_backends

AGE = shutil.which("age")
needs_age = pytest.mark.skipif(AGE is None, reason="the age command-line tool is not installed")


def case_with_everything(database: Database, settings: Settings, member: ReviewerKeys) -> str:
    return case_with_thread(
        database,
        settings,
        member,
        choices=CaseChoices("waste", "education"),
        answers={"summary": "Lãng phí ngân sách", "details": "Chi tiết"},
        report_files=[
            (b"hoa don 1", AttachmentMeta("hoa-don.pdf", "application/pdf", 9)),
            (b"anh 2", AttachmentMeta("anh.jpg", "image/jpeg", 5)),
        ],
        message="Xin gửi thêm chứng từ",
        message_files=[(b"mau don", AttachmentMeta("mau.docx", "application/octet-stream", 7))],
    )


def age_decrypt(identity_file: Path, path: Path) -> bytes:
    assert AGE is not None
    done = subprocess.run(
        [AGE, "-d", "-i", str(identity_file), str(path)], capture_output=True, check=True
    )
    return done.stdout


@pytest.fixture
def member(database: Database) -> ReviewerKeys:
    return make_reviewer(database, "intake", username="can-bo-tiep-nhan")


@needs_age
def test_export_opens_with_the_recovery_key_and_age(
    database: Database,
    settings: Settings,
    member: ReviewerKeys,
    recovery_identity: Identity,
    tmp_path: Path,
) -> None:
    case_id = case_with_everything(database, settings, member)
    out = tmp_path / "export"
    with unit_of_work.transaction(database.sessionmaker) as db:
        result = export_case(db, BlobStore(settings.blob_path), case_id, out)
    folder = result.path
    assert folder.name == result.reference and folder.parent == out
    names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert names == [
        "README.txt",
        "attachments/01.age",
        "attachments/02.age",
        "case-key.age",
        "manifest.json",
        "messages/0001-attachment-01.age",
        "messages/0001.age",
        "notes/0001.age",
        "report.age",
        "staff-key.age",
    ]
    for path in folder.rglob("*"):
        expected = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == expected, path
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700

    # Step 1: the wraps open with the recovery identity.
    recovery = tmp_path / "recovery.txt"
    recovery.write_text(str(recovery_identity) + "\n")
    case_key = tmp_path / "case-key.txt"
    case_key.write_bytes(age_decrypt(recovery, folder / "case-key.age"))
    staff_key = tmp_path / "staff-key.txt"
    staff_key.write_bytes(age_decrypt(recovery, folder / "staff-key.age"))

    # Step 2: the files open with the case key (and notes with the staff key).
    report = decode_report(age_decrypt(case_key, folder / "report.age"))
    assert report.answers["summary"] == "Lãng phí ngân sách"
    assert [a.name for a in report.attachments] == ["hoa-don.pdf", "anh.jpg"]
    assert age_decrypt(case_key, folder / "attachments/01.age") == b"hoa don 1"
    assert age_decrypt(case_key, folder / "attachments/02.age") == b"anh 2"
    message = decode_message(age_decrypt(case_key, folder / "messages/0001.age"))
    assert message.text == "Xin gửi thêm chứng từ"
    assert age_decrypt(case_key, folder / "messages/0001-attachment-01.age") == b"mau don"
    note = decode_message(age_decrypt(staff_key, folder / "notes/0001.age"))
    assert note.text == "Ghi chú nội bộ"
    # The case key does not open notes.
    assert (
        subprocess.run(
            [str(AGE), "-d", "-i", str(case_key), str(folder / "notes/0001.age")],
            capture_output=True,
        ).returncode
        != 0
    )

    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert "TIẾNG VIỆT" in readme and "ENGLISH" in readme
    assert "age -d -i recovery.txt case-key.age > case-key.txt" in readme
    assert "age -d -i case-key.txt report.age" in readme
    assert "staff-key" in readme and result.reference in readme

    manifest_text = (folder / "manifest.json").read_text(encoding="utf-8")
    manifest = json.loads(manifest_text)
    assert manifest["reference"] == result.reference
    assert (manifest["category"], manifest["sector"]) == ("waste", "education")
    assert manifest["status"] == "new"
    for entry in manifest["files"]:
        digest = hashlib.sha256((folder / entry["name"]).read_bytes()).hexdigest()
        assert digest == entry["sha256"], entry["name"]
    assert len(manifest["files"]) == 8
    for secret in ("Lãng phí", "Chi tiết", "hoa-don", "Ghi chú", member.username):
        assert secret not in manifest_text
    with database.read_session() as db:
        event = db.scalars(
            select(AuditEvent).where(
                AuditEvent.case_id == case_id, AuditEvent.action == "case.exported"
            )
        ).one()
        assert event.actor == "cli"


def test_export_refuses_to_overwrite_and_unknown_cases(
    database: Database, settings: Settings, member: ReviewerKeys, tmp_path: Path
) -> None:
    case_id = case_with_everything(database, settings, member)
    store = BlobStore(settings.blob_path)
    with unit_of_work.transaction(database.sessionmaker) as db:
        first = export_case(db, store, case_id, tmp_path / "out")
        unit_of_work.commit(db)
        before = sorted(p.name for p in first.path.rglob("*"))
        with pytest.raises(ExportExistsError, match="exists already"):
            export_case(db, store, case_id, tmp_path / "out")
        assert find_case(db, first.reference).id == case_id
        with pytest.raises(UnknownCaseError):
            find_case(db, "CT-1999-00001")
    assert sorted(p.name for p in first.path.rglob("*")) == before
    # No staging folder is left behind.
    assert [p.name for p in (tmp_path / "out").iterdir()] == [first.reference]
    with database.read_session() as db:
        exported = db.scalars(select(AuditEvent).where(AuditEvent.action == "case.exported")).all()
        assert len(exported) == 1


def test_a_missing_blob_file_fails_the_export_without_a_trace(
    database: Database, settings: Settings, member: ReviewerKeys, tmp_path: Path
) -> None:
    case_id = case_with_everything(database, settings, member)
    store = BlobStore(settings.blob_path)
    victim = next(iter(store.stored_keys()))
    (store.root / victim).unlink()
    with (
        unit_of_work.transaction(database.sessionmaker) as db,
        pytest.raises(Exception, match="cannot be read"),
    ):
        export_case(db, store, case_id, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []
    with database.read_session() as db:
        assert not db.scalars(select(AuditEvent).where(AuditEvent.action == "case.exported")).all()


@needs_age
def test_padded_attachments_are_cut_to_their_size_as_the_readme_says(
    database: Database,
    settings: Settings,
    member: ReviewerKeys,
    recovery_identity: Identity,
    tmp_path: Path,
) -> None:
    document = "Biên bản họp Đảng ủy phường — bản gốc".encode() * 100
    padded = document + bytes(padme_length(len(document)) - len(document))
    case_id = case_with_thread(
        database,
        settings,
        member,
        choices=CaseChoices("corruption", "land_construction"),
        answers={"summary": "Hồ sơ đất đai", "details": "Chi tiết"},
        report_files=[
            (padded, AttachmentMeta("biên bản họp.pdf", "application/pdf", len(document)))
        ],
        message="Xin gửi thêm",
        message_files=[],
    )
    with unit_of_work.transaction(database.sessionmaker) as db:
        folder = export_case(db, BlobStore(settings.blob_path), case_id, tmp_path / "out").path
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert (
        "truncate -s SIZE tep-dinh-kem-01" in readme and "truncate -s SIZE attachment-01" in readme
    )

    recovery = tmp_path / "recovery.txt"
    recovery.write_text(str(recovery_identity) + "\n")
    case_key = tmp_path / "case-key.txt"
    case_key.write_bytes(age_decrypt(recovery, folder / "case-key.age"))
    size = decode_report(age_decrypt(case_key, folder / "report.age")).attachments[0].size
    attachment = tmp_path / "attachment-01"
    attachment.write_bytes(age_decrypt(case_key, folder / "attachments/01.age"))
    assert attachment.read_bytes() == padded  # as stored: with its padding
    subprocess.run(["truncate", "-s", str(size), str(attachment)], check=True)
    assert attachment.read_bytes() == document
