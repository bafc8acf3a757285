"""Administration of reviewer accounts (``/admin/reviewers``): invite, deactivate, ask
for a reset, a role or units, and set a reviewer's e-mail address.

Changes that give someone keys to cases wait for a second admin's approval
(app.accounts.approvals, app.review.approvals); these views parse forms, call the rule,
commit, render.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.accounts import approvals, invitations, reviewers
from app.accounts.errors import ACCOUNT_REFUSALS, AccountError
from app.actors import reviewer_actor
from app.cases import unit_of_work
from app.installation import UnknownUnitError, list_units
from app.models import Reviewer
from app.models.vocabulary import AccessChangeKind, Role
from app.notifications import addresses
from app.review import blueprint
from app.review.approvals import approval_error, decider, notify, requested_message
from app.review.auth import current_reviewer, ends_transaction, role_required
from app.review.notifications import notifications_page
from app.web.context import settings
from app.web.db import db_session

ADMIN = Role.ADMIN.value
ROLE_LABELS = {
    Role.ADMIN.value: _l("Administrator"),
    Role.REVIEWER.value: _l("Reviewer"),
    Role.OBSERVER.value: _l("Observer"),
}


def _admin_page(status: int = 200, **result: Any) -> ResponseReturnValue:
    db = db_session()
    units = list_units(db, active_only=True)
    return render_template(
        "review/admin_reviewers.html",
        reviewers=reviewers.list_reviewers(db),
        units=units,
        roles=ROLE_LABELS,
        is_locked=reviewers.is_locked,
        unit_slugs_of=reviewers.unit_slugs_of,
        **result,
    ), status


def _target(reviewer_id: int) -> Reviewer:
    reviewer = reviewers.get_reviewer(db_session(), reviewer_id)
    if reviewer is None:
        abort(404)
    return reviewer


def _actor() -> str:
    reviewer = current_reviewer()
    assert reviewer is not None
    return reviewers.actor_of(reviewer)


def _refused(exc: AccountError | UnknownUnitError) -> ResponseReturnValue:
    unit_of_work.rollback(db_session())
    return _admin_page(400, error=approval_error(exc))


def _requested(request_ids: list[int]) -> ResponseReturnValue:
    for request_id in request_ids:
        flash(requested_message(request_id), "info")
    target = "review.admin_access" if request_ids else "review.admin_reviewers"
    return redirect(url_for(target))


@blueprint.get("/admin/reviewers")
@ends_transaction
@role_required(ADMIN)
def admin_reviewers() -> ResponseReturnValue:
    return _admin_page()


@blueprint.post("/admin/reviewers/invite")
@ends_transaction
@role_required(ADMIN)
def admin_invite() -> ResponseReturnValue:
    creator = current_reviewer()
    assert creator is not None
    db = db_session()
    try:
        token = invitations.create_invitation(
            db,
            unit_slug=request.form.get("unit", ""),
            role=request.form.get("role", ""),
            created_by=creator,
        )
    except ACCOUNT_REFUSALS as exc:
        return _refused(exc)
    unit_of_work.commit(db)
    link = f"{settings().review_url}/invite/{token}"
    return _admin_page(
        invite_link=link, invite_hours=int(invitations.INVITE_TTL.total_seconds() // 3600)
    )


@blueprint.post("/admin/reviewers/<int:reviewer_id>/deactivate")
@ends_transaction
@role_required(ADMIN)
def admin_deactivate(reviewer_id: int) -> ResponseReturnValue:
    db = db_session()
    target = _target(reviewer_id)
    try:
        reviewers.deactivate(db, target, actor=_actor())
    except ACCOUNT_REFUSALS as exc:
        return _refused(exc)
    unit_of_work.commit(db)
    flash(_("%(name)s was deactivated and logged out.", name=target.username), "info")
    return redirect(url_for("review.admin_reviewers"))


def _request_reset(reviewer_id: int, kind: AccessChangeKind) -> ResponseReturnValue:
    db = db_session()
    target = _target(reviewer_id)
    try:
        row = approvals.request_reset(
            db, decider(), target, kind, request.form.get("reason", ""), notify=notify()
        )
    except ACCOUNT_REFUSALS as exc:
        return _refused(exc)
    unit_of_work.commit(db)
    return _requested([row.id])


@blueprint.post("/admin/reviewers/<int:reviewer_id>/reset-password")
@ends_transaction
@role_required(ADMIN)
def admin_reset_password(reviewer_id: int) -> ResponseReturnValue:
    """Asks for a reset; a second admin's approval carries it out (and sees the password)."""
    return _request_reset(reviewer_id, AccessChangeKind.PASSWORD_RESET)


@blueprint.post("/admin/reviewers/<int:reviewer_id>/reset-totp")
@ends_transaction
@role_required(ADMIN)
def admin_reset_totp(reviewer_id: int) -> ResponseReturnValue:
    return _request_reset(reviewer_id, AccessChangeKind.TOTP_RESET)


@blueprint.post("/admin/reviewers/<int:reviewer_id>/role")
@ends_transaction
@role_required(ADMIN)
def admin_set_role(reviewer_id: int) -> ResponseReturnValue:
    db = db_session()
    target = _target(reviewer_id)
    try:
        row = approvals.request_role(
            db,
            decider(),
            target,
            request.form.get("role", ""),
            request.form.get("reason", ""),
            notify=notify(),
        )
    except ACCOUNT_REFUSALS as exc:
        return _refused(exc)
    unit_of_work.commit(db)
    if row is not None:
        return _requested([row.id])
    flash(_("The role of %(name)s was saved.", name=target.username), "info")
    return redirect(url_for("review.admin_reviewers"))


@blueprint.post("/admin/reviewers/<int:reviewer_id>/units")
@ends_transaction
@role_required(ADMIN)
def admin_set_units(reviewer_id: int) -> ResponseReturnValue:
    db = db_session()
    target = _target(reviewer_id)
    try:
        change = approvals.request_memberships(
            db,
            decider(),
            target,
            request.form.getlist("units"),
            request.form.get("reason", ""),
            notify=notify(),
        )
    except ACCOUNT_REFUSALS as exc:
        return _refused(exc)
    unit_of_work.commit(db)
    if change.removed:
        flash(
            _(
                "%(name)s left: %(units)s.",
                name=target.username,
                units=", ".join(change.removed),
            ),
            "info",
        )
    if not change.removed and not change.requested:
        flash(_("The units of %(name)s were saved.", name=target.username), "info")
    return _requested([row.id for row in change.requested])


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
            db, target, request.form.get("email", ""), actor=reviewer_actor(admin.id)
        )
    except addresses.InvalidEmailError:
        unit_of_work.rollback(db)
        return notifications_page(400, error=_("That is not a valid e-mail address."))
    unit_of_work.commit(db)
    if address is None:
        flash(_("%(name)s will get no e-mail notifications.", name=target.username), "info")
    else:
        flash(_("The e-mail address of %(name)s was saved.", name=target.username), "info")
    return redirect(url_for("review.admin_notifications"), code=303)
