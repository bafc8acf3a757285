"""Account views of the review app: enrolment, login, logout, password, admin pages.

Routes register on the review blueprint (imported at the end of app/review/__init__.py).
The rules live in app.accounts; these views parse forms, call it, commit, render.

Every view ends its database transaction before returning (commit, or the rollback
in :func:`_ends_transaction`): the session cookie is saved before the request's
database session is torn down, and on SQLite an open write transaction would make
that save wait for the lock it holds itself.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.accounts import approvals, invitations, reviewers, totp
from app.accounts.errors import (
    AccountError,
    CurrentPasswordError,
    InvalidInvitationError,
    InvalidTotpError,
    InvalidUsernameError,
    LoginFailedError,
    UnknownUnitError,
    UsernameTakenError,
    WeakPasswordError,
)
from app.accounts.reviewers import Credentials
from app.installation import list_units
from app.models import Invitation, Reviewer, Unit, utcnow
from app.models.vocabulary import AccessChangeKind, InvitationKind, Role
from app.review import blueprint
from app.review.approvals import approval_error, decider, notify, requested_message
from app.review.auth import (
    SESSION_IDENTITY,
    SESSION_LOGIN_AT,
    SESSION_REVIEWER,
    current_reviewer,
    login_required,
    password_kdf,
    role_required,
    template_globals,
    totp_key,
)
from app.web.context import settings
from app.web.db import db_session
from app.web.redirects import local_redirect_target

P = ParamSpec("P")
R = TypeVar("R")

PENDING_LOGIN = "login_pending"
PENDING_ENROL = "enrol_pending"
PENDING_TTL = timedelta(minutes=5)
ENROL_TTL = timedelta(minutes=15)

LOGIN_FAILED = _l("Wrong username or password, or the account is locked for a while.")
WRONG_CODE = _l("That code is not valid. Wait for the next code and try again.")
WEAK_PASSWORD = {
    "too_short": _l("The password must be at least 12 characters long."),
    "too_long": _l("The password is too long (at most 1024 characters)."),
    "common": _l("This password is too common. Choose a longer, less predictable one."),
    "same_as_username": _l("The password must not be the username."),
}


def _ends_transaction(view: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return view(*args, **kwargs)
        finally:
            db = g.get("db_session")
            if db is not None:
                db.rollback()

    return wrapper


@blueprint.app_context_processor
def _account_globals() -> dict[str, Any]:
    return template_globals()


def _safe_next(target: str | None) -> str | None:
    # Only a path on this site, as the browser will read it (open redirect).
    return local_redirect_target(target)


def _home() -> ResponseReturnValue:
    return redirect(url_for("review.home"))


def _weak_message(exc: WeakPasswordError) -> str:
    return str(WEAK_PASSWORD.get(exc.code, WEAK_PASSWORD["common"]))


# --- login -----------------------------------------------------------------------------


def _pending_login() -> dict[str, Any] | None:
    pending = session.get(PENDING_LOGIN)
    if not isinstance(pending, dict) or pending.get("expires", 0) < utcnow().timestamp():
        return None
    return pending


def _render_login(username: str, error: str | None, next_url: str | None) -> ResponseReturnValue:
    status = 400 if error else 200
    return render_template(
        "review/login.html", username=username, error=error, next_url=next_url
    ), status


@blueprint.route("/login", methods=["GET", "POST"])
@_ends_transaction
def login() -> ResponseReturnValue:
    if current_reviewer() is not None:
        return _home()
    if request.method == "GET":
        return _render_login("", None, _safe_next(request.args.get("next")))
    username = request.form.get("username", "")[:200]
    password = request.form.get("password", "")
    next_url = _safe_next(request.form.get("next"))
    db = db_session()
    try:
        verified = reviewers.authenticate_password(
            db, username=username, password=password, password_kdf=password_kdf()
        )
    except LoginFailedError:
        db.commit()  # the failure counter and the audit event
        return _render_login(username, str(LOGIN_FAILED), next_url)
    db.commit()  # a rehash or rewrap with new parameters, if any
    session.pop(PENDING_LOGIN, None)
    session[PENDING_LOGIN] = {
        "reviewer_id": verified.reviewer_id,
        "identity": str(verified.identity),
        "expires": (utcnow() + PENDING_TTL).timestamp(),
        "next": next_url,
    }
    session.rotate()  # type: ignore[attr-defined]
    return redirect(url_for("review.login_totp"))


@blueprint.route("/login/totp", methods=["GET", "POST"])
@_ends_transaction
def login_totp() -> ResponseReturnValue:
    pending = _pending_login()
    if pending is None:
        session.pop(PENDING_LOGIN, None)
        return redirect(url_for("review.login"))
    if request.method == "GET":
        return render_template("review/login_totp.html", error=None)
    db = db_session()
    try:
        reviewer = reviewers.authenticate_totp(
            db,
            reviewer_id=int(pending["reviewer_id"]),
            code=request.form.get("totp", ""),
            totp_key=totp_key(),
        )
    except LoginFailedError:
        db.commit()
        locked = db.get(Reviewer, int(pending["reviewer_id"]))
        if locked is None or reviewers.is_locked(locked) or not locked.active:
            session.pop(PENDING_LOGIN, None)
            return _render_login("", str(LOGIN_FAILED), None)
        return render_template("review/login_totp.html", error=str(WRONG_CODE)), 400
    db.commit()
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    session[SESSION_REVIEWER] = reviewer.id
    session[SESSION_IDENTITY] = pending["identity"]
    session[SESSION_LOGIN_AT] = utcnow().isoformat()
    session.rotate()  # type: ignore[attr-defined]
    return redirect(_safe_next(pending.get("next")) or url_for("review.home"))


@blueprint.post("/logout")
@_ends_transaction
def logout() -> ResponseReturnValue:
    reviewer = current_reviewer()
    if reviewer is not None:
        db = db_session()
        reviewers.record_logout(db, reviewer)
        db.commit()
    session.destroy()  # type: ignore[attr-defined]
    return redirect(url_for("review.login"))


@blueprint.route("/account/password", methods=["GET", "POST"])
@_ends_transaction
@login_required
def account_password() -> ResponseReturnValue:
    reviewer = current_reviewer()
    assert reviewer is not None
    if request.method == "GET":
        return render_template("review/account_password.html", error=None)
    new = request.form.get("new_password", "")
    error: str | None = None
    if new != request.form.get("new_password_confirm", ""):
        error = _("The two new passwords differ.")
    else:
        db = db_session()
        try:
            reviewers.change_password(
                db,
                reviewer,
                current_password=request.form.get("current_password", ""),
                new_password=new,
                password_kdf=password_kdf(),
            )
        except CurrentPasswordError:
            error = _("The current password is wrong.")
        except WeakPasswordError as exc:
            error = _weak_message(exc)
        else:
            # Other sessions of this reviewer end; this one continues under a new id.
            reviewers.end_sessions(db, reviewer.id)
            db.commit()
            session.rotate()  # type: ignore[attr-defined]
            flash(_("Your password was changed. Your other sessions were logged out."), "info")
            return redirect(url_for("review.account_password"))
    return render_template("review/account_password.html", error=error), 400


# --- enrolment (setup link, invitation) ------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _pending_enrol(token: str) -> dict[str, Any] | None:
    pending = session.get(PENDING_ENROL)
    if (
        not isinstance(pending, dict)
        or pending.get("token") != _digest(token)
        or pending.get("expires", 0) < utcnow().timestamp()
    ):
        return None
    return pending


def _invitation_unit(invitation: Invitation) -> Unit | None:
    return db_session().get(Unit, invitation.unit_id) if invitation.unit_id else None


def _render_enrol(
    token: str,
    invitation: Invitation,
    *,
    kind: str,
    error: str | None = None,
    username: str = "",
    status: int = 200,
) -> ResponseReturnValue:
    pending = _pending_enrol(token)
    context: dict[str, Any] = {
        "kind": kind,
        "token": token,
        "error": error,
        "username": username,
        "role": invitation.role,
        "unit": _invitation_unit(invitation),
        "pending": pending is not None,
        "action": url_for(f"review.{kind}", token=token),
    }
    if pending is not None:
        uri = totp.provisioning_uri(pending["username"], pending["totp_secret"])
        context.update(
            username=pending["username"],
            qr_svg=totp.qr_svg(uri),
            totp_secret=pending["totp_secret"],
            otpauth_uri=uri,
        )
    return render_template("review/enrol.html", **context), status


def _enrol(token: str, kind: InvitationKind) -> ResponseReturnValue:
    db = db_session()
    try:
        invitation = invitations.peek(db, token)
        if invitation.kind != kind.value:
            raise InvalidInvitationError("wrong kind of link")
    except InvalidInvitationError:
        session.pop(PENDING_ENROL, None)
        return render_template("review/enrol.html", invalid=True, kind=kind.value), 404
    if request.method == "GET":
        return _render_enrol(token, invitation, kind=kind.value)
    if request.form.get("restart"):
        session.pop(PENDING_ENROL, None)
        return redirect(url_for(f"review.{kind.value}", token=token))
    pending = _pending_enrol(token)
    if pending is not None and "totp" in request.form:
        return _confirm_enrolment(token, kind, pending)
    return _start_enrolment(token, invitation, kind)


def _start_enrolment(
    token: str, invitation: Invitation, kind: InvitationKind
) -> ResponseReturnValue:
    username = request.form.get("username", "")[:200]
    password = request.form.get("password", "")

    def again(error: str) -> ResponseReturnValue:
        return _render_enrol(
            token, invitation, kind=kind.value, error=error, username=username, status=400
        )

    if password != request.form.get("password_confirm", ""):
        return again(_("The two passwords differ."))
    try:
        name = reviewers.validate_username(username)
        if reviewers.username_taken(db_session(), name):
            raise UsernameTakenError(name)
        credentials = reviewers.prepare_credentials(
            username=name, password=password, password_kdf=password_kdf()
        )
    except InvalidUsernameError:
        return again(_("Use 3 to 64 characters: letters a-z, digits, dot, dash or underscore."))
    except UsernameTakenError:
        return again(_("This username is taken."))
    except WeakPasswordError as exc:
        return again(_weak_message(exc))
    session[PENDING_ENROL] = {
        "token": _digest(token),
        "expires": (utcnow() + ENROL_TTL).timestamp(),
        "username": credentials.username,
        "password_hash": credentials.password_hash,
        "public_key": credentials.public_key,
        "wrapped_private_key": credentials.wrapped_private_key,
        "totp_secret": totp.new_secret(),
    }
    return redirect(url_for(f"review.{kind.value}", token=token))


def _confirm_enrolment(
    token: str, kind: InvitationKind, pending: dict[str, Any]
) -> ResponseReturnValue:
    db = db_session()
    invitation = invitations.peek(db, token)
    try:
        step = totp.verify_code(pending["totp_secret"], request.form.get("totp", ""))
    except InvalidTotpError:
        return _render_enrol(token, invitation, kind=kind.value, error=str(WRONG_CODE), status=400)
    credentials = Credentials(
        username=pending["username"],
        password_hash=pending["password_hash"],
        public_key=pending["public_key"],
        wrapped_private_key=bytes(pending["wrapped_private_key"]),
    )
    try:
        # One transaction: the link is used if and only if the account exists.
        redeemed = invitations.redeem(db, token)
        if kind is InvitationKind.SETUP:
            # The first admin: made by the operator's setup link, nobody to approve yet.
            reviewers.add_reviewer(
                db,
                credentials,
                role=redeemed.role,
                unit_slugs=[invitations.SETUP_UNIT],
                totp_key=totp_key(),
                totp_secret=pending["totp_secret"],
                totp_last_step=step,  # the enrolment code cannot log in as well
                actor=f"invitation:{redeemed.id}",
                via=kind.value,
            )
        else:
            # The account exists now; its unit (and an admin role) once a second
            # admin approves (app.accounts.approvals).
            approvals.enrol_invited(
                db,
                redeemed,
                credentials,
                totp_key=totp_key(),
                totp_secret=pending["totp_secret"],
                totp_last_step=step,
                notify=settings().smtp is not None,
            )
    except UsernameTakenError:
        db.rollback()
        session.pop(PENDING_ENROL, None)
        flash(_("This username was taken meanwhile. Choose another one."), "error")
        return redirect(url_for(f"review.{kind.value}", token=token))
    except (InvalidInvitationError, UnknownUnitError):
        db.rollback()
        session.pop(PENDING_ENROL, None)
        return render_template("review/enrol.html", invalid=True, kind=kind.value), 404
    db.commit()
    session.pop(PENDING_ENROL, None)
    flash(_("Your account is ready. Log in with your password and a code from the app."), "info")
    if kind is InvitationKind.INVITE:
        flash(
            _(
                "You will see your unit's cases once a second administrator has approved "
                "your membership."
            ),
            "info",
        )
    return redirect(url_for("review.login"))


@blueprint.route("/setup/<token>", methods=["GET", "POST"])
@_ends_transaction
def setup(token: str) -> ResponseReturnValue:
    return _enrol(token, InvitationKind.SETUP)


@blueprint.route("/invite/<token>", methods=["GET", "POST"])
@_ends_transaction
def invite(token: str) -> ResponseReturnValue:
    return _enrol(token, InvitationKind.INVITE)


# --- administration --------------------------------------------------------------------

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


def _refused(exc: AccountError) -> ResponseReturnValue:
    db_session().rollback()
    return _admin_page(400, error=approval_error(exc))


def _requested(request_ids: list[int]) -> ResponseReturnValue:
    for request_id in request_ids:
        flash(requested_message(request_id), "info")
    target = "review.admin_access" if request_ids else "review.admin_reviewers"
    return redirect(url_for(target))


@blueprint.get("/admin/reviewers")
@_ends_transaction
@role_required(ADMIN)
def admin_reviewers() -> ResponseReturnValue:
    return _admin_page()


@blueprint.post("/admin/reviewers/invite")
@_ends_transaction
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
    except AccountError as exc:
        return _refused(exc)
    db.commit()
    link = f"{settings().review_url}/invite/{token}"
    return _admin_page(
        invite_link=link, invite_hours=int(invitations.INVITE_TTL.total_seconds() // 3600)
    )


@blueprint.post("/admin/reviewers/<int:reviewer_id>/deactivate")
@_ends_transaction
@role_required(ADMIN)
def admin_deactivate(reviewer_id: int) -> ResponseReturnValue:
    db = db_session()
    target = _target(reviewer_id)
    try:
        reviewers.deactivate(db, target, actor=_actor())
    except AccountError as exc:
        return _refused(exc)
    db.commit()
    flash(_("%(name)s was deactivated and logged out.", name=target.username), "info")
    return redirect(url_for("review.admin_reviewers"))


def _request_reset(reviewer_id: int, kind: AccessChangeKind) -> ResponseReturnValue:
    db = db_session()
    target = _target(reviewer_id)
    try:
        row = approvals.request_reset(
            db, decider(), target, kind, request.form.get("reason", ""), notify=notify()
        )
    except AccountError as exc:
        return _refused(exc)
    db.commit()
    return _requested([row.id])


@blueprint.post("/admin/reviewers/<int:reviewer_id>/reset-password")
@_ends_transaction
@role_required(ADMIN)
def admin_reset_password(reviewer_id: int) -> ResponseReturnValue:
    """Asks for a reset; a second admin's approval carries it out (and sees the password)."""
    return _request_reset(reviewer_id, AccessChangeKind.PASSWORD_RESET)


@blueprint.post("/admin/reviewers/<int:reviewer_id>/reset-totp")
@_ends_transaction
@role_required(ADMIN)
def admin_reset_totp(reviewer_id: int) -> ResponseReturnValue:
    return _request_reset(reviewer_id, AccessChangeKind.TOTP_RESET)


@blueprint.post("/admin/reviewers/<int:reviewer_id>/role")
@_ends_transaction
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
    except AccountError as exc:
        return _refused(exc)
    db.commit()
    if row is not None:
        return _requested([row.id])
    flash(_("The role of %(name)s was saved.", name=target.username), "info")
    return redirect(url_for("review.admin_reviewers"))


@blueprint.post("/admin/reviewers/<int:reviewer_id>/units")
@_ends_transaction
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
    except AccountError as exc:
        return _refused(exc)
    db.commit()
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
