"""The reception desk: a desk officer enters a report made in person, by phone or by
letter, and prints the citizen's slip (app/cases/desk.py has the rules).

The slip is the answer to the POST that stored the case: shown once, never stored (not
in the session, a URL, a log or the database; the review app sends ``no-store``), like
the intake's receipt page. It carries no link to the case: opening the case right away
would put an exact time next to it in the log (docs/threat-model.md).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import MultiDict

from app.cases import questionnaire as questionnaire_mod
from app.cases import unit_of_work
from app.cases.access import AccessDenied, may_enter_reports
from app.cases.desk import DESK_CHANNELS, DeskReport, enter_at_desk, parse_channel
from app.cases.desk_tokens import (
    DeskReportAlreadyStoredError,
    DeskTokenError,
    DeskTokenKey,
    ensure_unspent,
    issue_token,
    verify_token,
)
from app.cases.identity import IdentityError, parse_identity, parse_track
from app.cases.submission import (
    CaseChoices,
    NoIntakeUnitError,
    ReceiptSettings,
    SubmissionError,
    excludable_units,
    intake_unit,
)
from app.models.vocabulary import Track
from app.review import blueprint
from app.review.auth import current_actor, current_reviewer, forbidden, login_required
from app.review.desk_uploads import paper_scans
from app.storage import StorageError
from app.web.context import blob_store, installation_secrets, settings
from app.web.db import db_session


def _locale() -> str:
    return str(get_locale() or "vi")


def _may_enter() -> bool:
    try:
        return may_enter_reports(current_actor(), intake_unit(db_session()).id)
    except (NoIntakeUnitError, AccessDenied):
        return False


@blueprint.app_context_processor
def _desk_link() -> dict[str, Any]:
    """``desk_officer()`` for the account menu (review/_account_nav.html)."""
    return {"desk_officer": lambda: current_reviewer() is not None and _may_enter()}


def _token_key() -> DeskTokenKey:
    """Binds a desk form token to this officer's session (its CSRF secret, new at each
    login) and account: another officer's session cannot spend it."""
    generate_csrf()  # makes sure the session has its CSRF secret
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    reviewer = current_reviewer()
    binding = f"{session.get(field)}\x00{reviewer.id if reviewer else ''}"
    key = current_app.secret_key
    secret = key.encode() if isinstance(key, str) else bytes(key or b"")
    return DeskTokenKey(secret=secret, binding=binding.encode())


def _form(
    values: MultiDict[str, str] | None = None,
    *,
    form_nonce: str | None = None,
    errors: dict[str, Any] | None = None,
    identity_errors: dict[str, str] | None = None,
    form_error: str | None = None,
    dropped_files: bool = False,
    status: int = 200,
) -> tuple[str, int]:
    s = settings()
    return (
        render_template(
            "review/desk.html",
            questionnaire=questionnaire_mod.load_questionnaire(),
            values=values or MultiDict(),
            # A refused form keeps its token: the officer corrects it and sends it again.
            form_nonce=form_nonce or issue_token(_token_key()),
            errors=errors or {},
            identity_errors=identity_errors or {},
            form_error=form_error,
            dropped_files=dropped_files,
            channels=DESK_CHANNELS,
            units=excludable_units(db_session()),
            locale=_locale(),
            limits={
                "max_files": s.max_files,
                "max_file_mb": s.max_file_bytes // (1024 * 1024),
                "max_report_mb": s.max_report_bytes // (1024 * 1024),
            },
        ),
        status,
    )


@blueprint.get("/desk/report")
@login_required
def desk_form() -> ResponseReturnValue:
    if not _may_enter():
        return forbidden()
    return _form()


def _identity_message(exc: IdentityError) -> str:
    messages = {
        "identity_required": _("This is required to denounce with your name."),
        "identity_too_long": _("This is too long (at most 300 characters)."),
        "invalid_track": _("Choose to stay anonymous or to denounce with your name."),
    }
    return str(messages.get(exc.code, _("Please check this field.")))


def _submission_message(exc: SubmissionError) -> str:
    messages = {
        "invalid_choice": _("One of the choices is not valid. Please check the form."),
        "invalid_channel": _("Choose how the report was received."),
        "not_ready": _("The service is not ready to receive reports yet. Please try again later."),
        "desk_token_invalid": _(
            "This form has expired or belongs to another session. Nothing was saved. "
            "Please check the report and send it again."
        ),
    }
    return str(messages.get(exc.code, _("The report could not be stored. Nothing was saved.")))


def _already_stored() -> tuple[str, int]:
    """A re-sent form: nothing is stored again and the slip is not shown again (its
    receipt is shown once). A blank form, with a new token, for the next citizen."""
    message = _("This report was already stored; it was not stored again.")
    return _form(form_error=str(message), status=409)


@blueprint.post("/desk/report")
@login_required
def desk_submit() -> ResponseReturnValue:
    if not _may_enter():
        return forbidden()
    form = request.form
    scans = paper_scans("attachments")
    try:
        token = verify_token(_token_key(), form.get("form_nonce"))
        ensure_unspent(db_session(), token)
    except DeskTokenError as exc:
        # A fresh token for this session: the officer checks the form and sends it again.
        return _form(
            form, form_error=_submission_message(exc), dropped_files=bool(scans), status=400
        )
    except DeskReportAlreadyStoredError:
        return _already_stored()

    def refused(**kw: Any) -> tuple[str, int]:
        # Nothing is kept of a refused form's files: the officer attaches them again.
        # The token is not spent, so the corrected form is accepted.
        return _form(
            form,
            form_nonce=str(form.get("form_nonce")),
            dropped_files=bool(scans),
            status=400,
            **kw,
        )

    validated = questionnaire_mod.validate_answers(
        questionnaire_mod.load_questionnaire(), dict(form.lists())
    )
    if not validated.ok:
        return refused(errors=validated.errors)
    try:
        named = parse_track(form.get("track")) is Track.NAMED
        identity = parse_identity(form) if named else None
    except IdentityError as exc:
        return refused(identity_errors={exc.field or "track": _identity_message(exc)})
    answers = validated.answers
    sector = answers.get("sector")
    try:
        report = DeskReport(
            channel=parse_channel(form.get("channel")),
            choices=CaseChoices(
                category=str(answers.get("category", "")),
                sector=str(sector) if sector else None,
                excluded_units=tuple(form.getlist("excluded_units")),
            ),
            answers=answers,
            identity=identity,
        )
        s = settings()
        entered = enter_at_desk(
            db_session(),
            blob_store(),
            ReceiptSettings.from_config(installation_secrets().receipt_salt, s.receipt_kdf),
            current_actor(),
            report,
            scans,
            deadlines=s.deadlines,
            notify=s.smtp is not None,
            token=token,
        )
        unit_of_work.commit(db_session())
    except AccessDenied:
        return forbidden()
    except DeskReportAlreadyStoredError:
        unit_of_work.rollback(db_session())
        return _already_stored()
    except SubmissionError as exc:
        return refused(form_error=_submission_message(exc))
    except StorageError:
        message = _(
            "The service cannot store reports right now. Nothing was saved. "
            "Please try again in a few minutes."
        )
        return _form(form, form_error=str(message), dropped_files=bool(scans), status=503)
    return render_template(
        "review/desk_slip.html",
        entered=entered,
        followup_url=settings().intake_url.rstrip("/") + "/followup",
        onion_url=settings().onion_url,
    )
