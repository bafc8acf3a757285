"""Operations commands: ``purge``, ``legal-hold``, ``export``, ``backup``, ``restore``.

Thin wrappers over :mod:`app.cases.retention`, :mod:`app.cases.export` and
:mod:`app.backup`; docs/operations.md says when to run each (cron, systemd timers).
Every refusal prints ``error: …`` and exits with status 1.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn, TextIO

import click
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app import backup as backups
from app import clock
from app.cases import export as exports
from app.cases import retention
from app.cases.day_release import release_finished_days
from app.cases.references import UnknownCaseError, find_case
from app.models import Case
from app.operators import operator_actor
from app.storage import BlobStore
from app.web.context import SETTINGS_KEY
from app.web.db import get_database
from config import Settings
from config.secrets import SecretsError, load_secrets
from crypto import AgeError, Recipient, parse_identity_file

SECRETS_WARNING = (
    "warning: the archive contains the installation's secrets (receipt salt). Keep it "
    "encrypted and offline. Restoring it needs a copy of the secrets file (its backup "
    "key, which no archive holds): keep one offline beside the recovery key"
)


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def register_ops_commands(app: Flask) -> None:
    def settings() -> Settings:
        value: Settings = app.config[SETTINGS_KEY]
        return value

    def store() -> BlobStore:
        return BlobStore(settings().blob_path)

    @app.cli.command("purge")
    @click.option("--dry-run", is_flag=True, help="List what would be purged; change nothing.")
    def purge_command(dry_run: bool) -> None:
        """Purge closed cases past their retention day (unless on legal hold), then sweep
        expired tickets, challenges, sessions, rate-limit counters and orphaned files."""
        database = get_database(app)
        today = clock.today()
        if not dry_run:
            # Chained before any purge tombstone, so the chain stays in day order.
            with database.session() as session:
                release_finished_days(session, notify=settings().smtp is not None, today=today)
        with database.sessionmaker() as session:
            plan = retention.purge_plan(session, today)
            session.rollback()
            for item in plan:
                closed = item.closed_day.isoformat() if item.closed_day else "-"
                click.echo(
                    f"{item.reference}\tclosed {closed}\tpurge after {item.purge_after.isoformat()}"
                )
            if dry_run:
                click.echo(f"dry run: {len(plan)} case(s) would be purged; nothing changed")
                return
            purged = left = 0
            failures = []
            for item in plan:
                try:
                    result = retention.purge_case(
                        session, store(), item.case_id, actor=operator_actor(), today=today
                    )
                except retention.RetentionError as exc:
                    # Put on hold or reopened since the plan was made: skipped, not failed.
                    click.echo(f"skipped {item.reference}: {exc}")
                    continue
                except SQLAlchemyError as exc:
                    # One case failing (a lock timeout) must not stop the others.
                    failures.append(f"{item.reference}: {exc}")
                    continue
                purged += 1
                left += result.files_left
            counts = retention.sweep(session, store())
        retention.checkpoint_sqlite(database.engine)
        click.echo(f"purged {purged} case(s)")
        if left:
            click.echo(f"{left} blob file(s) could not be deleted; the next sweep removes them")
        click.echo(
            f"swept: {counts.challenges} spent challenge(s), "
            f"{counts.sessions} session(s), {counts.orphan_files} orphaned file(s), "
            f"{counts.stale_partials} stale upload(s)"
        )
        if failures:
            _fail("could not purge " + "; ".join(failures))

    @app.cli.command("legal-hold")
    @click.argument("reference")
    @click.option("--on/--off", "on", required=True, help="Set or release the hold.")
    def legal_hold_command(reference: str, on: bool) -> None:
        """Set or release the legal hold of a case: a held case is never purged."""
        with get_database(app).session() as session:
            try:
                case = find_case(session, reference)
            except UnknownCaseError as exc:
                _fail(str(exc))
            changed = retention.set_legal_hold_by_operator(
                session, case, on, actor_label=operator_actor()
            )
            state = "on" if on else "off"
            click.echo(
                f"{case.reference}: legal hold {state}" + ("" if changed else " (unchanged)")
            )
            if not on and case.purge_after is not None and case.status == "closed":
                click.echo(f"{case.reference}: will be purged on or after {case.purge_after}")

    @app.cli.command("export")
    @click.argument("references", nargs=-1)
    @click.option("--all", "export_all", is_flag=True, help="Export every case.")
    @click.option(
        "-o",
        "--output",
        "output",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder to write one sub-folder per case into.",
    )
    def export_command(references: tuple[str, ...], export_all: bool, output: Path) -> None:
        """Write cases as folders of age files for reading offline with the recovery key."""
        if bool(references) == export_all:
            _fail("give case references or --all (not both)")
        database = get_database(app)
        with database.sessionmaker() as session:
            if export_all:
                ids = list(session.scalars(select(Case.id).order_by(Case.reference)))
            else:
                ids = []
                for reference in references:
                    try:
                        ids.append(find_case(session, reference).id)
                    except UnknownCaseError as exc:
                        _fail(str(exc))
            session.rollback()
            for case_id in ids:
                try:
                    result = exports.export_case(
                        session, store(), case_id, output, actor=operator_actor()
                    )
                except exports.ExportError as exc:
                    _fail(str(exc))
                click.echo(f"{result.reference}: {result.files} file(s) in {result.path}")
        click.echo(f"exported {len(ids)} case(s); open them offline as README.txt explains")

    @app.cli.command("backup")
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
    def backup_command(output: Path, recipients: tuple[str, ...]) -> None:
        """Archive the database, the blob store and the secrets into one file.

        The archive contains the secrets: store it encrypted (--recipient) and offline.
        """
        try:
            parsed = [Recipient.parse(text.strip()) for text in recipients]
        except ValueError as exc:
            _fail(f"invalid --recipient: {exc}")
        try:
            result = backups.backup(settings(), get_database(app), output, recipients=parsed)
        except backups.BackupError as exc:
            _fail(str(exc))
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

    @app.cli.command("restore")
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
    def restore_command(archive: Path, secrets_file: Path, identity_file: TextIO | None) -> None:
        """Restore an archive into an EMPTY instance (no secrets, empty database).

        Refused before anything is written unless the archive was signed with the
        backup key of --secrets: an archive this installation did not make never
        reaches pg_restore."""
        try:
            backup_key = load_secrets(secrets_file).backup_auth_key
        except SecretsError as exc:
            _fail(f"cannot read --secrets: {exc}")
        if backup_key is None:
            _fail(
                f"{secrets_file} has no backup authentication key: it is from before backups "
                "were signed, and cannot vouch for an archive"
            )
        identities = []
        if identity_file is not None:
            try:
                identities = parse_identity_file(identity_file.read())
            except (ValueError, AgeError) as exc:
                _fail(f"cannot read the identity file: {exc}")
        # The app's own engine may hold a connection to the (empty) database file.
        get_database(app).dispose()
        try:
            result = backups.restore(
                settings(),
                settings().database_url,
                archive,
                backup_key=backup_key,
                identities=identities,
            )
        except backups.RestoreError as exc:
            _fail(str(exc))
        click.echo(
            f"restored: {result.database_kind} at revision {result.revision}, "
            f"{result.blobs} blob(s)"
            + (f"; schema upgraded to {result.upgraded_to}" if result.upgraded_to else "")
        )
        click.echo("run `flask --app wsgi:review_app audit verify` to check the audit log")
