"""``units list | add``: the units cases are routed to."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app import installation
from app.actors import operator_actor
from app.cases import unit_of_work
from app.cli.errors import fail
from app.installation import InstallationError, UnitSpec
from app.models.vocabulary import UnitKind
from app.web.db import get_database

units_group = AppGroup("units", help="List and add units.")


@units_group.command("list")
def units_list() -> None:
    """List units: slug, kind, active, Vietnamese and English names."""
    with get_database().read_session() as session:
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
        with unit_of_work.transaction(get_database().sessionmaker) as session:
            unit = installation.add_unit(
                session,
                UnitSpec(slug, UnitKind(kind), name_vi, name_en),
                actor=operator_actor(),
            )
            click.echo(f"unit added: {unit.slug}")
    except InstallationError as exc:
        fail(str(exc))
