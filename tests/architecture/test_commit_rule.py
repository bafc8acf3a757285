"""One commit rule (app/cases/__init__.py): nothing in app/ calls ``commit()`` except the
unit-of-work helper, and the mailer, which commits per sent e-mail on purpose."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cases import unit_of_work
from app.database import Database
from app.models import Unit
from app.storage import BlobStore

ROOT = Path(__file__).resolve().parents[2]
HELPER = "unit_of_work"
ALLOWED = {
    "app/cases/unit_of_work.py",  # the helper itself
    "app/notifications/mailer.py",  # a send cannot be rolled back (its docstring says why)
}


def _commit_calls(root: Path, folder: str) -> list[str]:
    """``path:line`` of every ``<anything>.commit(...)`` call in the Python files under
    ``root/folder`` but the helper's own ``unit_of_work.commit(...)``: a syntax walk, so
    neither a comment nor a string counts."""
    found = []
    for path in sorted((root / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "commit"
                and not (isinstance(node.func.value, ast.Name) and node.func.value.id == HELPER)
            ):
                found.append(f"{path.relative_to(root).as_posix()}:{node.lineno}")
    return found


def test_only_the_unit_of_work_commits() -> None:
    calls = _commit_calls(ROOT, "app")
    assert calls, "the walk found not even the helper's own commit"
    assert {call.split(":")[0] for call in calls} <= ALLOWED, calls


def test_the_scan_finds_a_planted_commit(tmp_path: Path) -> None:
    # Positive control: a domain module that commits, and one that only mentions it.
    domain = tmp_path / "app" / "cases"
    domain.mkdir(parents=True)
    (domain / "hồ_sơ.py").write_text(
        '"""Gọi session.commit() trong chú thích thì không tính."""\n'
        "def luu(session):\n"
        "    session.flush()\n"
        "    # session.commit()\n"
        "    unit_of_work.commit(session)\n"
        "    session.commit()\n",
        encoding="utf-8",
    )
    assert _commit_calls(tmp_path, "app") == ["app/cases/hồ_sơ.py:6"]


def _units(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(Unit)) or 0)


def _unit(slug: str) -> Unit:
    return Unit(slug=slug, name_vi="Phòng Đối ứng", name_en="Response office", kind="intake")


def test_a_plain_commit_with_staged_files_is_refused(database: Database, tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    with database.sessionmaker() as db:
        before = _units(db)
        blob = store.create(limit=1024)
        blob.write("biên bản họp".encode())
        db.add(_unit("phong-doi-ung"))
        unit_of_work.stage_blobs(db, [blob])
        with pytest.raises(unit_of_work.UnstagedCommitError):
            db.commit()
        db.rollback()
        # The rollback removed the staged file; nothing was stored.
        assert not blob.tmp_path.exists()
        assert _units(db) == before


def test_commit_finalises_staged_files_and_runs_after_commit(
    database: Database, tmp_path: Path
) -> None:
    store = BlobStore(tmp_path / "blobs")
    ran: list[str] = []
    with database.sessionmaker() as db:
        before = _units(db)
        blob = store.create(limit=1024)
        blob.write("nội dung đã mã hoá".encode())
        db.add(_unit("ban-tiep-dan"))
        unit_of_work.stage_blobs(db, [blob])
        unit_of_work.after_commit(db, lambda: ran.append("sau khi lưu"))
        unit_of_work.after_rollback(db, lambda: ran.append("hoàn tác"))
        assert ran == []
        unit_of_work.commit(db)
    assert ran == ["sau khi lưu"]
    assert blob.storage_key in set(store.stored_keys())
    with database.read_session() as db:
        assert _units(db) == before + 1


def test_a_rollback_discards_staged_files_and_runs_its_undo(
    database: Database, tmp_path: Path
) -> None:
    store = BlobStore(tmp_path / "blobs")
    ran: list[str] = []
    with database.sessionmaker() as db:
        blob = store.create(limit=1024)
        blob.write("nội dung đã mã hoá".encode())
        unit_of_work.stage_blobs(db, [blob])
        unit_of_work.after_commit(db, lambda: ran.append("sau khi lưu"))
        unit_of_work.after_rollback(db, lambda: ran.append("hoàn tác"))
        unit_of_work.rollback(db)
        unit_of_work.commit(db)  # nothing left to finalise or run
    assert ran == ["hoàn tác"]
    assert not blob.tmp_path.exists()
    assert list(store.stored_keys()) == []
