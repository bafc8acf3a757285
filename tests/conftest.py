"""Shared fixtures: a fresh installation per test (instance folder, secrets, database at
head, default units), both apps, their test clients and a CLI runner.

The database at head is a copy of a template migrated once per session (see
:class:`SchemaTemplates`); tests run on SQLite unless marked ``both_backends`` or
``postgresql_only``. Staff and cases come from :mod:`tests.factories`.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import Engine, create_engine, text

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


class _CompiledTemplates(BytecodeCache):
    """Compiled templates kept in memory for the whole session.

    Every test builds its own apps (nothing is shared between tests), and every new app
    compiles every template again: about 0.1 s per app, most of an app's creation (the
    error pages are rendered at start-up). The compiled code depends only on the
    template's source and on the environment's whitespace options (the intake trims
    blocks, the review app does not: app/factory.py), which are part of the key; Jinja
    checks the source against a checksum before reusing it, so sharing it shares no
    state between tests.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    @staticmethod
    def _key(bucket: Bucket) -> str:
        env = bucket.environment
        return f"{bucket.key}:{env.trim_blocks}:{env.lstrip_blocks}"

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(self._key(bucket))
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[self._key(bucket)] = bucket.bytecode_to_string()


Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": _CompiledTemplates()}


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


# The schema every ``database`` fixture starts from is migrated once per session and then
# copied: running all Alembic revisions costs ~0.3 s (SQLite) to ~0.7 s (PostgreSQL) per
# test, a copy costs ~20 ms. Migration tests ask for ``database_url`` alone and still get
# an empty database to migrate for real. Only the schema is shared; rows that depend on
# the test (default units, the per-test recovery key, secrets) are written per test.
PG_SCHEMA = "liemchinh"


@dataclass
class SchemaTemplates:
    """A database at head per backend, made on first use and copied by each test."""

    root: Path
    _sqlite: Path | None = None
    _postgres: str | None = None

    def sqlite_file(self) -> Path:
        if self._sqlite is None:
            path = self.root / "template.sqlite3"
            db = Database(f"sqlite:///{path}")
            schema.upgrade(db.engine)
            # Closing the last connection checkpoints the WAL into the main file and
            # removes it, so the one file is the whole database.
            db.dispose()
            self._sqlite = path
        return self._sqlite

    def copy_sqlite(self, url: str) -> None:
        """Put a migrated database at ``url`` (a SQLite URL whose file does not exist)."""
        target = Path(url.removeprefix("sqlite:///"))
        assert not target.exists(), f"{target} already exists"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.sqlite_file(), target)

    def postgres_template(self, base: str) -> str:
        if self._postgres is None:
            name = "lc_tmpl_" + secrets.token_hex(6)
            _create_pg_database(base, name, template=None)
            db = Database(_with_search_path(_pg_database_url(base, name), PG_SCHEMA))
            schema.upgrade(db.engine)
            # CREATE DATABASE ... TEMPLATE refuses while anyone is connected to the template.
            db.dispose()
            self._postgres = name
        return self._postgres

    def drop(self, base: str | None) -> None:
        if self._postgres is not None and base is not None:
            _drop_pg_database(base, self._postgres)


def _pg_database_url(base: str, name: str) -> str:
    return urlunsplit(urlsplit(base)._replace(path="/" + name))


def _pg_admin(base: str) -> Engine:
    # CREATE/DROP DATABASE cannot run inside a transaction, nor from the database dropped.
    return create_engine(_pg_database_url(base, "postgres"), isolation_level="AUTOCOMMIT")


def _create_pg_database(base: str, name: str, *, template: str | None) -> None:
    admin = _pg_admin(base)
    try:
        with admin.connect() as conn:
            if template is None:
                conn.execute(text(f"CREATE DATABASE {name}"))
            else:
                conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    finally:
        admin.dispose()
    if template is None:
        engine = create_engine(_pg_database_url(base, name), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
        finally:
            engine.dispose()


def _drop_pg_database(base: str, name: str) -> None:
    admin = _pg_admin(base)
    try:
        with admin.connect() as conn:
            # FORCE ends connections a test left open (a killed worker's pool, say).
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def schema_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchemaTemplates]:
    templates = SchemaTemplates(tmp_path_factory.mktemp("schema-template"))
    yield templates
    templates.drop(postgres_url())


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that touches a database runs on SQLite; ``@pytest.mark.both_backends``
    adds PostgreSQL, ``@pytest.mark.postgresql_only`` runs it there alone."""
    if "backend" not in metafunc.fixturenames:
        return
    both = metafunc.definition.get_closest_marker("both_backends")
    only_pg = metafunc.definition.get_closest_marker("postgresql_only")
    if both and only_pg:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: both_backends or postgresql_only")
    if both:
        metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
    elif only_pg:
        metafunc.parametrize("backend", ["postgresql"], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """Which database a test runs on: SQLite unless the test is marked ``both_backends``
    or ``postgresql_only`` (then pytest_generate_tests passes the name)."""
    name: str = getattr(request, "param", "sqlite")
    if name == "postgresql" and postgres_url() is None:
        pytest.skip(f"PostgreSQL tests need {PG_URL_VAR} (CI sets it)")
    return name


@pytest.fixture
def database_url(
    request: pytest.FixtureRequest,
    backend: str,
    tmp_path: Path,
    schema_templates: SchemaTemplates,
) -> Iterator[str]:
    """This test's own database. A test that uses ``database`` gets a copy of the
    migrated template; one that asks only for the URL gets an empty database."""
    migrated = "database" in request.fixturenames
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'instance' / 'liemchinh.sqlite3'}"
        if migrated:
            schema_templates.copy_sqlite(url)
        yield url
        return
    base = postgres_url()
    assert base is not None
    # A database per test, cloned from the template (or empty), dropped afterwards: as
    # isolated as a new server. The tables live in their own schema, reached through the
    # search_path, as an installation sharing a database with other software would.
    name = "lc_t_" + secrets.token_hex(6)
    template = schema_templates.postgres_template(base) if migrated else None
    _create_pg_database(base, name, template=template)
    try:
        yield _with_search_path(_pg_database_url(base, name), PG_SCHEMA)
    finally:
        _drop_pg_database(base, name)


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
    # database_url put a copy of the migrated template at this URL: no migration here.
    db = Database(settings.database_url)
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
