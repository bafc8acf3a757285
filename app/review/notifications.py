"""Admin page for e-mail notifications: what failed or waits, and reviewers' addresses
(which are set from app.review.admin_reviewers).

Routes register on the review blueprint (imported from app/review/__init__.py). The
rules live in app.notifications; these views parse forms, call it, commit, render.
Nothing here sends e-mail: ``flask … notify send`` does, from cron.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.cases import unit_of_work
from app.models import Reviewer
from app.models.notifications import NotificationKind
from app.models.vocabulary import Role
from app.notifications import outbox
from app.review import blueprint
from app.review.auth import role_required
from app.web.context import settings
from app.web.db import db_session

LIST_LIMIT = 200

KIND_LABELS = {
    NotificationKind.NEW_CASE.value: _l("New case"),
    NotificationKind.REPORTER_MESSAGE.value: _l("Reporter message"),
    NotificationKind.OVERDUE.value: _l("Overdue deadline"),
    NotificationKind.UNSEAL_REQUEST.value: _l("Identity unsealing request"),
}


def notifications_page(status: int = 200, error: str | None = None) -> ResponseReturnValue:
    db = db_session()
    return render_template(
        "review/admin_notifications.html",
        enabled=settings().smtp is not None,
        entries=outbox.failed_notifications(db, LIST_LIMIT),
        limit=LIST_LIMIT,
        max_attempts=outbox.MAX_ATTEMPTS,
        kinds=KIND_LABELS,
        reviewers=db.scalars(
            select(Reviewer).where(Reviewer.active.is_(True)).order_by(Reviewer.username)
        ).all(),
        error=error,
    ), status


@blueprint.get("/admin/notifications")
@role_required(Role.ADMIN.value)
def admin_notifications() -> ResponseReturnValue:
    return notifications_page()


@blueprint.post("/admin/notifications/retry")
@role_required(Role.ADMIN.value)
def admin_notifications_retry() -> ResponseReturnValue:
    db = db_session()
    count = outbox.retry_failed(db)
    unit_of_work.commit(db)
    flash(_("%(count)s notification(s) will be tried again.", count=count), "info")
    return redirect(url_for("review.admin_notifications"), code=303)
