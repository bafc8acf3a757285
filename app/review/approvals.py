"""Admin pages for access-change requests: list, approve, refuse, ask for a new recovery key.

The rule (who may approve what, what approving does) lives in app.accounts.approvals;
these views parse forms, call it, commit, render. Approving a reset shows the new
secret once, to the approver, who hands it over in person.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.accounts import approvals, totp
from app.accounts.errors import ACCOUNT_REFUSALS, AccountError
from app.cases import unit_of_work
from app.installation import UnknownUnitError
from app.models import AccessChangeRequest, Reviewer, Unit
from app.models.vocabulary import AccessChangeKind, Role
from app.review import blueprint
from app.review.auth import current_reviewer, password_kdf, role_required, totp_key
from app.web.context import settings
from app.web.db import db_session, get_database

KIND_LABELS = {
    AccessChangeKind.MEMBERSHIP.value: _l("Join a unit"),
    AccessChangeKind.ROLE.value: _l("Higher role"),
    AccessChangeKind.PASSWORD_RESET.value: _l("Password reset (new key)"),
    AccessChangeKind.TOTP_RESET.value: _l("Authenticator reset"),
    AccessChangeKind.RECOVERY_KEY.value: _l("New recovery key"),
    AccessChangeKind.CUSTODIAN.value: _l("Identity custodian of a unit"),
}
STATUS_LABELS = {
    "pending": _l("waiting for approval"),
    "approved": _l("approved"),
    "refused": _l("refused"),
    "expired": _l("expired"),
}
ERRORS = {
    "reason_required": _l("Give a reason: the second administrator decides on it."),
    "own_request": _l("You asked for this change: another administrator must approve it."),
    "own_change": _l("This change is about you: another administrator must approve it."),
    "not_admin": _l("Only an active administrator can do this."),
    "not_pending": _l("This request is no longer waiting (approved, refused or expired)."),
    "already_pending": _l("The same change is already waiting for approval."),
    "no_change": _l("Nothing to change: it is already so."),
    "target_inactive": _l("The account is deactivated."),
    "invalid_recipient": _l("That is not an age public key (age1…)."),
    "last_admin": _l("This would leave the installation without an active administrator."),
    "unknown_unit": _l("Unknown unit."),
}


@blueprint.app_context_processor
def _access_labels() -> dict[str, Any]:
    return {"access_kind_labels": KIND_LABELS}


def access_notices() -> list[approvals.AccessNotice]:
    """For the inbox and the dashboard: access changes in the reader's units."""
    reviewer = current_reviewer()
    return [] if reviewer is None else approvals.notices_for(db_session(), reviewer.id)


def approval_error(exc: AccountError | UnknownUnitError) -> str:
    return str(ERRORS.get(exc.code, _l("Not a valid choice.")))


def decider() -> approvals.Decider:
    reviewer = current_reviewer()
    assert reviewer is not None  # role_required ran
    return approvals.Decider.admin(reviewer)


def notify() -> bool:
    return settings().smtp is not None


def _names(rows: list[AccessChangeRequest]) -> dict[str, dict[int, Any]]:
    db = db_session()
    people = {r.target_id for r in rows} | {r.requested_by_id for r in rows}
    people |= {r.decided_by_id for r in rows}
    units = {r.unit_id for r in rows}
    return {
        "reviewers": {p.id: p for p in db.scalars(select(Reviewer).where(Reviewer.id.in_(people)))},
        "units": {u.id: u for u in db.scalars(select(Unit).where(Unit.id.in_(units)))},
    }


def _page(status: int = 200, **result: Any) -> ResponseReturnValue:
    # Expiry is written as it is noticed: in a short transaction of its own.
    with unit_of_work.transaction(get_database().sessionmaker) as db:
        approvals.expire_stale(db)
    db = db_session()
    pending = approvals.pending_requests(db)
    decided = approvals.decided_requests(db)
    me = current_reviewer()
    assert me is not None
    return render_template(
        "review/admin_access.html",
        pending=pending,
        decided=decided,
        names=_names([*pending, *decided]),
        kinds=KIND_LABELS,
        statuses=STATUS_LABELS,
        me=me,
        possible=approvals.approvals_possible_here(db),
        invitation_reason=approvals.INVITATION_REASON,
        **result,
    ), status


@blueprint.get("/admin/access")
@role_required(Role.ADMIN.value)
def admin_access() -> ResponseReturnValue:
    return _page()


@blueprint.post("/admin/access/<int:request_id>/approve")
@role_required(Role.ADMIN.value)
def admin_access_approve(request_id: int) -> ResponseReturnValue:
    db = db_session()
    try:
        outcome = approvals.approve(
            db,
            request_id,
            decider(),
            password_kdf=password_kdf(),
            totp_key=totp_key(),
            notify=notify(),
        )
    except ACCOUNT_REFUSALS as exc:
        unit_of_work.rollback(db)
        return _page(400, error=approval_error(exc))
    target = db.get(Reviewer, outcome.request.target_id) if outcome.request.target_id else None
    name = target.username if target else None
    unit_of_work.commit(db)
    result: dict[str, Any] = {"approved": outcome.request.id}
    if outcome.temporary_password is not None:
        result.update(reset_for=name, temporary_password=outcome.temporary_password)
    if outcome.totp_secret is not None and name is not None:
        uri = totp.provisioning_uri(name, outcome.totp_secret)
        result.update(
            totp_for=name, totp_secret=outcome.totp_secret, otpauth_uri=uri, qr_svg=totp.qr_svg(uri)
        )
    if len(result) == 1:
        flash(_("Request %(id)s approved and carried out.", id=outcome.request.id), "success")
        return redirect(url_for("review.admin_access"), code=303)
    return _page(**result)


@blueprint.post("/admin/access/<int:request_id>/refuse")
@role_required(Role.ADMIN.value)
def admin_access_refuse(request_id: int) -> ResponseReturnValue:
    db = db_session()
    try:
        approvals.refuse(db, request_id, decider())
    except ACCOUNT_REFUSALS as exc:
        unit_of_work.rollback(db)
        return _page(400, error=approval_error(exc))
    unit_of_work.commit(db)
    flash(_("Request %(id)s refused: nothing was changed.", id=request_id), "info")
    return redirect(url_for("review.admin_access"), code=303)


@blueprint.post("/admin/access/recovery")
@role_required(Role.ADMIN.value)
def admin_access_recovery() -> ResponseReturnValue:
    db = db_session()
    try:
        row = approvals.request_recovery_key(
            db,
            decider(),
            request.form.get("recipient", ""),
            request.form.get("reason", ""),
            notify=notify(),
        )
    except ACCOUNT_REFUSALS as exc:
        unit_of_work.rollback(db)
        return _page(400, error=approval_error(exc))
    unit_of_work.commit(db)
    flash(requested_message(row.id), "info")
    return redirect(url_for("review.admin_access"), code=303)


def requested_message(request_id: int) -> str:
    return str(
        _(
            "Request %(id)s is waiting for a second administrator's approval. Nothing changes "
            "before that.",
            id=request_id,
        )
    )
