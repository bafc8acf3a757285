"""``flask --app wsgi:review_app …`` commands for operators.

Commands print plain text meant for a terminal. Anything secret they print (the
recovery identity at first ``init``) is printed once and never written to disk.
"""

from __future__ import annotations

import sys
from typing import TextIO

import click
from flask import Flask
from flask.cli import AppGroup

from app import audit, installation, schema
from app.accounts.cli import register_access_commands, register_account_commands
from app.cases import grants
from app.cases.day_release import release_finished_days
from app.installation import InstallationError, UnitSpec
from app.models.vocabulary import UnitKind
from app.notifications.cli import register_notification_commands
from app.operators import operator_actor
from app.ops_cli import register_ops_commands
from app.web.context import SETTINGS_KEY
from app.web.db import get_database
from config import Settings
from config.secrets import add_backup_key, ensure_secrets
from crypto import Identity, parse_identity_file


def _settings(app: Flask) -> Settings:
    settings: Settings = app.config[SETTINGS_KEY]
    return settings


def register_cli(app: Flask) -> None:
    db_group = AppGroup("db", help="Database schema migrations (Alembic).")
    units_group = AppGroup("units", help="List and add units.")
    grants_group = AppGroup("grants", help="Pending key grants (rewraps).")
    audit_group = AppGroup("audit", help="The tamper-evident audit log.")
    register_account_commands(app)
    register_access_commands(app)
    register_ops_commands(app)
    register_notification_commands(app)

    @app.cli.command("init")
    @click.option(
        "--recovery-recipient",
        metavar="AGE1…",
        help="Public half of the offline recovery key. Without it, one is generated "
        "and its private half printed once.",
    )
    def init_command(recovery_recipient: str | None) -> None:
        """Create the instance folder and secrets, migrate to head, add default units.

        Safe to run again: it only adds what is missing.
        """
        settings = _settings(app)
        settings.instance_path.mkdir(parents=True, exist_ok=True, mode=0o700)
        settings.blob_path.mkdir(parents=True, exist_ok=True, mode=0o700)
        _, created = ensure_secrets(settings.secrets_file)
        click.echo(
            f"secrets: {'created' if created else 'kept'} {settings.secrets_file} (mode 0600)"
        )
        if created or add_backup_key(settings.secrets_file):
            # Backups are signed with a key from this file and never carry it: a restore
            # on a new machine needs this copy (app.backup, docs/operations.md).
            click.echo(
                "secrets: it holds the backup authentication key. Keep a copy of this file "
                "offline beside the recovery key: restoring a backup needs it (--secrets)."
            )
        database = get_database(app)
        schema.upgrade(database.engine)
        click.echo(f"database: at revision {schema.current_revision(database.engine)}")
        generated: Identity | None = None
        with database.session() as session:
            for unit in installation.ensure_default_units(session, actor=operator_actor()):
                click.echo(f"unit added: {unit.slug} ({unit.name_vi})")
            current = installation.recovery_recipient(session)
            try:
                if recovery_recipient:
                    installation.set_recovery_recipient(
                        session, recovery_recipient, actor=operator_actor()
                    )
                elif current is None:
                    generated = Identity.generate()
                    installation.set_recovery_recipient(
                        session, str(generated.recipient), actor=operator_actor()
                    )
            except InstallationError as exc:
                raise click.ClickException(str(exc)) from None
            click.echo(f"recovery key: {installation.recovery_recipient(session)}")
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
        schema.upgrade(get_database(app).engine, revision)
        click.echo(f"database: at revision {schema.current_revision(get_database(app).engine)}")

    @db_group.command("downgrade")
    @click.argument("revision")
    def db_downgrade(revision: str) -> None:
        """Downgrade the schema to REVISION ("base" removes every table)."""
        schema.downgrade(get_database(app).engine, revision)
        click.echo(f"database: at revision {schema.current_revision(get_database(app).engine)}")

    @db_group.command("current")
    def db_current() -> None:
        """Print the schema revision and whether it is the newest."""
        engine = get_database(app).engine
        current = schema.current_revision(engine)
        state = "head" if current == schema.head_revision() else "behind head"
        click.echo(f"{current or 'empty'} ({state})")

    @units_group.command("list")
    def units_list() -> None:
        """List units: slug, kind, active, Vietnamese and English names."""
        with get_database(app).read_session() as session:
            for unit in installation.list_units(session):
                status = "active" if unit.active else "inactive"
                click.echo(f"{unit.slug}\t{unit.kind}\t{status}\t{unit.name_vi}\t{unit.name_en}")

    @units_group.command("add")
    @click.argument("slug")
    @click.option(
        "--kind", required=True, type=click.Choice([k.value for k in UnitKind]), help="Unit kind."
    )
    @click.option("--name-vi", required=True, help="Vietnamese name.")
    @click.option("--name-en", required=True, help="English name.")
    def units_add(slug: str, kind: str, name_vi: str, name_en: str) -> None:
        """Add a unit (e.g. a district inspectorate)."""
        try:
            with get_database(app).session() as session:
                unit = installation.add_unit(
                    session,
                    UnitSpec(slug, UnitKind(kind), name_vi, name_en),
                    actor=operator_actor(),
                )
                click.echo(f"unit added: {unit.slug}")
        except InstallationError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    @grants_group.command("list")
    def grants_list() -> None:
        """Cases waiting for a rewrap, and for whom."""
        with get_database(app).read_session() as session:
            rows = grants.pending_grants(session)
            for row in rows:
                click.echo(f"{row.case_id}\treviewer:{row.reviewer_id}\t{row.reason}")
            click.echo(f"{len(rows)} pending grant(s)")

    @grants_group.command("fulfil")
    @click.option(
        "--identity",
        "identity_file",
        required=True,
        type=click.File("r"),
        help="The offline recovery identity file (age format). Read, used in memory, never stored.",
    )
    def grants_fulfil(identity_file: TextIO) -> None:
        """Rewrap every case with pending grants using the recovery identity.

        Run on a trusted machine with the recovery key brought in for the occasion.
        """
        try:
            identities = parse_identity_file(identity_file.read())
        except ValueError as exc:
            raise click.ClickException(f"cannot read the identity file: {exc}") from None
        total = 0
        with get_database(app).session() as session:
            while True:
                done = grants.fulfil_pending_grants(
                    session, identities, actor_label=operator_actor(), limit=200
                )
                total += len(done)
                if len(done) < 200:
                    break
            left = len(grants.pending_grants(session))
        click.echo(f"rewrapped {total} case(s); {left} pending grant(s) left")
        if left:
            click.echo("error: some wraps do not open with this identity", err=True)
            sys.exit(1)

    @audit_group.command("release")
    def audit_release() -> None:
        """Chain the reporters' events of finished days and queue their notices (cron,
        daily after midnight; notify send and purge run it too)."""
        with get_database(app).session() as session:
            released = release_finished_days(session, notify=_settings(app).smtp is not None)
        click.echo(
            f"released {released.events} held reporter event(s), "
            f"queued {released.notices} notification(s)"
        )

    @audit_group.command("head")
    def audit_head() -> None:
        """Print the newest event as one line, SEQ HASH, to write down outside."""
        with get_database(app).read_session() as session:
            click.echo(audit.head(session).line())

    @audit_group.command("verify")
    @click.option(
        "--head",
        "written_head",
        metavar='"SEQ HASH"',
        help="A head written down earlier (audit head, the dashboard, the daily e-mail): "
        "fail unless the chain still contains it.",
    )
    def audit_verify(written_head: str | None) -> None:
        """Check the whole hash chain; names the first broken link. With --head, also
        that the chain was neither cut off nor rewritten since that head."""
        expected = None
        if written_head is not None:
            try:
                expected = audit.parse_head(written_head)
            except audit.HeadFormatError as exc:
                raise click.BadParameter(str(exc), param_hint="--head") from None
        with get_database(app).read_session() as session:
            if expected is None:
                checked, broken = audit.verify_chain(session)
                problem = (
                    None if broken is None else f"broken at event {broken.seq}: {broken.reason}"
                )
            else:
                check = audit.check_head(session, *expected)
                checked, problem = check.checked, check.problem
            held = audit.held_days(session)
        for day in held:
            # Not in the chain yet, so not covered by this check (app.audit).
            click.echo(
                f"held: {day.events} reporter event(s) of {day.day.isoformat()}, "
                "chained once that day is over (not tamper-evident until then)"
            )
        if problem is not None:
            click.echo(f"audit log BROKEN: {problem} ({checked} events verified)", err=True)
            sys.exit(1)
        suffix = f"; it still contains the head {expected[0]}" if expected else ""
        click.echo(f"audit log OK: {checked} events verified{suffix}")

    app.cli.add_command(db_group)
    app.cli.add_command(units_group)
    app.cli.add_command(grants_group)
    app.cli.add_command(audit_group)
