"""``export``: cases as folders of age files, read offline with the recovery key
(app.cases.export)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.actors import operator_actor
from app.cases import export as exports
from app.cases import unit_of_work
from app.cases.references import UnknownCaseError, find_case
from app.cli.errors import fail
from app.models import Case
from app.web.context import blob_store
from app.web.db import get_database


@click.command("export")
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
@with_appcontext
def export_command(references: tuple[str, ...], export_all: bool, output: Path) -> None:
    """Write cases as folders of age files for reading offline with the recovery key."""
    if bool(references) == export_all:
        fail("give case references or --all (not both)")
    with get_database().sessionmaker() as session:
        if export_all:
            ids = list(session.scalars(select(Case.id).order_by(Case.reference)))
        else:
            ids = []
            for reference in references:
                try:
                    ids.append(find_case(session, reference).id)
                except UnknownCaseError as exc:
                    fail(str(exc))
        unit_of_work.rollback(session)
        for case_id in ids:
            try:
                result = exports.export_case(
                    session, blob_store(), case_id, output, actor=operator_actor()
                )
                unit_of_work.commit(session)  # the audit event, then the folder's rename
            except exports.ExportError as exc:
                fail(str(exc))
            click.echo(f"{result.reference}: {result.files} file(s) in {result.path}")
    click.echo(f"exported {len(ids)} case(s); open them offline as README.txt explains")
