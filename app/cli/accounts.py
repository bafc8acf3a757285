"""``setup-link``, ``reviewers …`` and ``access …``: staff accounts from a terminal.

``access`` makes the operator the second person of the two-person rule: with a single
admin, nobody in the review app can approve that admin's requests
(app.accounts.approvals). Nothing is created when a command fails (each is one
transaction).
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from app.accounts import approvals, invitations, reviewers, totp
from app.accounts.errors import ACCOUNT_REFUSALS, AdminExistsError, WeakPasswordError
from app.accounts.totp import TotpKey
from app.actors import operator_actor
from app.cases import unit_of_work
from app.cli.errors import fail
from app.models import Reviewer, Unit
from app.models.vocabulary import Role
from app.web.context import SECRETS_KEY, settings
from app.web.db import get_database
from config import InstallationSecrets

reviewers_group = AppGroup("reviewers", help="Reviewer accounts.")
access_group = AppGroup("access", help="Access-change requests (two-person rule).")

_WEAK_PASSWORD = {
    "too_short": "the password must be at least 12 characters long",
    "too_long": "the password is too long",
    "common": "the password is too common",
    "same_as_username": "the password must not be the username",
}


def _totp_key() -> TotpKey:
    secrets: InstallationSecrets | None = current_app.config.get(SECRETS_KEY)
    if secrets is None:
        fail("the installation has no secrets yet: run `flask --app wsgi:review_app init`")
    return TotpKey.of(secrets)


@click.command("setup-link")
@with_appcontext
def setup_link() -> None:
    """Print a one-time link (valid 1 hour) that creates the first admin account.

    Refused once an active admin exists: admins then invite everyone else.
    """
    try:
        with unit_of_work.transaction(get_database().sessionmaker) as session:
            token = invitations.create_setup_link(session, actor=operator_actor())
    except AdminExistsError:
        fail(
            "an administrator account already exists; "
            "ask an admin to invite you from /admin/reviewers"
        )
    click.echo(f"{settings().review_url}/setup/{token}")
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
def reviewers_add(username: str, units: tuple[str, ...], role: str, password_stdin: bool) -> None:
    """Create an account with TOTP enrolled; print its otpauth:// URI."""
    if not password_stdin:
        fail("the password is read from standard input: pass --password-stdin")
    # One line: the trailing newline of `echo` or a heredoc is not part of it.
    password = sys.stdin.readline().rstrip("\r\n")
    key = _totp_key()
    try:
        with unit_of_work.transaction(get_database().sessionmaker) as session:
            reviewer, secret = reviewers.create_reviewer(
                session,
                username=username,
                password=password,
                role=role,
                unit_slugs=units,
                password_kdf=settings().password_kdf,
                totp_key=key,
                actor=operator_actor(),
            )
            name = reviewer.username
    except WeakPasswordError as exc:
        fail(_WEAK_PASSWORD.get(exc.code, str(exc)))
    except ACCOUNT_REFUSALS as exc:
        fail(str(exc))
    click.echo(totp.provisioning_uri(name, secret))


@reviewers_group.command("list")
def reviewers_list() -> None:
    """List accounts: username, role, units, active or inactive, locked."""
    with get_database().read_session() as session:
        for reviewer in reviewers.list_reviewers(session):
            state = "active" if reviewer.active else "inactive"
            locked = "locked" if reviewers.is_locked(reviewer) else ""
            units = ",".join(reviewers.unit_slugs_of(reviewer))
            click.echo(f"{reviewer.username}\t{reviewer.role}\t{units}\t{state}\t{locked}")


@access_group.command("list")
def access_list() -> None:
    """Pending requests: id, kind, target, unit or value, requested by, reason."""
    with unit_of_work.transaction(get_database().sessionmaker) as session:
        approvals.expire_stale(session)
        rows = approvals.pending_requests(session)
        for row in rows:
            target = session.get(Reviewer, row.target_id) if row.target_id else None
            unit = session.get(Unit, row.unit_id) if row.unit_id else None
            what = unit.slug if unit else (row.value or "-")
            click.echo(
                f"{row.id}\t{row.kind}\t{target.username if target else '-'}\t{what}\t"
                f"{row.requested_by}\t{row.reason}"
            )
        click.echo(f"{len(rows)} pending request(s)")


@access_group.command("approve")
@click.argument("request_id", type=int)
def access_approve(request_id: int) -> None:
    """Approve and carry out a request. A reset's new secret is printed once."""
    key = _totp_key()
    current = settings()
    try:
        with unit_of_work.transaction(get_database().sessionmaker) as session:
            outcome = approvals.approve(
                session,
                request_id,
                approvals.Decider(operator_actor()),
                password_kdf=current.password_kdf,
                totp_key=key,
                notify=current.smtp is not None,
            )
            target = (
                session.get(Reviewer, outcome.request.target_id)
                if outcome.request.target_id
                else None
            )
            name = target.username if target else None
    except ACCOUNT_REFUSALS as exc:
        fail(str(exc))
    click.echo(f"request {request_id} approved and carried out")
    if outcome.temporary_password is not None:
        click.echo(f"temporary password for {name} (shown once): {outcome.temporary_password}")
    if outcome.totp_secret is not None and name is not None:
        click.echo(totp.provisioning_uri(name, outcome.totp_secret))


@access_group.command("refuse")
@click.argument("request_id", type=int)
def access_refuse(request_id: int) -> None:
    """Refuse a request; nothing of it happens."""
    try:
        with unit_of_work.transaction(get_database().sessionmaker) as session:
            approvals.refuse(session, request_id, approvals.Decider(operator_actor()))
    except ACCOUNT_REFUSALS as exc:
        fail(str(exc))
    click.echo(f"request {request_id} refused")
