"""The two faces: ``create_intake_app()`` for reporters, ``create_review_app()`` for staff.

Two Flask apps on two ports with two secret keys and two cookies, so that a flaw in the
staff interface cannot hand out a reporter's session and the reporter-facing server can
be exposed (e.g. as an onion service) while the review app stays on an internal network.
Shared setup lives here; everything else in the packages this wires together. (Not in
``app/__init__.py``: importing the domain, ``app.cases``, must not load Flask.)
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask
from flask_wtf import CSRFProtect

from app import clock
from app.database import Database
from app.storage import BlobStore
from app.web.context import SECRETS_KEY, SETTINGS_KEY, init_blob_store
from app.web.db import init_database
from app.web.headers import install_security_headers
from app.web.i18n import init_i18n
from app.web.request_body import StrictFormRequest
from app.web.server_errors import install_server_error_guard
from app.web.sessions import (
    EncryptedSessionInterface,
    SessionPolicy,
    refuse_writes_without_the_session_store,
)
from app.web.static_files import init_static_files
from config import InstallationSecrets, MissingSecretsError, Settings, load_secrets, load_settings


def _load_secrets_for(settings: Settings) -> InstallationSecrets | None:
    """The installation's secrets; refuse to start without them.

    The one exception is the ``flask`` command (a click context is active while it loads
    the app): ``init`` is what creates the secrets, so the app must load without them.
    A web server (gunicorn) has no click context and gets the error.
    """
    try:
        return load_secrets(settings.secrets_file)
    except MissingSecretsError:
        if click.get_current_context(silent=True) is not None:
            return None
        raise


def _cookie_name(base: str, secure: bool) -> str:
    # __Host- binds the cookie to this exact origin over https: no subdomain can set or
    # read it, and it cannot be sent over plain http.
    return f"__Host-{base}" if secure else base


def _create_app(face: str, settings: Settings | None, database: Database | None) -> Flask:
    settings = settings or load_settings()
    clock.use_zone(settings.timezone)
    secrets = _load_secrets_for(settings)
    app = Flask(
        f"liemchinh.{face}",
        root_path=str(Path(__file__).parent),
        instance_path=str(settings.instance_path),
    )
    app.request_class = StrictFormRequest
    app.config[SETTINGS_KEY] = settings
    app.config[SECRETS_KEY] = secrets
    if secrets is not None:
        app.secret_key = (
            secrets.intake_secret_key if face == "intake" else secrets.review_secret_key
        )
    secure = settings.secure_cookies(face)
    app.config.update(
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        WTF_CSRF_TIME_LIMIT=None,  # bound by the session's own lifetime instead
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    database = database or Database(settings.database_url)
    init_database(app, database)
    init_blob_store(app, BlobStore(settings.blob_path))
    if face == "intake":
        idle = timedelta(minutes=settings.reporter_idle_minutes)
        absolute = timedelta(hours=2)
    else:
        idle = timedelta(minutes=settings.reviewer_idle_minutes)
        absolute = timedelta(hours=settings.reviewer_absolute_hours)
    app.session_interface = EncryptedSessionInterface(
        database,
        SessionPolicy(
            face=face,
            cookie_name=_cookie_name(f"lc_{face}", secure),
            idle=idle,
            absolute=absolute,
            secure=secure,
        ),
    )
    refuse_writes_without_the_session_store(app)
    CSRFProtect(app)
    init_i18n(app, follow_browser=face == "review")
    init_static_files(app)
    install_security_headers(
        app, onion_url=settings.onion_url if face == "intake" else None, hsts=secure
    )
    # Werkzeug's request log (development server) prints client addresses: silence it.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    return app


def create_intake_app(settings: Settings | None = None, database: Database | None = None) -> Flask:
    from app.intake import blueprint as intake_blueprint
    from app.intake.errors import server_error_page
    from app.intake.setup import init_intake

    app = _create_app("intake", settings, database)
    app.register_blueprint(intake_blueprint)
    init_intake(app, app.config[SETTINGS_KEY])
    # Last: it wraps everything above. The intake's logs never name a request.
    install_server_error_guard(app, render_error_page=server_error_page, reveal_request=False)
    return app


def create_review_app(settings: Settings | None = None, database: Database | None = None) -> Flask:
    from app.cases.referral_agencies import SHIPPED_AGENCIES, load_agencies
    from app.cli import init_cli
    from app.review import blueprint as review_blueprint
    from app.review.errors import server_error_page

    app = _create_app("review", settings, database)
    # A broken agency list stops the start with the file and the entry at fault, rather
    # than the first referral of the day.
    load_agencies(app.config[SETTINGS_KEY].referral_agencies_file or SHIPPED_AGENCIES)
    app.register_blueprint(review_blueprint)
    init_cli(app)
    install_server_error_guard(app, render_error_page=server_error_page, reveal_request=True)
    return app
