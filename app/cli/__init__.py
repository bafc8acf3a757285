"""``flask --app wsgi:review_app …``: the operator's commands, registered by :func:`init_cli`.

One module per concern, each a set of module-level click commands or groups:

- :mod:`~app.cli.install`: ``init``, ``db upgrade | downgrade | current``;
- :mod:`~app.cli.units`: ``units list | add``;
- :mod:`~app.cli.accounts`: ``setup-link``, ``reviewers …``, ``access …``;
- :mod:`~app.cli.grants`: ``grants list | fulfil``;
- :mod:`~app.cli.identity`: ``custodians list | remove``, ``identity stale | reseal``;
- :mod:`~app.cli.audit`: ``audit release | head | verify``;
- :mod:`~app.cli.retention`: ``purge``, ``legal-hold``;
- :mod:`~app.cli.export`: ``export``;
- :mod:`~app.cli.backup`: ``backup``, ``restore``;
- :mod:`~app.cli.notify`: ``notify send | overdue | audit-head | retry``;
- :mod:`~app.cli.deadlines`: ``deadlines`` (the statutory dates, for checking by hand);
- :mod:`~app.cli.report`: ``report`` (a quarter's figures for the periodic report).

Commands run inside the review app's context (``flask.cli.with_appcontext``, which
every ``AppGroup`` command has too) and reach what the app was built with through the
same accessors as the views: ``app.web.context.settings()`` and ``blob_store()``, and
``app.web.db.get_database()``. Who ran them is ``app.actors.operator_actor()``. They
print plain text for a terminal; a refusal prints ``error: …`` on stderr and exits with
status 1 (:func:`app.cli.errors.fail`).
"""

from __future__ import annotations

import click
from flask import Flask

from app.cli.accounts import access_group, reviewers_group, setup_link
from app.cli.audit import audit_group
from app.cli.backup import backup_command, restore_command
from app.cli.deadlines import deadlines_command
from app.cli.export import export_command
from app.cli.grants import grants_group
from app.cli.identity import custodians_group, identity_group
from app.cli.install import db_group, init_command
from app.cli.notify import notify_group
from app.cli.report import report_command
from app.cli.retention import legal_hold_command, purge_command
from app.cli.units import units_group

COMMANDS: tuple[click.Command, ...] = (
    init_command,
    db_group,
    units_group,
    setup_link,
    reviewers_group,
    access_group,
    grants_group,
    custodians_group,
    identity_group,
    audit_group,
    purge_command,
    legal_hold_command,
    export_command,
    backup_command,
    restore_command,
    notify_group,
    deadlines_command,
    report_command,
)


def init_cli(app: Flask) -> None:
    """Register every operator command on ``app`` (the review app)."""
    for command in COMMANDS:
        app.cli.add_command(command)
