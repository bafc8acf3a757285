"""``purge`` and ``legal-hold``: the retention rule (app.cases.retention) from cron.

docs/operations.md says when to run ``purge`` (daily, never at the same time as a
backup).
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from app import clock
from app.actors import operator_actor
from app.cases import retention, unit_of_work
from app.cases.day_release import release_finished_days
from app.cases.references import UnknownCaseError, find_case
from app.cli.errors import fail
from app.web.context import blob_store, settings
from app.web.db import get_database


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="List what would be purged; change nothing.")
@with_appcontext
def purge_command(dry_run: bool) -> None:
    """Purge closed cases past their retention day (unless on legal hold), then sweep
    expired tickets, challenges, sessions, rate-limit counters and orphaned files."""
    database = get_database()
    today = clock.today()
    if not dry_run:
        # Chained before any purge tombstone, so the chain stays in day order.
        with unit_of_work.transaction(database.sessionmaker) as session:
            release_finished_days(session, notify=settings().smtp is not None, today=today)
    with database.sessionmaker() as session:
        plan = retention.purge_plan(session, today)
        unit_of_work.rollback(session)
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
                    session, blob_store(), item.case_id, actor=operator_actor(), today=today
                )
                unit_of_work.commit(session)  # the rows, then the files
            except retention.RetentionError as exc:
                # Put on hold or reopened since the plan was made: skipped, not failed.
                click.echo(f"skipped {item.reference}: {exc}")
                continue
            except SQLAlchemyError as exc:
                # One case failing (a lock timeout) must not stop the others.
                unit_of_work.rollback(session)
                failures.append(f"{item.reference}: {exc}")
                continue
            purged += 1
            left += result.files_left
        counts = retention.sweep(session, blob_store())
        unit_of_work.commit(session)
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
        fail("could not purge " + "; ".join(failures))


@click.command("legal-hold")
@click.argument("reference")
@click.option("--on/--off", "on", required=True, help="Set or release the hold.")
@with_appcontext
def legal_hold_command(reference: str, on: bool) -> None:
    """Set or release the legal hold of a case: a held case is never purged."""
    with unit_of_work.transaction(get_database().sessionmaker) as session:
        try:
            case = find_case(session, reference)
        except UnknownCaseError as exc:
            fail(str(exc))
        changed = retention.set_legal_hold_by_operator(
            session, case, on, actor_label=operator_actor()
        )
        state = "on" if on else "off"
        click.echo(f"{case.reference}: legal hold {state}" + ("" if changed else " (unchanged)"))
        if not on and case.purge_after is not None and case.status == "closed":
            click.echo(f"{case.reference}: will be purged on or after {case.purge_after}")
