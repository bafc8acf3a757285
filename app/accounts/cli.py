"""``flask --app wsgi:review_app setup-link`` and ``reviewers …``: accounts from a terminal.

Registered by :func:`register_account_commands`, called from ``app.cli.register_cli``.
Errors print ``error: …`` on stderr and exit with status 1; nothing is created then
(each command is one transaction).
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from flask import Flask
from flask.cli import AppGroup

from app.accounts import invitations, reviewers, totp
from app.accounts.errors import AccountError, AdminExistsError, WeakPasswordError
from app.accounts.totp import TotpKey
from app.models.vocabulary import Role
from app.web.context import SECRETS_KEY, SETTINGS_KEY
from app.web.db import get_database
from config import InstallationSecrets, Settings

CLI_ACTOR = "cli"


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _settings(app: Flask) -> Settings:
    settings: Settings = app.config[SETTINGS_KEY]
    return settings


def _totp_key(app: Flask) -> TotpKey:
    secrets: InstallationSecrets | None = app.config.get(SECRETS_KEY)
    if secrets is None:
        _fail("the installation has no secrets yet: run `flask --app wsgi:review_app init`")
    return TotpKey.derive(secrets.review_secret_key)


_WEAK_PASSWORD = {
    "too_short": "the password must be at least 12 characters long",
    "too_long": "the password is too long",
    "common": "the password is too common",
    "same_as_username": "the password must not be the username",
}


def register_account_commands(app: Flask) -> None:
    reviewers_group = AppGroup("reviewers", help="Reviewer accounts.")

    @app.cli.command("setup-link")
    def setup_link() -> None:
        """Print a one-time link (valid 1 hour) that creates the first admin account.

        Refused once an active admin exists: admins then invite everyone else.
        """
        try:
            with get_database(app).session() as session:
                token = invitations.create_setup_link(session, actor=CLI_ACTOR)
        except AdminExistsError:
            _fail(
                "an administrator account already exists; "
                "ask an admin to invite you from /admin/reviewers"
            )
        click.echo(f"{_settings(app).review_url}/setup/{token}")
        click.echo("This link creates the first admin account; valid for 1 hour.", err=True)

    @reviewers_group.command("add")
    @click.option("--username", required=True, help="3-64 characters: a-z 0-9 . _ -")
    @click.option("--unit", "units", required=True, multiple=True, help="Unit slug (repeatable).")
    @click.option(
        "--role",
        type=click.Choice([r.value for r in Role]),
        default=Role.REVIEWER.value,
        show_default=True,
    )
    @click.option(
        "--password-stdin",
        is_flag=True,
        required=True,
        help="Read the password from standard input (never from the command line).",
    )
    def reviewers_add(
        username: str, units: tuple[str, ...], role: str, password_stdin: bool
    ) -> None:
        """Create an account with TOTP enrolled; print its otpauth:// URI."""
        if not password_stdin:
            _fail("the password is read from standard input: pass --password-stdin")
        # One line: the trailing newline of `echo` or a heredoc is not part of it.
        password = sys.stdin.readline().rstrip("\r\n")
        key = _totp_key(app)
        try:
            with get_database(app).session() as session:
                reviewer, secret = reviewers.create_reviewer(
                    session,
                    username=username,
                    password=password,
                    role=role,
                    unit_slugs=units,
                    password_kdf=_settings(app).password_kdf,
                    totp_key=key,
                    actor=CLI_ACTOR,
                )
                name = reviewer.username
        except WeakPasswordError as exc:
            _fail(_WEAK_PASSWORD.get(exc.code, str(exc)))
        except AccountError as exc:
            _fail(str(exc))
        click.echo(totp.provisioning_uri(name, secret))

    @reviewers_group.command("list")
    def reviewers_list() -> None:
        """List accounts: username, role, units, active or inactive, locked."""
        with get_database(app).read_session() as session:
            for reviewer in reviewers.list_reviewers(session):
                state = "active" if reviewer.active else "inactive"
                locked = "locked" if reviewers.is_locked(reviewer) else ""
                units = ",".join(reviewers.unit_slugs_of(reviewer))
                click.echo(f"{reviewer.username}\t{reviewer.role}\t{units}\t{state}\t{locked}")

    app.cli.add_command(reviewers_group)
