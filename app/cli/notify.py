"""``notify …``: send the outbox, queue overdue notices and the audit head.

Meant for cron (or a systemd timer), outside any request::

    * * * * *  flask --app wsgi:review_app notify send
    15 6 * * * flask --app wsgi:review_app notify overdue
    0 7 * * *  flask --app wsgi:review_app notify audit-head

``send`` first releases what the reporters' finished days held back
(app.cases.day_release), so notices of new cases and reporter messages go out the day
after, together.

``send`` exits with status 1 when a send failed (cron mails its output, a systemd
unit shows as failed), so a broken mail relay is not silent; the details are on
/admin/notifications and in the ``liemchinh.notifications`` log.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app import clock
from app.actors import operator_actor
from app.cases import unit_of_work
from app.cases.day_release import release_finished_days
from app.cli.errors import fail
from app.notifications import mailer, outbox
from app.web.context import settings
from app.web.db import get_database

OFF = "notifications are off (LIEMCHINH_SMTP_HOST is not set): nothing to do"

notify_group = AppGroup("notify", help="E-mail notifications to reviewers.")


@notify_group.command("send")
def send_command() -> None:
    """Send the notifications that are due (run every minute)."""
    current = settings()
    if current.smtp is None:
        click.echo(OFF)
        return
    # Notices of the reporters' finished days are queued first (app.cases.day_release).
    with unit_of_work.transaction(get_database().sessionmaker) as session:
        release_finished_days(session, notify=True)
    with get_database().sessionmaker() as session:
        report = mailer.send_pending(session, current.smtp, current.review_url)
    click.echo(
        f"sent {report.sent}, failed {report.failed}, dropped {report.dropped}, "
        f"pruned {report.pruned}"
    )
    if report.failed:
        fail(f"{report.failed} notification(s) could not be sent; see /admin/notifications")


@notify_group.command("overdue")
def overdue_command() -> None:
    """Queue a notice for every newly overdue deadline (run daily)."""
    if settings().smtp is None:
        click.echo(OFF)
        return
    with unit_of_work.transaction(get_database().sessionmaker) as session:
        count = outbox.queue_overdue(session, clock.today())
    click.echo(f"queued {count} overdue notice(s)")


@notify_group.command("audit-head")
def audit_head_command() -> None:
    """Queue today's audit head for the oversight unit's members (run daily; a second
    run the same day queues nothing). ``notify send`` delivers it."""
    if settings().smtp is None:
        click.echo(OFF)
        return
    with unit_of_work.transaction(get_database().sessionmaker) as session:
        published = outbox.publish_audit_head(session, actor=operator_actor())
    click.echo(
        f"audit head {published.head.line()} queued for {published.queued} oversight member(s)"
    )
    if not published.readers:
        click.echo("warning: no active member of an oversight unit has an e-mail address", err=True)


@notify_group.command("retry")
def retry_command() -> None:
    """Try again the notifications that were given up after too many failures."""
    with unit_of_work.transaction(get_database().sessionmaker) as session:
        count = outbox.retry_failed(session)
    click.echo(f"{count} notification(s) will be tried again")
