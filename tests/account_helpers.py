"""Helpers for tests of staff accounts: make accounts, generate TOTP codes, log in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update

from app.accounts import reviewers, totp
from app.accounts.totp import TotpKey
from app.database import Database
from app.models import Reviewer
from config import Settings, load_secrets

PASSWORD = "correct horse battery staple"


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
