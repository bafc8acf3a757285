"""The reporter's way back: a receipt opens the case, shows a coarse status, the report
as submitted and the thread. Nothing here ever names a reviewer or a unit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.cases.attachments import listed_attachments
from app.cases.blobs import read_payload
from app.cases.keys import unwrap_identity_with_keys
from app.cases.legal_process import StatutoryState, statutory_state
from app.cases.messages import ThreadMessage, load_thread
from app.cases.payloads import AttachmentMeta, ReportContent, decode_report
from app.cases.protection import CaseProtection, case_requests
from app.cases.submission import ReceiptSettings
from app.models import Blob, Case, CaseKey
from app.models.vocabulary import BlobKind, CaseStatus, KeyKind
from app.storage import BlobStore
from crypto import Identity, derive_receipt_keys, parse_receipt


class UnknownReceiptError(LookupError):
    """No case for this receipt. One message for every such case, on purpose."""


class ReporterStatus(StrEnum):
    RECEIVED = "received"
    UNDER_REVIEW = "under_review"
    NEEDS_INFO = "needs_info"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


_STATUS = {
    CaseStatus.NEW: ReporterStatus.RECEIVED,
    CaseStatus.TRIAGE: ReporterStatus.UNDER_REVIEW,
    CaseStatus.NEEDS_INFO: ReporterStatus.NEEDS_INFO,
    # Whether a case went to inspection or to investigation is not told: a reporter
    # under pressure could be made to reveal it, and the target could act on it.
    CaseStatus.ROUTED_INSPECTION: ReporterStatus.IN_PROGRESS,
    CaseStatus.ROUTED_INVESTIGATION: ReporterStatus.IN_PROGRESS,
    CaseStatus.CLOSED: ReporterStatus.CLOSED,
}


def reporter_status(status: str) -> ReporterStatus:
    return _STATUS[CaseStatus(status)]


@dataclass(frozen=True)
class ReporterAccess:
    case_id: str
    case_identity: Identity


@dataclass(frozen=True)
class ReportAttachment:
    blob_id: str
    meta: AttachmentMeta


@dataclass(frozen=True)
class ReporterCase:
    status: ReporterStatus
    case_recipient: str
    report: ReportContent | None  # None: the report cannot be read (see read_payload)
    attachments: list[ReportAttachment]
    thread: list[ThreadMessage]
    # A named denunciation's statutory clocks (the reporter is the denouncer and has the
    # right to know them, Luật Tố cáo art. 9(1)); None for anonymous information.
    statutory: StatutoryState | None = None
    # The reporter's protection requests (app.cases.protection), to flag them and their
    # answers in the thread with the due day.
    protection: list[CaseProtection] = field(default_factory=list)

    def protection_request(self, message_id: int) -> CaseProtection | None:
        return next((p for p in self.protection if p.message_id == message_id), None)

    def protection_answer(self, message_id: int) -> CaseProtection | None:
        return next((p for p in self.protection if p.answer_message_id == message_id), None)


def _admit_all() -> None:
    """The default ``admit`` hook: no flood control."""


def open_case_with_receipt(
    session: Session,
    receipts: ReceiptSettings,
    receipt_text: str,
    *,
    admit: Callable[[], None] = _admit_all,
) -> ReporterAccess:
    """Receipt → case. Format and check-digit errors (``crypto.ReceiptError``) are raised
    before any Argon2id work; a well-formed receipt of no case raises
    :class:`UnknownReceiptError` after exactly one derivation, like a real one.

    ``admit`` runs between the cheap checks and the derivation: the caller's flood
    control may refuse there (a typo never spends a budget)."""
    digits = parse_receipt(receipt_text)
    admit()
    keys = derive_receipt_keys(digits, receipts.salt, receipts.params)
    row = session.execute(
        select(Case.id, CaseKey.wrap)
        .join(CaseKey, (CaseKey.case_id == Case.id) & (CaseKey.kind == KeyKind.CASE.value))
        .where(Case.receipt_lookup_key == keys.lookup_key)
    ).first()
    if row is None:
        raise UnknownReceiptError("no case for this receipt")
    return ReporterAccess(row[0], unwrap_identity_with_keys(row[1], [keys.identity]))


def load_reporter_case(
    session: Session, store: BlobStore, case_id: str, case_identity: Identity
) -> ReporterCase:
    case = session.get(Case, case_id)
    if case is None:
        raise UnknownReceiptError("the case no longer exists")
    blobs = session.scalars(
        select(Blob)
        .where(Blob.case_id == case_id, Blob.message_id.is_(None))
        .where(Blob.kind.in_([BlobKind.REPORT.value, BlobKind.ATTACHMENT.value]))
        .order_by(Blob.position)
    ).all()
    report_blob = next(b for b in blobs if b.kind == BlobKind.REPORT.value)
    report = read_payload(store, report_blob, case_identity, decode_report)
    files = [b for b in blobs if b.kind == BlobKind.ATTACHMENT.value]
    return ReporterCase(
        status=reporter_status(case.status),
        case_recipient=case.case_recipient,
        report=report,
        attachments=[
            ReportAttachment(b.id, meta)
            for b, meta in listed_attachments(files, report.attachments if report else None)
        ],
        thread=load_thread(session, store, case_id, case_identity),
        statutory=statutory_state(case, clock.today()),
        protection=case_requests(session, case_id, clock.today()),
    )
