"""``custodians list | remove`` and ``identity stale | reseal``: who holds the units'
sealed identities, and resealing them for the holding unit's custodians after a
routing (or a designation) with the offline recovery key.

Designating a custodian is an access change: an administrator asks for it in the review
app and a second one approves (or the operator, ``access approve ID``).
"""

from __future__ import annotations

from typing import TextIO

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.accounts.reviewers import reviewer_named
from app.actors import operator_actor
from app.cases import custodians, resealing, unit_of_work
from app.cli.errors import fail
from app.cli.recovery_identity import read_recovery_identities, recovery_identity_option
from app.models import Unit
from app.web.db import get_database

custodians_group = AppGroup("custodians", help="Identity custodians of the units.")
identity_group = AppGroup("identity", help="Sealed identities of named denunciations.")


@custodians_group.command("list")
def custodians_list() -> None:
    """Every designation, by unit."""
    with get_database().read_session() as session:
        rows = custodians.designated(session)
        for unit, reviewer in rows:
            click.echo(f"{unit.slug}\t{reviewer.username}")
        click.echo(f"{len(rows)} custodian(s)")


@custodians_group.command("remove")
@click.argument("username")
@click.argument("unit_slug")
def custodians_remove(username: str, unit_slug: str) -> None:
    """Take custodianship away at once (reseal afterwards: ``identity reseal``)."""
    with unit_of_work.transaction(get_database().sessionmaker) as session:
        reviewer = reviewer_named(session, username)
        unit = session.scalar(select(Unit).where(Unit.slug == unit_slug))
        if reviewer is None or unit is None:
            fail("no such account or unit")
        if not custodians.remove(session, reviewer, unit, actor=operator_actor()):
            fail(f"{username} is not a custodian of {unit_slug}")
    click.echo(f"{username} is no longer a custodian of {unit_slug}")


@identity_group.command("stale")
def identity_stale() -> None:
    """Named cases whose seal is not (only) for their holding unit's custodians."""
    with get_database().read_session() as session:
        rows = resealing.stale_seals(session)
        for case, _seal in rows:
            click.echo(case.reference)
        click.echo(f"{len(rows)} seal(s) to reseal")


@identity_group.command("reseal")
@recovery_identity_option
def identity_reseal(identity_file: TextIO) -> None:
    """Reseal every stale seal for its holding unit's custodians and the recovery key."""
    identities = read_recovery_identities(identity_file)
    with unit_of_work.transaction(get_database().sessionmaker) as session:
        done = resealing.reseal_stale(session, identities, actor_label=operator_actor())
        left = len(resealing.stale_seals(session))
    click.echo(f"resealed {done} identit(y/ies); {left} left")
    if left:
        fail("some seals do not open with this identity")
