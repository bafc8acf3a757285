"""Intake pages: landing and the report form (the no-JavaScript path). Views parse the
request, call the domain (app.cases) and render."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import g, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from app.cases import questionnaire as questionnaire_mod
from app.cases import unit_of_work
from app.cases.attachments import uploaded_attachment
from app.cases.identity import IdentityError, IdentityFields, parse_identity, parse_track
from app.cases.submission import (
    CaseChoices,
    ReceiptSettings,
    ServerCaseKeys,
    SubmissionError,
    UploadedAttachment,
    excludable_units,
    submit_from_server,
)
from app.intake import blueprint
from app.intake.cleaning_notice import file_notices
from app.intake.flood import admit
from app.intake.form_nonces import form_nonce_unspent, new_form_nonce, spend_form_nonce
from app.intake.other_procedures import other_procedures_text
from app.intake.uploads import file_parts
from app.models.vocabulary import Category, Track
from app.storage import StorageError
from app.web.context import blob_store, installation_secrets, settings
from app.web.db import db_session
from app.web.ratelimit import Budget
from crypto import Recipient


def locale() -> str:
    return str(get_locale() or "vi")


def receipt_settings() -> ReceiptSettings:
    return ReceiptSettings.from_config(installation_secrets().receipt_salt, settings().receipt_kdf)


def server_case_keys() -> ServerCaseKeys:
    """This request's new case keys, made before the body is parsed (see uploads.py)."""
    keys: ServerCaseKeys | None = g.get("server_case_keys")
    if keys is None:
        keys = ServerCaseKeys()
        g.server_case_keys = keys
    return keys


def server_case_recipient() -> Recipient:
    return server_case_keys().case_recipient


@blueprint.app_context_processor
def _home() -> dict[str, Any]:
    return {"home_endpoint": "intake.landing", "locale": locale()}


def _limits() -> dict[str, int]:
    s = settings()
    return {
        "max_files": s.max_files,
        "max_file_mb": s.max_file_bytes // (1024 * 1024),
        "max_report_mb": s.max_report_bytes // (1024 * 1024),
    }


def _render_form(
    values: MultiDict[str, str] | None = None,
    errors: dict[str, Any] | None = None,
    form_error: str | None = None,
    status: int = 200,
    dropped_files: Sequence[str] = (),
    identity_errors: dict[str, str] | None = None,
) -> tuple[str, int]:
    return (
        render_template(
            "intake/report.html",
            form_nonce=new_form_nonce(),
            dropped_files=dropped_files,
            questionnaire=questionnaire_mod.load_questionnaire(),
            values=values or MultiDict(),
            errors=errors or {},
            form_error=form_error,
            units=excludable_units(db_session()),
            limits=_limits(),
            identity_errors=identity_errors or {},
            other_procedures=other_procedures_text(locale()),
        ),
        status,
    )


def render_report_form(
    values: MultiDict[str, str], *, dropped_files: Sequence[str]
) -> tuple[str, int]:
    """The report form filled in with ``values``, naming the files that were not kept
    (the no-JavaScript language switch, app/intake/language.py)."""
    return _render_form(values, dropped_files=dropped_files)


@blueprint.get("/")
def landing() -> str:
    return render_template("intake/landing.html", categories=list(Category))


@blueprint.get("/report")
def report_form() -> tuple[str, int]:
    return _render_form()


@blueprint.post("/report")
def report_submit() -> tuple[str, int]:
    from flask import request

    form = request.form
    uploads = file_parts("attachments")
    nonce = form.get("form_nonce", "")
    if not form_nonce_unspent(nonce):
        for sink, _name, _type in uploads:
            sink.blob.discard()
        message = _(
            "This form was already sent (for example by reloading the page). It was not "
            "stored again. If you did not see a receipt code, please fill in the form again."
        )
        return _render_form(form, form_error=str(message), status=409)
    questionnaire = questionnaire_mod.load_questionnaire()
    validated = questionnaire_mod.validate_answers(questionnaire, dict(form.lists()))
    if not validated.ok:
        for sink, _name, _type in uploads:
            sink.blob.discard()
        return _render_form(form, validated.errors, status=400)
    try:
        identity = identity_from_form(form)
    except IdentityError as exc:
        for sink, _name, _type in uploads:
            sink.blob.discard()
        return _render_form(
            form, identity_errors={exc.field or "track": identity_error_message(exc)}, status=400
        )
    answers = validated.answers
    category = str(answers.get("category", ""))
    sector_value = answers.get("sector")
    choices = CaseChoices(
        category=category,
        sector=str(sector_value) if sector_value else None,
        excluded_units=tuple(form.getlist("excluded_units")),
    )
    attachments = [
        UploadedAttachment(sink.blob, uploaded_attachment(name, content_type, sink.size))
        for sink, name, content_type in uploads
    ]
    spend_forms_budget = admit(Budget.FORMS)

    def admit_and_spend_nonce() -> None:
        spend_forms_budget()
        spend_form_nonce(nonce)  # only now: a form refused as busy can be sent again

    try:
        receipt, _stored = submit_from_server(
            db_session(),
            blob_store(),
            receipt_settings(),
            keys=server_case_keys(),
            choices=choices,
            answers=answers,
            attachments=attachments,
            deadlines=settings().deadlines,
            notify=settings().smtp is not None,
            admit=admit_and_spend_nonce,
            identity=identity,
        )
        unit_of_work.commit(db_session())
    except SubmissionError as exc:
        return _render_form(form, form_error=submission_error_message(exc), status=400)
    except StorageError:
        return _render_form(form, form_error=storage_error_message(), status=503)
    notices = file_notices([(name, sink.cleaning) for sink, name, _type in uploads])
    return render_template("intake/receipt.html", receipt=receipt, file_notices=notices), 200


def identity_from_form(form: MultiDict[str, str]) -> IdentityFields | None:
    """The named track's identity, or None for the anonymous one (the default)."""
    if parse_track(form.get("track")) is Track.ANONYMOUS:
        return None
    return parse_identity(form)


def identity_error_message(exc: IdentityError) -> str:
    messages = {
        "identity_required": _("This is required to denounce with your name."),
        "identity_too_long": _("This is too long (at most 300 characters)."),
        "invalid_track": _("Choose to stay anonymous or to denounce with your name."),
    }
    return str(messages.get(exc.code, _("Please check this field.")))


def submission_error_message(exc: SubmissionError) -> str:
    messages = {
        "invalid_choice": _("One of the choices is not valid. Please check the form."),
        "invalid_ticket": _("This submission has expired. Please send the report again."),
        "invalid_ciphertext": _("The encrypted report was damaged on the way. Please try again."),
        "not_ready": _("The service is not ready to receive reports yet. Please try again later."),
        "recipients_changed": _(
            "The reviewers who may read reports changed while you were writing. Nothing was "
            "saved; your report is encrypted again for them. Please send it again if this "
            "message stays."
        ),
    }
    return str(messages.get(exc.code, _("The report could not be stored. Nothing was saved.")))


def storage_error_message() -> str:
    return str(
        _(
            "The service cannot store reports right now. Nothing was saved. "
            "Please try again in a few minutes."
        )
    )
