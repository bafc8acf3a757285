"""Admin page for identity custodians (app.cases.custodians): who holds each unit's
sealed identities; ask for a new one (a two-person access change, approved on the
Access requests page or with ``flask access approve``); take one away at once."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.accounts import approvals
from app.accounts.errors import AccountError
from app.accounts.reviewers import reviewer_named
from app.cases import custodians, unit_of_work
from app.installation import list_units
from app.models import Reviewer, Unit
from app.models.vocabulary import Role
from app.review import blueprint
from app.review.approvals import approval_error, decider, notify, requested_message
from app.review.auth import role_required
from app.web.db import db_session


def _page(status: int = 200, error: str | None = None) -> ResponseReturnValue:
    db = db_session()
    return (
        render_template(
            "review/admin_custodians.html",
            designated=custodians.designated(db),
            units=list_units(db, active_only=True),
            error=error,
        ),
        status,
    )


@blueprint.get("/admin/custodians")
@role_required(Role.ADMIN.value)
def admin_custodians() -> ResponseReturnValue:
    return _page()


@blueprint.post("/admin/custodians/request")
@role_required(Role.ADMIN.value)
def admin_custodians_request() -> ResponseReturnValue:
    db = db_session()
    target = reviewer_named(db, request.form.get("username", ""))
    if target is None:
        return _page(400, _("No such account."))
    try:
        row = approvals.request_custodian(
            db,
            decider(),
            target,
            request.form.get("unit", ""),
            request.form.get("reason", ""),
            notify=notify(),
        )
    except AccountError as exc:
        unit_of_work.rollback(db)
        return _page(400, approval_error(exc))
    unit_of_work.commit(db)
    flash(requested_message(row.id), "info")
    return redirect(url_for("review.admin_custodians"), code=303)


@blueprint.post("/admin/custodians/<int:unit_id>/<int:reviewer_id>/remove")
@role_required(Role.ADMIN.value)
def admin_custodians_remove(unit_id: int, reviewer_id: int) -> ResponseReturnValue:
    db = db_session()
    reviewer, unit = db.get(Reviewer, reviewer_id), db.get(Unit, unit_id)
    if reviewer is None or unit is None:
        return _page(404, _("No such custodian."))
    custodians.remove(db, reviewer, unit, actor=decider().label)
    unit_of_work.commit(db)
    flash(_("Removed. The unit's seals still open for them until they are resealed."), "info")
    return redirect(url_for("review.admin_custodians"), code=303)
