"""Fixtures for review-app tests: real staff accounts logged in through the UI, and
reports sent through the intake's no-JavaScript form.

- ``staff(username, *units, role=...)`` creates an account with a password, a key pair
  and TOTP (``tests.account_helpers.make_account``) and returns a :class:`Staff` whose
  ``client`` went through /login and /login/totp. Every user has a client of its own,
  so sessions and cookies are never shared.
- ``report(...)`` sends a report at the intake (as a reporter without JavaScript) and
  returns a :class:`Report` with the receipt shown to the reporter and the new case's
  id (read from the database: the intake never shows it).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import audit, installation, schema
from app.database import Database
from app.factory import create_intake_app, create_review_app
from app.models import AuditEvent, Blob, Case, CaseKey, Message, Note, PendingGrant, Recusal
from app.models.vocabulary import BlobKind
from config import Settings, load_settings
from config.secrets import ensure_secrets
from crypto import Identity
from tests.account_helpers import Account, login, make_account
from tests.conftest import CHEAP_KDF_ENV, CsrfClient
from tests.intake.conftest import receipt_from, report_answers, send_report

AGE_HEADER = "age-encryption.org"


@dataclass
class Staff:
    """A reviewer account and the review-app client it is logged in with."""

    account: Account
    client: CsrfClient

    @property
    def id(self) -> int:
        return self.account.id

    @property
    def username(self) -> str:
        return self.account.username

    def post(self, path: str, data: dict[str, Any] | None = None) -> Any:
        """POST ``data`` to ``path`` with a valid CSRF token, as the page's form would."""
        return self.client.submit("/account/password", data or {}, action=path)


StaffFactory = Callable[..., Staff]


def review_test_client(review_app: Flask) -> CsrfClient:
    review_app.test_client_class = CsrfClient
    client = review_app.test_client()
    assert isinstance(client, CsrfClient)
    client.get("/login?lang=en")  # English, so assertions can read the messages
    return client


def new_staff(
    review_app: Flask,
    database: Database,
    settings: Settings,
    username: str | None = None,
    *units: str,
    role: str = "reviewer",
    logged_in: bool = True,
) -> Staff:
    """A real account (password, key pair, TOTP) and, unless ``logged_in`` is false, a
    client of its own that went through both login steps."""
    name = username or f"staff-{secrets.token_hex(3)}"
    account = make_account(database, settings, name, role=role, units=units)
    client = review_test_client(review_app)
    if logged_in:
        done = login(client, database, account)
        assert done.status_code == 302, done.get_data(as_text=True)
        assert done.headers["Location"].endswith("/")
    return Staff(account, client)


@pytest.fixture
def staff(review_app: Flask, database: Database, settings: Settings) -> StaffFactory:
    """Factory: ``staff("hana", "intake", role="reviewer", logged_in=True)``."""

    def make(username: str | None = None, *units: str, **kw: Any) -> Staff:
        return new_staff(review_app, database, settings, username, *units, **kw)

    return make


@dataclass(frozen=True)
class Report:
    receipt: str
    case_id: str
    canary: str
    reference: str
    attachment_ids: list[str] = field(default_factory=list)
    attachment_canary: str | None = None
    attachment_name: str | None = None


ReportFactory = Callable[..., Report]


def case_ids(database: Database) -> set[str]:
    with database.read_session() as db:
        return set(db.scalars(select(Case.id)).all())


def audit_count(database: Database) -> int:
    with database.read_session() as db:
        return db.scalar(select(func.count()).select_from(AuditEvent)) or 0


def audit_actions(database: Database, case_id: str | None = None) -> list[str]:
    with database.read_session() as db:
        query = select(AuditEvent.action).order_by(AuditEvent.seq)
        if case_id is not None:
            query = query.where(AuditEvent.case_id == case_id)
        return list(db.scalars(query).all())


def held_actions(database: Database, case_id: str) -> list[str]:
    """A case's reporter events waiting for their day to end (app.audit.hold)."""
    with database.read_session() as db:
        return sorted(event.action for event in audit.held_for_case(db, case_id))


def send_case(
    intake_client: CsrfClient,
    database: Database,
    *,
    attachment: bool = False,
    excluded: list[str] | None = None,
) -> Report:
    """Send a report through the intake's no-JavaScript form; find its case."""
    tag = secrets.token_hex(6)
    canary = f"CANARY-REPORT-{tag}"
    files = None
    attachment_canary = attachment_name = None
    if attachment:
        attachment_canary = f"CANARY-FILE-{tag}"
        attachment_name = f"bien-ban-{tag}.txt"
        files = [(f"Bien ban. {attachment_canary}\n".encode() * 50, attachment_name)]
    before = case_ids(database)
    response = send_report(
        intake_client,
        report_answers(details=f"Ông A đòi 20 triệu đồng. {canary}"),
        files=files,
        excluded=excluded,
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    receipt = receipt_from(response)
    (case_id,) = case_ids(database) - before
    with database.read_session() as db:
        case = db.get(Case, case_id)
        assert case is not None
        blobs = db.scalars(
            select(Blob.id)
            .where(Blob.case_id == case_id, Blob.kind == BlobKind.ATTACHMENT.value)
            .order_by(Blob.position)
        ).all()
        reference = case.reference
    assert len(blobs) == (1 if attachment else 0)
    return Report(
        receipt=receipt,
        case_id=case_id,
        canary=canary,
        reference=reference,
        attachment_ids=list(blobs),
        attachment_canary=attachment_canary,
        attachment_name=attachment_name,
    )


@pytest.fixture
def report(intake_client: CsrfClient, database: Database) -> ReportFactory:
    """Factory: ``report(attachment=True, excluded=["investigation"])``."""

    def send(**kw: Any) -> Report:
        return send_case(intake_client, database, **kw)

    return send


def assert_no_leak(body: str, *secrets_: str | None) -> None:
    """Neither age ciphertext nor any of the given plaintext markers in ``body``."""
    assert AGE_HEADER not in body
    for secret in secrets_:
        if secret:
            assert secret not in body, f"{secret!r} leaked"


def case_state(database: Database, case_id: str) -> tuple[Any, ...]:
    """Everything a case action could change: the row, its key wraps, its messages,
    notes, blobs, recusals and pending grants."""
    with database.read_session() as db:
        case = db.get(Case, case_id)
        assert case is not None

        def count(model: Any) -> int:
            query = select(func.count()).select_from(model).where(model.case_id == case_id)
            return db.scalar(query) or 0

        wraps = tuple(
            db.scalars(
                select(CaseKey.wrap).where(CaseKey.case_id == case_id).order_by(CaseKey.kind)
            )
        )
        return (
            case.status,
            case.priority,
            case.resolution,
            case.holding_unit_id,
            case.assignee_id,
            case.acknowledged_at,
            case.closed_at,
            wraps,
            count(Message),
            count(Note),
            count(Blob),
            count(Recusal),
            count(PendingGrant),
        )


@dataclass(frozen=True)
class Installation:
    settings: Settings
    database: Database
    intake_app: Flask
    review_app: Flask
    recovery: Identity

    def reporter(self) -> CsrfClient:
        self.intake_app.test_client_class = CsrfClient
        client = self.intake_app.test_client()
        assert isinstance(client, CsrfClient)
        return client

    def staff(self, username: str, *units: str, **kw: Any) -> Staff:
        return new_staff(self.review_app, self.database, self.settings, username, *units, **kw)


def build_installation(root: Path) -> Installation:
    """What tests/conftest.py's fixtures make for each test (SQLite), for module-scoped
    worlds whose tests only ever check refusals that change nothing."""
    settings = load_settings(
        {
            "LIEMCHINH_INSTANCE_PATH": str(root / "instance"),
            "LIEMCHINH_DATABASE_URL": f"sqlite:///{root / 'instance' / 'liemchinh.sqlite3'}",
            # Rate-limit counters under the world's own folder, not a shared /dev/shm.
            "LIEMCHINH_VOLATILE_PATH": str(root / "volatile"),
            **CHEAP_KDF_ENV,
        }
    )
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    settings.blob_path.mkdir(parents=True, exist_ok=True)
    ensure_secrets(settings.secrets_file)
    database = Database(settings.database_url)
    schema.upgrade(database.engine)
    recovery = Identity.generate()
    with database.session() as db:
        installation.ensure_default_units(db, actor="test")
        installation.set_recovery_recipient(db, str(recovery.recipient), actor="test")
    intake_app = create_intake_app(settings, database)
    review_app = create_review_app(settings, database)
    intake_app.testing = review_app.testing = True
    return Installation(settings, database, intake_app, review_app, recovery)
