"""Shared fixtures: a fresh installation per test (instance folder, secrets, database at
head, default units), both apps, their test clients and a CLI runner.

CSRF stays on: :class:`CsrfClient` reads the token from the page like a browser would.
Argon2 costs are lowered here, through the same environment variables an operator
would use, and nowhere else.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from app import installation, schema
from app.database import Database
from app.factory import create_intake_app, create_review_app
from config import Settings, load_settings
from config.secrets import ensure_secrets
from crypto import Identity

PG_URL_VAR = "LIEMCHINH_TEST_DATABASE_URL"
CHEAP_KDF_ENV = {
    "LIEMCHINH_RECEIPT_ARGON2_MEMORY_KIB": "64",
    "LIEMCHINH_RECEIPT_ARGON2_TIME_COST": "1",
    "LIEMCHINH_RECEIPT_ARGON2_PARALLELISM": "1",
    "LIEMCHINH_PASSWORD_ARGON2_MEMORY_KIB": "64",
    "LIEMCHINH_PASSWORD_ARGON2_TIME_COST": "1",
    "LIEMCHINH_PASSWORD_ARGON2_PARALLELISM": "1",
    "LIEMCHINH_POW_DIFFICULTY": "4",
}


def postgres_url() -> str | None:
    url = os.environ.get(PG_URL_VAR, "").strip()
    if not url:
        return None
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _with_search_path(url: str, schema_name: str) -> str:
    parts = urlsplit(url)
    query = (parts.query + "&" if parts.query else "") + f"options=-csearch_path%3D{schema_name}"
    return urlunsplit(parts._replace(query=query))


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """Which database a test runs on. Parametrise indirectly to add "postgresql"."""
    name: str = request.param
    if name == "postgresql" and postgres_url() is None:
        pytest.skip(f"PostgreSQL tests need {PG_URL_VAR} (CI sets it)")
    return name


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'instance' / 'liemchinh.sqlite3'}"
        return
    base = postgres_url()
    assert base is not None
    # A throwaway schema per test: isolated like a fresh database, much cheaper to make.
    schema_name = "t_" + secrets.token_hex(6)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema_name}"))
    try:
        yield _with_search_path(base, schema_name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema_name} CASCADE"))
        admin.dispose()


@pytest.fixture
def volatile_path(tmp_path: Path) -> Iterator[Path]:
    """This test's volatile folder (rate-limit counters): on /dev/shm like a real
    installation's where there is one, removed afterwards so tests leave no trace."""
    shm = Path("/dev/shm")
    path = shm / f"liemchinh-test-{secrets.token_hex(8)}" if shm.is_dir() else tmp_path / "volatile"
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def env(tmp_path: Path, database_url: str, volatile_path: Path) -> dict[str, str]:
    return {
        "LIEMCHINH_INSTANCE_PATH": str(tmp_path / "instance"),
        "LIEMCHINH_DATABASE_URL": database_url,
        "LIEMCHINH_VOLATILE_PATH": str(volatile_path),
        **CHEAP_KDF_ENV,
    }


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return load_settings(env)


@pytest.fixture
def recovery_identity() -> Identity:
    """The installation's offline recovery key (its private half stays in the test)."""
    return Identity.generate()


@pytest.fixture
def database(settings: Settings, recovery_identity: Identity) -> Iterator[Database]:
    """A database at head with the default units and a recovery key, and the secrets."""
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    settings.blob_path.mkdir(parents=True, exist_ok=True)
    ensure_secrets(settings.secrets_file)
    db = Database(settings.database_url)
    schema.upgrade(db.engine)
    with db.session() as session:
        installation.ensure_default_units(session, actor="test")
        installation.set_recovery_recipient(session, str(recovery_identity.recipient), actor="test")
    yield db
    db.dispose()


@pytest.fixture
def intake_app(settings: Settings, database: Database) -> Flask:
    app = create_intake_app(settings, database)
    app.testing = True
    return app


@pytest.fixture
def review_app(settings: Settings, database: Database) -> Flask:
    app = create_review_app(settings, database)
    app.testing = True
    return app


_CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_HIDDEN_FIELD = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"')


class CsrfClient(FlaskClient):
    """A test client that submits forms the way a browser does: with the page's token."""

    def csrf_token(self, page: str = "/") -> str:
        html = self.get(page).get_data(as_text=True)
        match = _CSRF_FIELD.search(html)
        assert match, f"no csrf_token field on {page}"
        return match.group(1)

    def submit(self, page: str, data: dict[str, Any], action: str | None = None, **kw: Any) -> Any:
        """GET ``page``, then POST ``data`` with the page's hidden fields (the CSRF token,
        one-time form tokens) to ``action`` (or ``page``), as a browser does."""
        return self.post(action or page, data={**self.hidden_fields(page), **data}, **kw)

    def hidden_fields(self, page: str) -> dict[str, str]:
        """The tokens of ``page``'s form a browser sends back: the CSRF token and, where
        there is one, the one-time form token."""
        html = self.get(page).get_data(as_text=True)
        hidden = {
            name: value
            for name, value in _HIDDEN_FIELD.findall(html)
            if name in ("csrf_token", "form_nonce")
        }
        assert "csrf_token" in hidden, f"no csrf_token field on {page}"
        return hidden


@pytest.fixture
def intake_client(intake_app: Flask) -> CsrfClient:
    intake_app.test_client_class = CsrfClient
    client = intake_app.test_client()
    assert isinstance(client, CsrfClient)
    return client


@pytest.fixture
def review_client(review_app: Flask) -> CsrfClient:
    review_app.test_client_class = CsrfClient
    client = review_app.test_client()
    assert isinstance(client, CsrfClient)
    return client


@pytest.fixture
def cli(review_app: Flask) -> Any:
    return review_app.test_cli_runner()
