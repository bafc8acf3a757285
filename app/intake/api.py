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
from app.cases import unit_of_work
from app.cases.blobs import InvalidUploadError
from app.cases.followup import UnknownReceiptError, open_case_with_receipt
from app.cases.identity import IdentityError, parse_track
from app.cases.messages import MessageError, add_message_from_browser
from app.cases.protection import file_request_from_browser
from app.cases.submission import (
    MAX_KEY_WRAP_BYTES,
    BrowserIdentity,
    CaseChoices,
    RecipientsChangedError,
    SubmissionError,
    issue_ticket,
    submission_readers,
    submit_from_browser,
)
from app.cases.tickets import TICKET_TTL
from app.intake import blueprint
from app.intake.flood import admit_with_pow, new_challenge, spend_pow, ticket_key, verify_pow
from app.intake.followup import (
    is_protection_request,
    message_error_text,
    receipt_error_text,
    remember_opened_case,
    reporter_access,
    unknown_receipt_text,
)
from app.intake.uploads import UploadSink, UploadStorageFailed, file_parts
from app.intake.views import locale, receipt_settings, submission_error_message
from app.models import Case
from app.models.vocabulary import Track
from app.storage import StorageError
from app.web.context import settings
from app.web.db import db_session
from app.web.ratelimit import Budget, spend_budget
from crypto import ReceiptError, parse_receipt

OPENAPI_FILE = Path(__file__).with_name("openapi.json")


def api_error(code: str, message: str, status: int) -> tuple[Response, int]:
    return jsonify({"error": code, "message": message}), status


@blueprint.get("/api/v1/openapi.json")
def api_openapi() -> Response:
    return Response(OPENAPI_FILE.read_bytes(), mimetype="application/json")


def _pow_error(exc: proof_of_work.PowError) -> tuple[Response, int]:
    if isinstance(exc, proof_of_work.ChallengeExpiredError | proof_of_work.ChallengeUsedError):
        message = _("The anti-robot check expired or was already used. Please try again.")
    else:
        message = _("The anti-robot check failed. Please try again.")
    return api_error("invalid_pow", message, 400)


def _challenge_body() -> dict[str, Any]:
    challenge = new_challenge()
    return {
        "challenge": challenge.challenge,
        "difficulty": challenge.difficulty,
        "puzzles": challenge.puzzles,
        "bits": challenge.bits,
        # Relative, so that a browser whose clock is wrong still renews in time.
        "expires_in": int(proof_of_work.DEFAULT_TTL.total_seconds()),
    }


@blueprint.get("/api/v1/submission")
def api_submission() -> Response:
    """Everything the browser needs to encrypt a report, and a fresh PoW challenge.

    Writes nothing (the challenge is a sealed token) and spends no budget: it costs a
    few indexed reads, like showing the report form.
    """
    s = settings()
    readers = submission_readers(db_session())
    body: dict[str, Any] = {
        "recipients": [str(r) for r in readers.recipients],
        "recovery_recipient": str(readers.recovery),
        # A named report's identity key is wrapped for these and the recovery key only
        # (app.cases.identity); covered by the recipients version.
        "custodian_recipients": [str(r) for r in readers.custodians],
        # Sent back with the report: refused (409) if the readers changed meanwhile.
        "recipients_version": readers.version,
        "units": [
            {
                "slug": unit.slug,
                "name": unit.name(locale()),
                "recipients": [str(r) for r in unit_readers],
            }
            for unit, unit_readers in readers.units
        ],
        "questionnaire": questionnaire_mod.load_questionnaire().to_public_dict(),
        "limits": {
            "max_file_bytes": s.max_file_bytes,
            "max_report_bytes": s.max_report_bytes,
            "max_files": s.max_files,
        },
        "pow": _challenge_body(),
    }
    return jsonify(body)


@blueprint.get("/api/v1/challenge")
def api_challenge() -> Response:
    """A fresh proof-of-work challenge (for the follow-up page). Writes nothing."""
    return jsonify(_challenge_body())


def _json_object() -> dict[str, Any] | None:
    payload = request.get_json(silent=True)
    return payload if isinstance(payload, dict) else None


@blueprint.post("/api/v1/tickets")
def api_tickets() -> tuple[Response, int]:
    payload = _json_object()
    if payload is None:
        return api_error("invalid_request", _("The request is not valid JSON."), 400)
    challenge = payload.get("pow_challenge")
    nonce = payload.get("pow_nonce")
    if not isinstance(challenge, str) or not isinstance(nonce, str):
        return api_error("invalid_request", _("pow_challenge and pow_nonce are required."), 400)
    # Check the work (cheap), spend the challenge (committed), then the budget, and only
    # then do ours (one Argon2id run): a replayed or forged challenge costs a hash.
    try:
        spend_pow(verify_pow(challenge, nonce))
    except proof_of_work.PowError as exc:
        return _pow_error(exc)
    spend_budget(Budget.JAVASCRIPT)
    ticket = issue_ticket(ticket_key(), receipt_settings())
    return (
        jsonify(
            {
                "ticket": ticket.ticket,
                "receipt": ticket.receipt,
                "reporter_recipient": ticket.reporter_recipient,
                "expires": ticket.expires_at.isoformat(),
                "expires_in": int(TICKET_TTL.total_seconds()),
            }
        ),
        201,
    )


@blueprint.post("/api/v1/followup/open")
def api_followup_open() -> tuple[Response, int]:
    """Open a case with its receipt, paying a proof of work: the follow-up form's way
    in when JavaScript runs, on the JavaScript budget (the plain form spends the
    receipt-check budget instead)."""
    payload = _json_object()
    if payload is None:
        return api_error("invalid_request", _("The request is not valid JSON."), 400)
    receipt = payload.get("receipt")
    challenge, nonce = payload.get("pow_challenge"), payload.get("pow_nonce")
    if not isinstance(receipt, str) or not isinstance(challenge, str) or not isinstance(nonce, str):
        return api_error(
            "invalid_request", _("receipt, pow_challenge and pow_nonce are required."), 400
        )
    try:
        parse_receipt(receipt)  # a typo is told first: it needs no proof of work to find
        solved = verify_pow(challenge, nonce)
        access = open_case_with_receipt(
            db_session(), receipt_settings(), receipt, admit=admit_with_pow(solved)
        )
    except ReceiptError as exc:
        return api_error("invalid_receipt", receipt_error_text(exc), 400)
    except proof_of_work.PowError as exc:
        return _pow_error(exc)
    except UnknownReceiptError:
        return api_error("unknown_receipt", unknown_receipt_text(), 400)
    remember_opened_case(access)
    return jsonify({"status": "opened"}), 200


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
def api_reports() -> tuple[Response, int]:
    """Store a report the browser encrypted. Spends no budget of its own: its ticket,
    single use, paid a proof of work and one unit of the JavaScript budget."""
    form = request.form
    report = _single_part("report")
    attachments = [sink for sink, _n, _t in file_parts("attachment")]
    case_wrap = _read_small(_single_part("case_key_wrap"))
    staff_wrap = _read_small(_single_part("staff_key_wrap"))
    identity_file = _single_part("identity")
    identity_wrap = _read_small(_single_part("identity_key_wrap"))
    try:
        named = parse_track(form.get("track")) is Track.NAMED
    except IdentityError:
        named = False
        identity_mismatch = True
    else:
        # A sealed identity with the anonymous track (or the reverse) is refused whole:
        # never store a named report without its identity, nor an identity unasked.
        identity_mismatch = named != (identity_file is not None or identity_wrap is not None)
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
            *(
                (
                    ("identity", identity_file),
                    ("identity_key_wrap", identity_wrap),
                    ("identity_recipient", form.get("identity_recipient")),
                )
                if named
                else ()
            ),
        )
        if not present
    ]
    if identity_mismatch:
        missing.append("track")
    if missing or report is None or case_wrap is None or staff_wrap is None:
        if report is not None:
            report.blob.discard()
        if identity_file is not None:
            identity_file.blob.discard()
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
            ticket_key=ticket_key(),
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
            identity=(
                BrowserIdentity(
                    identity_file.blob, form.get("identity_recipient", ""), identity_wrap
                )
                if named and identity_file is not None and identity_wrap is not None
                else None
            ),
        )
        unit_of_work.commit(db_session())
    except RecipientsChangedError as exc:
        return api_error(exc.code, submission_error_message(exc), 409)
    except SubmissionError as exc:
        return api_error(exc.code, submission_error_message(exc), 400)
    except StorageError:
        return api_error("storage_unavailable", _("The report cannot be stored right now."), 503)
    return jsonify({"status": "stored"}), 201


def _discard(sinks: list[UploadSink]) -> None:
    for sink in sinks:
        sink.blob.discard()


@blueprint.post("/api/v1/followup/messages")
def api_followup_messages() -> tuple[Response, int]:
    access = reporter_access()
    body = _single_part("message")
    attachments = [sink for sink, _n, _t in file_parts("attachment")]
    uploads = [*attachments, *([body] if body else [])]
    case = db_session().get(Case, access.case_id) if access else None
    if access is None or case is None:
        _discard(uploads)
        return api_error(
            "no_session", _("Please open your report with its receipt code again."), 403
        )
    if body is None:
        _discard(uploads)
        return api_error(
            "missing_fields", _("Missing or invalid fields: %(fields)s", fields="message"), 400
        )
    try:
        solved = verify_pow(request.form.get("pow_challenge"), request.form.get("pow_nonce"))
        store_message = (
            file_request_from_browser
            if is_protection_request(request.form)
            else add_message_from_browser
        )
        store_message(
            db_session(),
            case=case,
            body=body.blob,
            attachments=[sink.blob for sink in attachments],
            max_file_bytes=settings().max_file_bytes,
            notify=settings().smtp is not None,
            admit=admit_with_pow(solved),
        )
        unit_of_work.commit(db_session())
    except proof_of_work.PowError as exc:
        _discard(uploads)
        return _pow_error(exc)
    except InvalidUploadError:
        return api_error(
            "invalid_ciphertext", _("The encrypted message was damaged on the way."), 400
        )
    except MessageError as exc:
        return api_error(exc.code, message_error_text(exc.code), 400)
    except StorageError:
        return api_error("storage_unavailable", _("The message cannot be stored right now."), 503)
    return jsonify({"status": "stored"}), 201
