"""``backup`` and ``restore``: the whole installation in one signed archive (app.backup).

docs/operations.md says how to keep archives and practise a restore.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import click
from flask.cli import with_appcontext

from app import backup as backups
from app.cli.errors import fail
from app.web.context import settings
from app.web.db import get_database
from config.secrets import SecretsError, load_secrets
from crypto import AgeError, Recipient, parse_identity_file

SECRETS_WARNING = (
    "warning: the archive contains the installation's secrets (receipt salt). Keep it "
    "encrypted and offline. Restoring it needs a copy of the secrets file (its backup "
    "key, which no archive holds): keep one offline beside the recovery key"
)


@click.command("backup")
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Archive to write (refuses to overwrite).",
)
@click.option(
    "--recipient",
    "recipients",
    multiple=True,
    metavar="AGE1…",
    help="Encrypt the whole archive to this age recipient (repeatable). Recommended.",
)
@with_appcontext
def backup_command(output: Path, recipients: tuple[str, ...]) -> None:
    """Archive the database, the blob store and the secrets into one file.

    The archive contains the secrets: store it encrypted (--recipient) and offline.
    """
    try:
        parsed = [Recipient.parse(text.strip()) for text in recipients]
    except ValueError as exc:
        fail(f"invalid --recipient: {exc}")
    try:
        result = backups.backup(settings(), get_database(), output, recipients=parsed)
    except backups.BackupError as exc:
        fail(str(exc))
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"backup: {result.path} ({result.database_kind}, revision {result.revision}, "
        f"{result.blobs} blob(s), {'age-encrypted' if result.encrypted else 'NOT encrypted'})"
    )
    if not result.encrypted:
        click.echo(SECRETS_WARNING + " (use --recipient age1…).", err=True)
    else:
        click.echo(SECRETS_WARNING + ".")


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--secrets",
    "secrets_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A copy of the secrets file of the installation that made the archive (kept "
    "offline beside the recovery key): its backup key proves the archive is ours.",
)
@click.option(
    "--identity",
    "identity_file",
    type=click.File("r"),
    help="age identity file to decrypt an encrypted archive. Read, never stored.",
)
@with_appcontext
def restore_command(archive: Path, secrets_file: Path, identity_file: TextIO | None) -> None:
    """Restore an archive into an EMPTY instance (no secrets, empty database).

    Refused before anything is written unless the archive was signed with the
    backup key of --secrets: an archive this installation did not make never
    reaches pg_restore."""
    try:
        backup_key = load_secrets(secrets_file).backup_auth_key
    except SecretsError as exc:
        fail(f"cannot read --secrets: {exc}")
    if backup_key is None:
        fail(
            f"{secrets_file} has no backup authentication key: it is from before backups "
            "were signed, and cannot vouch for an archive"
        )
    identities = []
    if identity_file is not None:
        try:
            identities = parse_identity_file(identity_file.read())
        except (ValueError, AgeError) as exc:
            fail(f"cannot read the identity file: {exc}")
    # The app's own engine may hold a connection to the (empty) database file.
    get_database().dispose()
    current = settings()
    try:
        result = backups.restore(
            current,
            current.database_url,
            archive,
            backup_key=backup_key,
            identities=identities,
        )
    except backups.RestoreError as exc:
        fail(str(exc))
    click.echo(
        f"restored: {result.database_kind} at revision {result.revision}, "
        f"{result.blobs} blob(s)"
        + (f"; schema upgraded to {result.upgraded_to}" if result.upgraded_to else "")
    )
    click.echo("run `flask --app wsgi:review_app audit verify` to check the audit log")
