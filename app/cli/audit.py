"""``audit release | head | verify``: the tamper-evident audit log from a terminal.

``head`` prints the line to write down outside the server; ``verify --head`` later
proves the chain was neither cut short nor rewritten since (app.audit).
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app import audit
from app.cases import unit_of_work
from app.cases.day_release import release_finished_days
from app.web.context import settings
from app.web.db import get_database

audit_group = AppGroup("audit", help="The tamper-evident audit log.")


@audit_group.command("release")
def audit_release() -> None:
    """Chain the reporters' events of finished days and queue their notices (cron,
    daily after midnight; notify send and purge run it too)."""
    with unit_of_work.transaction(get_database().sessionmaker) as session:
        released = release_finished_days(session, notify=settings().smtp is not None)
    click.echo(
        f"released {released.events} held reporter event(s), "
        f"queued {released.notices} notification(s)"
    )


@audit_group.command("head")
def audit_head() -> None:
    """Print the newest event as one line, SEQ HASH, to write down outside."""
    with get_database().read_session() as session:
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
    with get_database().read_session() as session:
        if expected is None:
            checked, broken = audit.verify_chain(session)
            problem = None if broken is None else f"broken at event {broken.seq}: {broken.reason}"
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
