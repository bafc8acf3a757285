"""Small factories for tests: reviewers with keys, straight through the models.

Account creation with passwords and TOTP is tested in tests/accounts; here a reviewer
is just a key pair and memberships, which is all the case domain looks at.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from app.database import Database
from app.models import Membership, Reviewer, Unit
from app.models.vocabulary import Role
from config import Settings
from crypto import Identity


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
) -> SubmittedCase:
    """A case as the no-JavaScript intake stores it, through the domain layer."""
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
        )
    return SubmittedCase(stored.case_id, receipt)
