"""A reviewer changes their own password (``/account/password``).

The rule (checks, rewrapping the private key under the new password) lives in
app.accounts.reviewers; this view parses the form, calls it, commits, renders.
The password-strength messages are shared with enrolment (app.review.enrolment).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.accounts import reviewers
from app.accounts.errors import CurrentPasswordError, WeakPasswordError
from app.cases import unit_of_work
from app.review import blueprint
from app.review.auth import current_reviewer, ends_transaction, login_required, password_kdf
from app.web.db import db_session

WEAK_PASSWORD = {
    "too_short": _l("The password must be at least 12 characters long."),
    "too_long": _l("The password is too long (at most 1024 characters)."),
    "common": _l("This password is too common. Choose a longer, less predictable one."),
    "same_as_username": _l("The password must not be the username."),
}


def weak_password_message(exc: WeakPasswordError) -> str:
    return str(WEAK_PASSWORD.get(exc.code, WEAK_PASSWORD["common"]))


@blueprint.route("/account/password", methods=["GET", "POST"])
@ends_transaction
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
            error = weak_password_message(exc)
        else:
            # Other sessions of this reviewer end; this one continues under a new id.
            reviewers.end_sessions(db, reviewer.id)
            unit_of_work.commit(db)
            session.rotate()  # type: ignore[attr-defined]
            flash(_("Your password was changed. Your other sessions were logged out."), "info")
            return redirect(url_for("review.account_password"))
    return render_template("review/account_password.html", error=error), 400
