"""Enrolment: the first admin's setup link and an invited reviewer's link.

Two steps on one page: choose a username and password (the key pair is made and wrapped
at once, kept in the session for 15 minutes), then confirm a first TOTP code from the
authenticator app. Only then is the account created and the link used, in one
transaction. The rules live in app.accounts (invitations, reviewers, approvals).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.accounts import approvals, invitations, reviewers, totp
from app.accounts.errors import (
    InvalidInvitationError,
    InvalidTotpError,
    InvalidUsernameError,
    UsernameTakenError,
    WeakPasswordError,
)
from app.accounts.reviewers import Credentials
from app.cases import unit_of_work
from app.installation import UnknownUnitError
from app.models import Invitation, Unit, utcnow
from app.models.vocabulary import InvitationKind
from app.review import blueprint
from app.review.auth import ends_transaction, password_kdf, totp_key
from app.review.login import WRONG_CODE
from app.review.password import weak_password_message
from app.web.context import settings
from app.web.db import db_session

PENDING_ENROL = "enrol_pending"
ENROL_TTL = timedelta(minutes=15)


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
        return again(weak_password_message(exc))
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
        unit_of_work.rollback(db)
        session.pop(PENDING_ENROL, None)
        flash(_("This username was taken meanwhile. Choose another one."), "error")
        return redirect(url_for(f"review.{kind.value}", token=token))
    except (InvalidInvitationError, UnknownUnitError):
        unit_of_work.rollback(db)
        session.pop(PENDING_ENROL, None)
        return render_template("review/enrol.html", invalid=True, kind=kind.value), 404
    unit_of_work.commit(db)
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
@ends_transaction
def setup(token: str) -> ResponseReturnValue:
    return _enrol(token, InvitationKind.SETUP)


@blueprint.route("/invite/<token>", methods=["GET", "POST"])
@ends_transaction
def invite(token: str) -> ResponseReturnValue:
    return _enrol(token, InvitationKind.INVITE)
