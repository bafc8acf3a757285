"""Staff for tests, in three depths (the one place tests make them):

- :func:`make_reviewer`: a key pair and memberships, straight through the models (all
  the case domain looks at; no password, no TOTP);
- :func:`make_account`: a real account through :func:`app.accounts.reviewers.create_reviewer`
  (password, wrapped key, TOTP);
- :func:`new_staff`: a real account and a review-app client of its own that went
  through both login steps.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import select, update

from app.accounts import reviewers, totp
from app.accounts.totp import TotpKey
from app.cases import unit_of_work
from app.database import Database
from app.models import Membership, Reviewer, Unit
from app.models.vocabulary import Role
from config import Settings, load_secrets
from crypto import Identity
from tests.conftest import CsrfClient

PASSWORD = "correct horse battery staple"


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
class Account:
    id: int
    username: str
    password: str
    secret: str
    public_key: str


def totp_key_for(settings: Settings) -> TotpKey:
    return TotpKey.of(load_secrets(settings.secrets_file))


def make_account(
    database: Database,
    settings: Settings,
    username: str,
    *,
    role: str = "reviewer",
    units: tuple[str, ...] = ("intake",),
    password: str = PASSWORD,
) -> Account:
    with database.session() as db:
        reviewer, secret = reviewers.create_reviewer(
            db,
            username=username,
            password=password,
            role=role,
            unit_slugs=units,
            password_kdf=settings.password_kdf,
            totp_key=totp_key_for(settings),
            actor="test",
        )
        return Account(reviewer.id, reviewer.username, password, secret, str(reviewer.public_key))


def code(secret: str, offset: int = 0) -> str:
    return totp.code_at_step(secret, totp.current_step() + offset)


def allow_next_code(database: Database, account: Account) -> None:
    """Forget which TOTP step was used last, so a test can log in again at once."""
    with database.session() as db:
        db.execute(
            update(Reviewer)
            .where(Reviewer.id == account.id)
            .values(totp_last_step=totp.current_step() - 2)
        )


def login(client: Any, database: Database, account: Account, password: str | None = None) -> Any:
    """Both login steps; returns the last response (a redirect on success)."""
    allow_next_code(database, account)
    first = client.submit(
        "/login", {"username": account.username, "password": password or account.password}
    )
    assert first.status_code == 302, first.get_data(as_text=True)
    assert first.headers["Location"].endswith("/login/totp")
    return client.submit("/login/totp", {"totp": code(account.secret)})


def secret_on_page(html: str) -> str:
    match = re.search(r'<code class="totp-secret">([A-Z2-7]+)</code>', html)
    assert match, "no TOTP secret on the page"
    return match.group(1)


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


def make_custodian(database: Database, who: ReviewerKeys, unit_slug: str) -> None:
    """Designate ``who`` as an identity custodian directly (what an approved access
    change does; the approval itself is tested in tests/cases/test_custodians.py)."""
    from app.cases import custodians

    with unit_of_work.transaction(database.sessionmaker) as db:
        reviewer = db.get(Reviewer, who.id)
        unit = db.scalars(select(Unit).where(Unit.slug == unit_slug)).one()
        assert reviewer is not None
        custodians.designate(db, reviewer, unit, actor="cli:test")
