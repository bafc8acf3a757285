"""The JSON API the browser uses when JavaScript runs (contract: /api/v1/openapi.json).

The browser encrypts; the server checks that what arrives is well-formed age ciphertext
and stores it. Errors are JSON ``{"error": code, "message": text}`` in the reporter's
language, and change nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, jsonify, request
from flask_babel import gettext as _

from app.cases import pow as proof_of_work
from app.cases import questionnaire as questionnaire_mod
from app.cases.blobs import InvalidUploadError
from app.cases.keys import recovery_recipient, unit_reader_recipients
from app.cases.messages import MessageError, add_message_from_browser
from app.cases.submission import (
    CaseChoices,
    RecipientsChangedError,
    SubmissionError,
    excludable_units,
    issue_ticket,
    recipients_version,
    submission_recipients,
    submit_from_browser,
)
from app.intake import blueprint
from app.intake.followup import message_error_text, reporter_access
from app.intake.uploads import UploadSink, UploadStorageFailed, file_parts
from app.intake.views import locale, receipt_settings, submission_error_message
from app.models import Case
from app.storage import StorageError
from app.web.context import settings
from app.web.db import db_session, get_database
from app.web.ratelimit import intake_limit

OPENAPI_FILE = Path(__file__).with_name("openapi.json")
MAX_KEY_WRAP_BYTES = 64 * 1024


def api_error(code: str, message: str, status: int) -> tuple[Response, int]:
    return jsonify({"error": code, "message": message}), status


@blueprint.get("/api/v1/openapi.json")
def api_openapi() -> Response:
    return Response(OPENAPI_FILE.read_bytes(), mimetype="application/json")


@blueprint.get("/api/v1/submission")
@intake_limit("intake")
def api_submission() -> Response:
    """Everything the browser needs to encrypt a report, and a fresh PoW challenge."""
    s = settings()
    # A GET that writes (the challenge): use a write session of its own.
    with get_database().session() as db:
        challenge = proof_of_work.issue_challenge(db, s.pow_difficulty)
        units = excludable_units(db)
        body: dict[str, Any] = {
            "recipients": [str(r) for r in submission_recipients(db, [])],
            "recovery_recipient": str(recovery_recipient(db)),
            # Sent back with the report: refused (409) if the readers changed meanwhile.
            "recipients_version": recipients_version(db),
            "units": [
                {
                    "slug": unit.slug,
                    "name": unit.name(locale()),
                    "recipients": [str(r) for r in unit_reader_recipients(db, unit.id)],
                }
                for unit in units
            ],
            "questionnaire": questionnaire_mod.load_questionnaire().to_public_dict(),
            "limits": {
                "max_file_bytes": s.max_file_bytes,
                "max_report_bytes": s.max_report_bytes,
                "max_files": s.max_files,
            },
            "pow": {"challenge": challenge.challenge, "difficulty": challenge.difficulty},
        }
    return jsonify(body)


@blueprint.post("/api/v1/tickets")
@intake_limit("intake")
def api_tickets() -> tuple[Response, int]:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return api_error("invalid_request", _("The request is not valid JSON."), 400)
    challenge = payload.get("pow_challenge")
    nonce = payload.get("pow_nonce")
    if not isinstance(challenge, str) or not isinstance(nonce, str):
        return api_error("invalid_request", _("pow_challenge and pow_nonce are required."), 400)
    # Check the work (cheap) before doing ours (one Argon2id run): a flood without
    # solved challenges costs the server a hash each, nothing more.
    if not proof_of_work.check_solution(challenge, nonce, settings().pow_difficulty):
        return api_error("invalid_pow", _("The anti-robot check failed. Please try again."), 400)
    db = db_session()
    ticket = issue_ticket(db, receipt_settings())
    try:
        proof_of_work.redeem_challenge(db, challenge, nonce)
    except proof_of_work.PowError:
        db.rollback()
        return api_error(
            "invalid_pow",
            _("The anti-robot check expired or was already used. Please try again."),
            400,
        )
    db.commit()
    return (
        jsonify(
            {
                "ticket": ticket.ticket,
                "receipt": ticket.receipt,
                "reporter_recipient": ticket.reporter_recipient,
                "expires": ticket.expires_at.isoformat(),
            }
        ),
        201,
    )


def _single_part(name: str) -> UploadSink | None:
    parts = file_parts(name)
    for extra, _n, _t in parts[1:]:
        extra.blob.discard()
    return parts[0][0] if parts else None


def _read_small(sink: UploadSink | None) -> bytes | None:
    if sink is None or sink.size > MAX_KEY_WRAP_BYTES:
        return None
    try:
        with sink.blob.reopen() as handle:
            data = handle.read()
    except (StorageError, OSError):
        raise UploadStorageFailed() from None  # teardown discards every part
    sink.blob.discard()  # key wraps live in the database, not the blob store
    return data


@blueprint.post("/api/v1/reports")
@intake_limit("intake")
def api_reports() -> tuple[Response, int]:
    form = request.form
    report = _single_part("report")
    attachments = [sink for sink, _n, _t in file_parts("attachment")]
    case_wrap = _read_small(_single_part("case_key_wrap"))
    staff_wrap = _read_small(_single_part("staff_key_wrap"))
    missing = [
        name
        for name, present in (
            ("ticket", form.get("ticket")),
            ("category", form.get("category")),
            ("case_recipient", form.get("case_recipient")),
            ("staff_recipient", form.get("staff_recipient")),
            ("recipients_version", form.get("recipients_version")),
            ("report", report),
            ("case_key_wrap", case_wrap),
            ("staff_key_wrap", staff_wrap),
        )
        if not present
    ]
    if missing or report is None or case_wrap is None or staff_wrap is None:
        if report is not None:
            report.blob.discard()
        for sink in attachments:
            sink.blob.discard()
        return api_error(
            "missing_fields",
            _("Missing or invalid fields: %(fields)s", fields=", ".join(missing)),
            400,
        )
    choices = CaseChoices(
        category=form.get("category", ""),
        sector=form.get("sector") or None,
        excluded_units=tuple(form.getlist("excluded_units")),
    )
    try:
        submit_from_browser(
            db_session(),
            ticket=form.get("ticket", ""),
            choices=choices,
            case_recipient=form.get("case_recipient", ""),
            staff_recipient=form.get("staff_recipient", ""),
            report=report.blob,
            attachments=[sink.blob for sink in attachments],
            case_key_wrap=case_wrap,
            staff_key_wrap=staff_wrap,
            max_file_bytes=settings().max_file_bytes,
            deadlines=settings().deadlines,
            recipients_version=form.get("recipients_version", ""),
            notify=settings().smtp is not None,
        )
    except RecipientsChangedError as exc:
        return api_error(exc.code, submission_error_message(exc), 409)
    except SubmissionError as exc:
        return api_error(exc.code, submission_error_message(exc), 400)
    except StorageError:
        return api_error("storage_unavailable", _("The report cannot be stored right now."), 503)
    return jsonify({"status": "stored"}), 201


@blueprint.post("/api/v1/followup/messages")
@intake_limit("intake")
def api_followup_messages() -> tuple[Response, int]:
    access = reporter_access()
    body = _single_part("message")
    attachments = [sink for sink, _n, _t in file_parts("attachment")]
    case = db_session().get(Case, access.case_id) if access else None
    if access is None or case is None or body is None:
        for sink in [*attachments, *([body] if body else [])]:
            sink.blob.discard()
        if access is None or case is None:
            return api_error(
                "no_session", _("Please open your report with its receipt code again."), 403
            )
        return api_error(
            "missing_fields", _("Missing or invalid fields: %(fields)s", fields="message"), 400
        )
    try:
        add_message_from_browser(
            db_session(),
            case=case,
            body=body.blob,
            attachments=[sink.blob for sink in attachments],
            max_file_bytes=settings().max_file_bytes,
            notify=settings().smtp is not None,
        )
    except InvalidUploadError:
        return api_error(
            "invalid_ciphertext", _("The encrypted message was damaged on the way."), 400
        )
    except MessageError as exc:
        return api_error(exc.code, message_error_text(exc.code), 400)
    except StorageError:
        return api_error("storage_unavailable", _("The message cannot be stored right now."), 503)
    return jsonify({"status": "stored"}), 201
