"""Small factories for tests: reviewers with keys, straight through the models.

Account creation with passwords and TOTP is tested in tests/accounts; here a reviewer
is just a key pair and memberships, which is all the case domain looks at.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.database import Database
from app.models import Membership, Reviewer, Unit
from app.models.vocabulary import Role
from config import Settings
from crypto import Identity

if TYPE_CHECKING:
    from app.cases.identity import IdentityFields
    from app.cases.payloads import AttachmentMeta
    from app.cases.submission import CaseChoices
    from app.storage import BlobStore, PendingBlob
    from crypto import Recipient


@dataclass(frozen=True)
class ReviewerKeys:
    id: int
    username: str
    identity: Identity


def make_reviewer(
    database: Database,
    *units: str,
    role: Role = Role.REVIEWER,
    username: str | None = None,
) -> ReviewerKeys:
    identity = Identity.generate()
    name = username or f"reviewer-{secrets.token_hex(3)}"
    with database.session() as db:
        reviewer = Reviewer(
            username=name,
            password_hash="!unusable",
            public_key=str(identity.recipient),
            wrapped_private_key=None,
            role=role.value,
        )
        db.add(reviewer)
        db.flush()
        for slug in units:
            unit_id = db.scalars(select(Unit.id).where(Unit.slug == slug)).one()
            db.add(Membership(reviewer_id=reviewer.id, unit_id=unit_id))
        return ReviewerKeys(reviewer.id, name, identity)


@dataclass(frozen=True)
class SubmittedCase:
    case_id: str
    receipt: str


def submit_case(
    database: Database,
    settings: Settings,
    *,
    category: str = "corruption",
    details: str = "Chi tiết vụ việc",
    excluded: tuple[str, ...] = (),
    identity: IdentityFields | None = None,
) -> SubmittedCase:
    """A case as the no-JavaScript intake stores it, through the domain layer (a named
    denunciation with ``identity``)."""
    from app.cases.submission import (
        CaseChoices,
        ReceiptSettings,
        ServerCaseKeys,
        submit_from_server,
    )
    from app.storage import BlobStore
    from config import load_secrets

    receipts = ReceiptSettings.from_config(
        load_secrets(settings.secrets_file).receipt_salt, settings.receipt_kdf
    )
    with database.sessionmaker() as db:
        receipt, stored = submit_from_server(
            db,
            BlobStore(settings.blob_path),
            receipts,
            keys=ServerCaseKeys(),
            choices=CaseChoices(category, "health", excluded),
            answers={"category": category, "summary": "Tóm tắt", "details": details},
            attachments=[],
            deadlines=settings.deadlines,
            identity=identity,
        )
    return SubmittedCase(stored.case_id, receipt)


def make_custodian(database: Database, who: ReviewerKeys, unit_slug: str) -> None:
    """Designate ``who`` as an identity custodian directly (what an approved access
    change does; the approval itself is tested in tests/cases/test_custodians.py)."""
    from app.cases import custodians

    with database.session() as db:
        reviewer = db.get(Reviewer, who.id)
        unit = db.scalars(select(Unit).where(Unit.slug == unit_slug)).one()
        assert reviewer is not None
        custodians.designate(db, reviewer, unit, actor="cli:test")


def encrypted_upload(store: BlobStore, recipient: Recipient, data: bytes) -> PendingBlob:
    """An attachment as the intake leaves it after streaming: a pending age blob."""
    from crypto import AgeWriter

    pending = store.create()
    with AgeWriter(pending, [recipient]) as writer:  # type: ignore[arg-type]
        writer.write(data)
    return pending


def case_with_thread(
    database: Database,
    settings: Settings,
    member: ReviewerKeys,
    *,
    choices: CaseChoices,
    answers: dict[str, str | list[str]],
    report_files: list[tuple[bytes, AttachmentMeta]],
    message: str,
    message_files: list[tuple[bytes, AttachmentMeta]],
) -> str:
    """A case with report attachments, a reviewer message with attachments and a note,
    stored through the domain layer. Returns the case id."""
    from app.cases.access import load_actor
    from app.cases.messages import add_message_from_server
    from app.cases.notes import add_note
    from app.cases.submission import (
        ReceiptSettings,
        ServerCaseKeys,
        UploadedAttachment,
        submit_from_server,
    )
    from app.models import Case
    from app.models.vocabulary import Side
    from app.storage import BlobStore
    from config import load_secrets

    store = BlobStore(settings.blob_path)
    keys = ServerCaseKeys()
    receipts = ReceiptSettings.from_config(
        load_secrets(settings.secrets_file).receipt_salt, settings.receipt_kdf
    )
    with database.sessionmaker() as db:
        _, stored = submit_from_server(
            db,
            store,
            receipts,
            keys=keys,
            choices=choices,
            answers=answers,
            attachments=[
                UploadedAttachment(encrypted_upload(store, keys.case_recipient, data), meta)
                for data, meta in report_files
            ],
            deadlines=settings.deadlines,
        )
    with database.sessionmaker() as db:
        case = db.get(Case, stored.case_id)
        assert case is not None
        add_message_from_server(
            db,
            store,
            case=case,
            side=Side.REVIEWER,
            author_id=member.id,
            text=message,
            attachments=[
                (encrypted_upload(store, keys.case_recipient, data), meta)
                for data, meta in message_files
            ],
        )
    with database.sessionmaker() as db:
        case = db.get(Case, stored.case_id)
        assert case is not None
        add_note(db, store, load_actor(db, member.id, member.identity), case, "Ghi chú nội bộ")
    return stored.case_id
