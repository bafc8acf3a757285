"""Logging in to the review app (password, then a TOTP code) and logging out.

The rules (lockout, verifying the password and unwrapping the reviewer's key, the TOTP
step) live in app.accounts.reviewers; these views parse forms, call it, commit and keep
the session (app.review.auth says what a logged-in session holds).

Between the two steps the session holds a pending login for five minutes: the
reviewer's unwrapped key is only promoted to a logged-in session by a valid code.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from app.accounts import reviewers
from app.accounts.errors import LoginFailedError
from app.cases import unit_of_work
from app.models import Reviewer, utcnow
from app.review import blueprint
from app.review.auth import (
    SESSION_IDENTITY,
    SESSION_LOGIN_AT,
    SESSION_REVIEWER,
    current_reviewer,
    ends_transaction,
    password_kdf,
    template_globals,
    totp_key,
)
from app.web.db import db_session
from app.web.redirects import local_redirect_target

PENDING_LOGIN = "login_pending"
PENDING_TTL = timedelta(minutes=5)

LOGIN_FAILED = _l("Wrong username or password, or the account is locked for a while.")
WRONG_CODE = _l("That code is not valid. Wait for the next code and try again.")


@blueprint.app_context_processor
def _account_globals() -> dict[str, Any]:
    return template_globals()


def _safe_next(target: str | None) -> str | None:
    # Only a path on this site, as the browser will read it (open redirect).
    return local_redirect_target(target)


def _home() -> ResponseReturnValue:
    return redirect(url_for("review.home"))


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
@ends_transaction
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
        unit_of_work.commit(db)  # the failure counter and the audit event
        return _render_login(username, str(LOGIN_FAILED), next_url)
    unit_of_work.commit(db)  # a rehash or rewrap with new parameters, if any
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
@ends_transaction
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
        unit_of_work.commit(db)
        locked = db.get(Reviewer, int(pending["reviewer_id"]))
        if locked is None or reviewers.is_locked(locked) or not locked.active:
            session.pop(PENDING_LOGIN, None)
            return _render_login("", str(LOGIN_FAILED), None)
        return render_template("review/login_totp.html", error=str(WRONG_CODE)), 400
    unit_of_work.commit(db)
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
@ends_transaction
def logout() -> ResponseReturnValue:
    reviewer = current_reviewer()
    if reviewer is not None:
        db = db_session()
        reviewers.record_logout(db, reviewer)
        unit_of_work.commit(db)
    session.destroy()  # type: ignore[attr-defined]
    return redirect(url_for("review.login"))
