"""Offline export: a case as a folder of age files, to read on an offline machine with the
recovery key and the stock ``age`` tool.

Nothing is decrypted here. The folder holds the two key wraps exactly as stored (they
open with the recovery identity), every blob of the case as stored, a bilingual
README with the two ``age`` steps (and how to cut the PADMÉ padding off attachments),
and a ``manifest.json`` listing the files with the SHA-256 of their ciphertext - plus
only what the database already keeps in clear (reference, category, sector, status,
days). No reviewer is named.

The folder is built under a hidden staging name and renamed into place only after the
"case.exported" audit event committed (the caller commits; the rename waits for it with
:func:`app.cases.unit_of_work.after_commit`): an export is never in place without its
audit event, and a failed one leaves no half-written folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.actors import CLI_ACTOR
from app.cases import references, unit_of_work
from app.cases.thread import Placement, thread_order
from app.models import Blob, Case, CaseKey, Message, Note, SealedIdentity
from app.models.vocabulary import BlobKind, KeyKind, Side
from app.storage import BlobStore, StorageError

EXPORT_FORMAT = 1
_COPY_BUFFER = 1024 * 1024

README = """\
LIÊM CHÍNH — HỒ SƠ {reference} (bản xuất ngoại tuyến / offline export)
=====================================================================

TIẾNG VIỆT
----------
Thư mục này chỉ chứa bản MÃ HÓA (định dạng age) của hồ sơ. Chỉ mở trên một máy
KHÔNG nối mạng, với khóa khôi phục (recovery key) của hệ thống và công cụ `age`
(https://age-encryption.org) hoặc `python -m crypto` của Liêm Chính.

Bước 1 — mở khóa của hồ sơ bằng khóa khôi phục:
    age -d -i recovery.txt case-key.age > case-key.txt
    age -d -i recovery.txt staff-key.age > staff-key.txt

Bước 2 — giải mã các tệp bằng khóa của hồ sơ:
    age -d -i case-key.txt report.age > report.json
    age -d -i case-key.txt -o tep-dinh-kem-01 attachments/01.age
    age -d -i case-key.txt messages/0001.age
    age -d -i case-key.txt -o tin-nhan-0001-dinh-kem-01 messages/0001-attachment-01.age
    age -d -i staff-key.txt notes/0001.age

Bước 3 — cắt tệp đính kèm về đúng kích thước: trước khi mã hóa, mỗi tệp đính kèm được
thêm các byte 0 ở cuối để kích thước thật không lộ ra. Kích thước thật là "size" của tệp
trong danh sách "attachments" của report.json (hoặc của tin nhắn):
    truncate -s SIZE tep-dinh-kem-01

- case-key.txt mở: report.age, attachments/, messages/ (trao đổi với người báo cáo).
- staff-key.txt mở: notes/ (ghi chú nội bộ, không bao giờ gửi cho người báo cáo).
- report.json và các tin nhắn là JSON (UTF-8); tên và loại của tệp đính kèm nằm trong
  danh sách "attachments" của report.json (hoặc của tin nhắn), theo đúng thứ tự số.
- manifest.json ghi mã SHA-256 của từng tệp mã hóa: kiểm tra bằng `sha256sum`.
- Bản giải mã là NỘI DUNG RÕ: giữ trên máy ngoại tuyến, xóa an toàn khi dùng xong,
  không gửi qua thư điện tử hay ứng dụng nhắn tin.

ENGLISH
-------
This folder holds only ENCRYPTED (age format) copies of the case. Open it only on an
OFFLINE machine, with the installation's recovery key and the `age` tool
(https://age-encryption.org) or Liêm Chính's `python -m crypto`.

Step 1 — open the case's keys with the recovery identity:
    age -d -i recovery.txt case-key.age > case-key.txt
    age -d -i recovery.txt staff-key.age > staff-key.txt

Step 2 — decrypt the files with the case's keys:
    age -d -i case-key.txt report.age > report.json
    age -d -i case-key.txt -o attachment-01 attachments/01.age
    age -d -i case-key.txt messages/0001.age
    age -d -i case-key.txt -o message-0001-attachment-01 messages/0001-attachment-01.age
    age -d -i staff-key.txt notes/0001.age

Step 3 — cut each attachment back to its size: before encryption, every attachment was
padded with zero bytes so that its true size does not show. The true size is the "size"
of the file in the "attachments" list of report.json (or of the message):
    truncate -s SIZE attachment-01

- case-key.txt opens report.age, attachments/ and messages/ (the thread with the
  reporter).
- staff-key.txt opens notes/ (internal notes, never shared with the reporter).
- report.json and the messages are UTF-8 JSON; attachment names and types are in the
  "attachments" list of report.json (or of the message), in the numbered order.
- manifest.json gives the SHA-256 of every encrypted file: check with `sha256sum`.
- Decrypted files are PLAINTEXT: keep them on the offline machine, wipe them when
  done, never send them by e-mail or chat.
"""


class ExportError(RuntimeError):
    """The case cannot be exported."""


class ExportExistsError(ExportError):
    """The target folder exists already; an export never overwrites."""


class UnknownCaseError(ExportError, references.UnknownCaseError):
    """No case with this id (the case went while the command ran)."""


@dataclass(frozen=True)
class ExportResult:
    case_id: str
    reference: str
    path: Path
    files: int


@dataclass(frozen=True)
class _Entry:
    name: str  # relative path inside the folder
    blob: Blob | None = None  # copied from the store, or
    data: bytes | None = None  # written as is (key wraps)


def _mkdir(path: Path) -> None:
    path.mkdir(mode=0o700)
    os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask


@contextmanager
def _private_file(path: Path) -> Iterator[BinaryIO]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


def _copy_blob(store: BlobStore, blob: Blob, target: Path) -> str:
    digest = hashlib.sha256()
    with store.open(blob.storage_key) as src, _private_file(target) as dst:
        while block := src.read(_COPY_BUFFER):
            digest.update(block)
            dst.write(block)
    return digest.hexdigest()


def _write_bytes(target: Path, data: bytes) -> str:
    with _private_file(target) as dst:
        dst.write(data)
    return hashlib.sha256(data).hexdigest()


def _entries(session: Session, case: Case) -> list[_Entry]:
    entries: list[_Entry] = []
    wraps = {
        KeyKind(row.kind): row.wrap
        for row in session.scalars(select(CaseKey).where(CaseKey.case_id == case.id))
    }
    for kind, name in ((KeyKind.CASE, "case-key.age"), (KeyKind.STAFF, "staff-key.age")):
        if kind not in wraps:
            raise ExportError(f"{case.reference} has no {kind.value} key wrap")
        entries.append(_Entry(name, data=wraps[kind]))

    blobs = session.scalars(
        select(Blob).where(Blob.case_id == case.id).order_by(Blob.position, Blob.id)
    ).all()
    report = [b for b in blobs if b.kind == BlobKind.REPORT.value and b.message_id is None]
    if len(report) != 1:
        raise ExportError(f"{case.reference} has {len(report)} report blobs, expected 1")
    entries.append(_Entry("report.age", blob=report[0]))
    # Report attachments are numbered by their position, which is their index (from 1)
    # in the encrypted report's "attachments" list.
    for blob in blobs:
        if blob.kind == BlobKind.ATTACHMENT.value and blob.message_id is None:
            entries.append(_Entry(f"attachments/{blob.position:02d}.age", blob=blob))

    # A named case: its identity leaves only sealed, with its key's wrap (which opens for
    # the recovery identity and the custodians, never the case key: app.cases.identity).
    seal = session.get(SealedIdentity, case.id)
    identity_blobs = [b for b in blobs if b.kind == BlobKind.IDENTITY.value]
    if seal is not None and identity_blobs:
        entries.append(_Entry("identity/identity-key.age", data=seal.wrap))
        entries.append(_Entry("identity/identity.age", blob=identity_blobs[0]))

    # Numbered in thread order as far as it is known without decrypting: the ids are
    # random, and a reporter's message keeps its day only (app.cases.thread); the
    # messages themselves say which one each reporter's message follows.
    placements = [
        Placement(row.id, Side(row.author_side), row.created_at)
        for row in session.execute(
            select(Message.id, Message.author_side, Message.created_at).where(
                Message.case_id == case.id
            )
        )
    ]
    number = {message_id: i + 1 for i, message_id in enumerate(thread_order(placements))}
    for blob in sorted(
        (b for b in blobs if b.message_id is not None),
        key=lambda b: (number.get(b.message_id or 0, 0), b.position),
    ):
        n = number[blob.message_id or 0]
        if blob.kind == BlobKind.MESSAGE.value:
            entries.append(_Entry(f"messages/{n:04d}.age", blob=blob))
        else:
            entries.append(
                _Entry(f"messages/{n:04d}-attachment-{blob.position:02d}.age", blob=blob)
            )

    note_blobs = session.scalars(
        select(Blob)
        .join(Note, Note.blob_id == Blob.id)
        .where(Note.case_id == case.id)
        .order_by(Note.id)
    ).all()
    for i, blob in enumerate(note_blobs):
        entries.append(_Entry(f"notes/{i + 1:04d}.age", blob=blob))
    return entries


def _manifest(case: Case, files: dict[str, str]) -> dict[str, Any]:
    return {
        "format": EXPORT_FORMAT,
        "reference": case.reference,
        "category": case.category,
        "sector": case.sector,
        "status": case.status,
        "created_day": case.created_day.isoformat(),
        "closed_day": case.closed_at.date().isoformat() if case.closed_at else None,
        "files": [{"name": name, "sha256": digest} for name, digest in sorted(files.items())],
    }


def _move_into_place(reference: str, staging: Path, final: Path) -> None:
    try:
        # rename() onto an existing non-empty folder fails: never overwrite a copy that
        # appeared meanwhile (a concurrent export of the same case).
        os.rename(staging, final)
    except OSError as exc:
        raise ExportError(
            f"{reference} was exported to {staging} but cannot be renamed to {final}: "
            f"{exc.strerror}"
        ) from None


def export_case(
    session: Session, store: BlobStore, case_id: str, out_dir: Path, *, actor: str = CLI_ACTOR
) -> ExportResult:
    """Write the case under a staging name in ``out_dir`` and record "case.exported".
    The caller commits (the audit event); the commit renames the finished folder to
    ``out_dir/<reference>/`` (it raises :class:`ExportError` if that rename fails), a
    rollback removes it.

    Raises :class:`ExportExistsError` if the folder exists, :class:`UnknownCaseError`
    for no such case, :class:`ExportError` if a blob file is missing or unreadable.
    """
    case = session.get(Case, case_id)
    if case is None:
        raise UnknownCaseError(f"no case {case_id!r}")
    final = out_dir / case.reference
    if final.exists():
        raise ExportExistsError(f"{final} exists already; move it away or choose another -o")
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = out_dir / f".{case.reference}.partial-{secrets.token_hex(4)}"
    try:
        _mkdir(staging)
        files: dict[str, str] = {}
        for entry in _entries(session, case):
            target = staging / entry.name
            if not target.parent.exists():
                _mkdir(target.parent)
            if entry.blob is not None:
                files[entry.name] = _copy_blob(store, entry.blob, target)
            else:
                assert entry.data is not None
                files[entry.name] = _write_bytes(target, entry.data)
        _write_bytes(staging / "README.txt", README.format(reference=case.reference).encode())
        manifest = json.dumps(_manifest(case, files), indent=2, ensure_ascii=False)
        _write_bytes(staging / "manifest.json", manifest.encode() + b"\n")
        audit.record(
            session,
            actor=actor,
            action="case.exported",
            case_id=case.id,
            details={"reference": case.reference, "files": len(files)},
        )
        session.flush()
    except StorageError as exc:
        session.rollback()
        shutil.rmtree(staging, ignore_errors=True)
        raise ExportError(f"{case.reference}: {exc}") from None
    except BaseException:
        session.rollback()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    unit_of_work.after_commit(session, lambda: _move_into_place(case.reference, staging, final))
    unit_of_work.after_rollback(session, lambda: shutil.rmtree(staging, ignore_errors=True))
    return ExportResult(case.id, case.reference, final, len(files))
