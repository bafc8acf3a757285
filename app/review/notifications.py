"""Admin page for e-mail notifications: what failed or waits, and reviewers' addresses.

Routes register on the review blueprint (imported from app/review/__init__.py). The
rules live in app.notifications; these views parse forms, call it, commit, render.
Nothing here sends e-mail: ``flask … notify send`` does, from cron.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.models import Reviewer
from app.models.notifications import NotificationKind
from app.models.vocabulary import Role
from app.notifications import addresses, outbox
from app.review import blueprint
from app.review.auth import current_reviewer, role_required
from app.web.context import settings
from app.web.db import db_session

LIST_LIMIT = 200

KIND_LABELS = {
    NotificationKind.NEW_CASE.value: _l("New case"),
    NotificationKind.REPORTER_MESSAGE.value: _l("Reporter message"),
    NotificationKind.OVERDUE.value: _l("Overdue deadline"),
}


def _page(status: int = 200, error: str | None = None) -> ResponseReturnValue:
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
    return _page()


@blueprint.post("/admin/notifications/retry")
@role_required(Role.ADMIN.value)
def admin_notifications_retry() -> ResponseReturnValue:
    db = db_session()
    count = outbox.retry_failed(db)
    db.commit()
    flash(_("%(count)s notification(s) will be tried again.", count=count), "info")
    return redirect(url_for("review.admin_notifications"), code=303)


@blueprint.post("/admin/reviewers/<int:reviewer_id>/email")
@role_required(Role.ADMIN.value)
def admin_set_email(reviewer_id: int) -> ResponseReturnValue:
    db = db_session()
    target = db.get(Reviewer, reviewer_id)
    if target is None:
        abort(404)
    admin = current_reviewer()
    assert admin is not None
    try:
        address = addresses.set_email(
            db, target, request.form.get("email", ""), actor=f"reviewer:{admin.id}"
        )
    except addresses.InvalidEmailError:
        db.rollback()
        return _page(400, error=_("That is not a valid e-mail address."))
    db.commit()
    if address is None:
        flash(_("%(name)s will get no e-mail notifications.", name=target.username), "info")
    else:
        flash(_("The e-mail address of %(name)s was saved.", name=target.username), "info")
    return redirect(url_for("review.admin_notifications"), code=303)
