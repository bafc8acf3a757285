"""Follow-up pages: a receipt opens the case; the reporter reads, writes, downloads.

The receipt is only ever POSTed (never in a URL). After it opens the case, the
session - encrypted under a key in the reporter's cookie, idle timeout about 20 minutes
- holds the case id and the case key; closing the report destroys it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from app.cases import questionnaire as questionnaire_mod
from app.cases import unit_of_work
from app.cases.access import AccessDenied
from app.cases.attachments import uploaded_attachment
from app.cases.followup import (
    ReporterAccess,
    UnknownReceiptError,
    load_reporter_case,
    open_case_with_receipt,
)
from app.cases.messages import MessageError, add_message_from_server, newest_message_id
from app.cases.protection import file_request_from_server
from app.cases.reading import open_reporter_attachment
from app.cases.unsealing import reporter_seal_view
from app.intake import blueprint
from app.intake.flood import admit
from app.intake.uploads import file_parts
from app.intake.views import receipt_settings
from app.models import Case
from app.models.vocabulary import Side
from app.storage import StorageError
from app.web.context import blob_store, settings
from app.web.db import db_session
from app.web.downloads import attachment_response
from app.web.ratelimit import Budget
from crypto import (
    Identity,
    ReceiptChecksumError,
    ReceiptError,
    ReceiptLengthError,
    Recipient,
)


def reporter_access() -> ReporterAccess | None:
    case_id, key = session.get("case_id"), session.get("case_key")
    if not isinstance(case_id, str) or not isinstance(key, str):
        return None
    return ReporterAccess(case_id, Identity.parse(key))


def reporter_case_recipient() -> Recipient | None:
    access = reporter_access()
    return access.case_identity.recipient if access else None


def receipt_error_text(exc: ReceiptError) -> str:
    if isinstance(exc, ReceiptChecksumError):
        return str(
            _(
                "This receipt code contains a typing mistake (its check digit does not match). "
                "Please check each digit."
            )
        )
    if isinstance(exc, ReceiptLengthError):
        return str(_("A receipt code has 20 digits. Please check that none is missing or extra."))
    return str(_("A receipt code contains only digits (spaces and dashes are fine)."))


def unknown_receipt_text() -> str:
    # One message for every wrong receipt.
    return str(_("No report matches this receipt code. Please check it and try again."))


def remember_opened_case(access: ReporterAccess) -> None:
    """The receipt opened the case: a new session holds the case and its key."""
    session.rotate()  # type: ignore[attr-defined]
    session["case_id"] = access.case_id
    session["case_key"] = str(access.case_identity)


@blueprint.get("/followup")
def followup() -> Any:
    if reporter_access() is not None:
        return redirect(url_for("intake.followup_case"))
    return render_template("intake/followup.html", error=None, typed="")


@blueprint.post("/followup")
def followup_open() -> Any:
    typed = request.form.get("receipt", "")
    try:
        access = open_case_with_receipt(
            db_session(), receipt_settings(), typed, admit=admit(Budget.RECEIPTS)
        )
    except ReceiptError as exc:
        # A typo is told as such: no Argon2id work was done, nothing was looked up, no
        # budget was spent.
        error = receipt_error_text(exc)
        return render_template("intake/followup.html", error=error, typed=typed), 400
    except UnknownReceiptError:
        # The typed code is not shown back.
        error = unknown_receipt_text()
        return render_template("intake/followup.html", error=error, typed=""), 400
    remember_opened_case(access)
    return redirect(url_for("intake.followup_case"), code=303)


def _case_page(message_error: str | None = None, status: int = 200) -> Any:
    access = reporter_access()
    if access is None:
        return redirect(url_for("intake.followup"))
    try:
        case = load_reporter_case(db_session(), blob_store(), access.case_id, access.case_identity)
    except UnknownReceiptError:
        session.destroy()  # type: ignore[attr-defined]
        return redirect(url_for("intake.followup"))
    return (
        render_template(
            "intake/case.html",
            case=case,
            questionnaire=questionnaire_mod.load_questionnaire(),
            message_error=message_error,
            newest_message_id=newest_message_id(case.thread),
            seal=reporter_seal_view(db_session(), access.case_id),
        ),
        status,
    )


@blueprint.get("/followup/case")
def followup_case() -> Any:
    return _case_page()


@blueprint.post("/followup/message")
def followup_message() -> Any:
    access = reporter_access()
    uploads = file_parts("attachments")
    if access is None:
        for sink, _n, _t in uploads:
            sink.blob.discard()
        return redirect(url_for("intake.followup"))
    case = db_session().get(Case, access.case_id)
    if case is None:
        abort(404)
    attachments = [
        (sink.blob, uploaded_attachment(name, ctype, sink.size)) for sink, name, ctype in uploads
    ]
    try:
        if is_protection_request(request.form):
            # Flagged as a protection request / report of retaliation: the same encrypted
            # message, with its own clock (app.cases.protection).
            file_request_from_server(
                db_session(),
                blob_store(),
                case=case,
                text=request.form.get("body", ""),
                attachments=attachments,
                notify=settings().smtp is not None,
                after=_message_id(request.form.get("after", "")),
                admit=admit(Budget.FORMS),
            )
        else:
            add_message_from_server(
                db_session(),
                blob_store(),
                case=case,
                side=Side.REPORTER,
                author_id=None,
                text=request.form.get("body", ""),
                attachments=attachments,
                notify=settings().smtp is not None,
                after=_message_id(request.form.get("after", "")),
                admit=admit(Budget.FORMS),
            )
        unit_of_work.commit(db_session())
    except MessageError as exc:
        return _case_page(message_error_text(exc.code), status=400)
    except StorageError:
        return _case_page(_("The message cannot be stored right now. Please try again later."), 503)
    return redirect(url_for("intake.followup_case"), code=303)


def is_protection_request(form: Mapping[str, str]) -> bool:
    """The follow-up form's box "this is a protection request" (field ``protection``,
    value ``yes``), on either path."""
    return form.get("protection", "") == "yes"


def _message_id(text: str) -> int | None:
    # The page's own hidden field; a tampered value only loses the thread position of
    # the reporter's own message (the domain also checks it names a message of the case).
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    return int(text)


def message_error_text(code: str) -> str:
    if code == "message_too_long":
        return str(_("The message is too long (at most 20,000 characters)."))
    return str(_("Please write a message or attach a file."))


@blueprint.get("/followup/attachments/<blob_id>")
def followup_attachment(blob_id: str) -> WerkzeugResponse:
    access = reporter_access()
    if access is None:
        return redirect(url_for("intake.followup"))
    try:
        download = open_reporter_attachment(
            db_session(), blob_store(), access.case_id, access.case_identity, blob_id
        )
    except AccessDenied:
        abort(404)
    return attachment_response(download.chunks, download.meta.name)
