"""``init`` (a new or older installation brought up to date) and ``db …`` (the schema).

Anything secret ``init`` prints (the recovery identity at the first run) is printed
once and never written to disk.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from app import installation, schema
from app.actors import operator_actor
from app.cases import unit_of_work
from app.installation import InstallationError
from app.web.context import settings
from app.web.db import get_database
from config.secrets import add_backup_key, add_totp_key, ensure_secrets
from crypto import Identity

db_group = AppGroup("db", help="Database schema migrations (Alembic).")


@click.command("init")
@click.option(
    "--recovery-recipient",
    metavar="AGE1…",
    help="Public half of the offline recovery key. Without it, one is generated "
    "and its private half printed once.",
)
@with_appcontext
def init_command(recovery_recipient: str | None) -> None:
    """Create the instance folder and secrets, migrate to head, add default units.

    Safe to run again: it only adds what is missing.
    """
    current = settings()
    current.instance_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    current.blob_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    _, created = ensure_secrets(current.secrets_file)
    click.echo(f"secrets: {'created' if created else 'kept'} {current.secrets_file} (mode 0600)")
    if created or add_backup_key(current.secrets_file):
        # Backups are signed with a key from this file and never carry it: a restore
        # on a new machine needs this copy (app.backup, docs/operations.md).
        click.echo(
            "secrets: it holds the backup authentication key. Keep a copy of this file "
            "offline beside the recovery key: restoring a backup needs it (--secrets)."
        )
    if add_totp_key(current.secrets_file):
        # A file from before: it gets the key its release derived from the review
        # secret key, so enrolled authenticators keep working (config.secrets).
        click.echo(
            "secrets: added the TOTP key (the one in use until now): the review secret key "
            "can now be rotated without breaking enrolled authenticators."
        )
    database = get_database()
    schema.upgrade(database.engine)
    click.echo(f"database: at revision {schema.current_revision(database.engine)}")
    generated: Identity | None = None
    with unit_of_work.transaction(database.sessionmaker) as session:
        for unit in installation.ensure_default_units(session, actor=operator_actor()):
            click.echo(f"unit added: {unit.slug} ({unit.name_vi})")
        recipient = installation.recovery_recipient_text(session)
        try:
            if recovery_recipient:
                installation.set_recovery_recipient(
                    session, recovery_recipient, actor=operator_actor()
                )
            elif recipient is None:
                generated = Identity.generate()
                installation.set_recovery_recipient(
                    session, str(generated.recipient), actor=operator_actor()
                )
        except InstallationError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"recovery key: {installation.recovery_recipient_text(session)}")
    if generated is not None:
        click.echo(
            "\n"
            "!!! OFFLINE RECOVERY KEY — shown once, not stored on this server !!!\n"
            "It opens every case ever submitted. Copy it to paper or to an encrypted\n"
            "USB stick kept offline (two copies, two places), then clear this terminal.\n"
            "Losing it means cases no reviewer can open are lost for good.\n\n"
            f"{generated}\n",
            err=False,
        )
    click.echo("init: done")


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the schema (default: to head)."""
    schema.upgrade(get_database().engine, revision)
    click.echo(f"database: at revision {schema.current_revision(get_database().engine)}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION ("base" removes every table)."""
    schema.downgrade(get_database().engine, revision)
    click.echo(f"database: at revision {schema.current_revision(get_database().engine)}")


@db_group.command("current")
def db_current() -> None:
    """Print the schema revision and whether it is the newest."""
    engine = get_database().engine
    current = schema.current_revision(engine)
    state = "head" if current == schema.head_revision() else "behind head"
    click.echo(f"{current or 'empty'} ({state})")
