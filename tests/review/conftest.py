"""Fixtures for review-app tests: real staff accounts logged in through the UI, and
reports sent through the intake's no-JavaScript form.

- ``staff(username, *units, role=...)`` creates an account with a password, a key pair
  and TOTP (``tests.factories.new_staff``) and returns a :class:`Staff` whose
  ``client`` went through /login and /login/totp. Every user has a client of its own,
  so sessions and cookies are never shared.
- ``report(...)`` sends a report at the intake (as a reporter without JavaScript) and
  returns a :class:`Report` with the receipt shown to the reporter and the new case's
  id (read from the database: the intake never shows it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import audit, installation, schema
from app.database import Database
from app.factory import create_intake_app, create_review_app
from app.models import (
    AuditEvent,
    Blob,
    Case,
    CaseKey,
    CaseOutcome,
    Message,
    Note,
    PendingGrant,
    RecoveryEntry,
    Recusal,
    Referral,
)
from config import Settings, load_settings
from config.secrets import ensure_secrets
from crypto import Identity
from tests.conftest import CHEAP_KDF_ENV, CsrfClient
from tests.factories import (
    Report,
    Staff,
    new_staff,
    send_case,
)

AGE_HEADER = "age-encryption.org"


StaffFactory = Callable[..., Staff]


@pytest.fixture
def staff(review_app: Flask, database: Database, settings: Settings) -> StaffFactory:
    """Factory: ``staff("hana", "intake", role="reviewer", logged_in=True)``."""

    def make(username: str | None = None, *units: str, **kw: Any) -> Staff:
        return new_staff(review_app, database, settings, username, *units, **kw)

    return make


ReportFactory = Callable[..., Report]


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
            count(Referral),
            count(CaseOutcome),
            count(RecoveryEntry),
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
