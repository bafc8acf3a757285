"""``grants list | fulfil``: key grants waiting for someone who can rewrap, and the
recovery key brought in to do it offline."""

from __future__ import annotations

from typing import TextIO

import click
from flask.cli import AppGroup

from app.actors import operator_actor, reviewer_actor
from app.cases import grants, unit_of_work
from app.cli.errors import fail
from app.cli.recovery_identity import read_recovery_identities, recovery_identity_option
from app.web.db import get_database

grants_group = AppGroup("grants", help="Pending key grants (rewraps).")


@grants_group.command("list")
def grants_list() -> None:
    """Cases waiting for a rewrap, and for whom."""
    with get_database().read_session() as session:
        rows = grants.pending_grants(session)
        for row in rows:
            click.echo(f"{row.case_id}\t{reviewer_actor(row.reviewer_id)}\t{row.reason}")
        click.echo(f"{len(rows)} pending grant(s)")


@grants_group.command("fulfil")
@recovery_identity_option
def grants_fulfil(identity_file: TextIO) -> None:
    """Rewrap every case with pending grants using the recovery identity.

    Run on a trusted machine with the recovery key brought in for the occasion.
    """
    identities = read_recovery_identities(identity_file)
    total = 0
    with unit_of_work.transaction(get_database().sessionmaker) as session:
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
        fail("some wraps do not open with this identity")
