"""Error pages for reporters: a clear sentence in their language, and the assurance that
nothing was stored. API paths get JSON instead."""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from app.intake import blueprint
from app.intake.uploads import FilePartWithoutName, TooManyFiles, UploadStorageFailed
from app.web.downloads import UnreadableDownload
from app.web.request_body import MalformedRequestBody


def _respond(code: str, message: str, status: int, headers: dict[str, str] | None = None) -> Any:
    if request.path.startswith("/api/"):
        return jsonify({"error": code, "message": message}), status, headers or {}
    page = render_template("intake/error.html", message=message, status=status)
    return page, status, headers or {}


@blueprint.app_errorhandler(CSRFError)
def _csrf(_exc: CSRFError) -> Any:
    return _respond(
        "csrf",
        _(
            "This page was open too long or was sent twice. Nothing was stored. "
            "Please go back, reload the page and send it again."
        ),
        400,
    )


@blueprint.app_errorhandler(UploadStorageFailed)
def _storage_failed(_exc: UploadStorageFailed) -> Any:
    return _respond(
        "storage_unavailable",
        _(
            "The service cannot store reports right now. Nothing was saved. "
            "Please try again in a few minutes."
        ),
        503,
    )


@blueprint.app_errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> Any:
    if isinstance(exc, TooManyFiles):
        return _respond(
            "too_many_files", _("Too many files. Nothing was stored; please attach fewer."), 413
        )
    return _respond(
        "too_large",
        _("A file or the whole report is too large. Nothing was stored; please send less."),
        413,
    )


@blueprint.app_errorhandler(404)
def _not_found(_exc: HTTPException) -> Any:
    return _respond("not_found", _("This page does not exist."), 404)


@blueprint.app_errorhandler(405)
def _not_allowed(exc: HTTPException) -> Any:
    # RFC 9110: a 405 must say which methods the resource does allow.
    allowed = exc.valid_methods if isinstance(exc, MethodNotAllowed) else None
    return _respond(
        "method_not_allowed",
        _("This page cannot be used this way."),
        405,
        {"Allow": ", ".join(allowed)} if allowed else None,
    )


@blueprint.app_errorhandler(MalformedRequestBody)
def _malformed_body(_exc: MalformedRequestBody) -> Any:
    return _respond(
        "malformed_request",
        _(
            "What your browser sent could not be read (the upload was damaged or cut "
            "off). Nothing was stored. Please send the form again."
        ),
        400,
    )


@blueprint.app_errorhandler(FilePartWithoutName)
def _file_part_without_name(_exc: FilePartWithoutName) -> Any:
    return _respond(
        "unreadable_file_name",
        _(
            "The name of an attached file could not be read, so nothing was stored. "
            "Please rename the file (letters, digits and spaces only) and send the "
            "form again."
        ),
        400,
    )


@blueprint.app_errorhandler(UnreadableDownload)
def _unreadable_download(_exc: UnreadableDownload) -> Any:
    return _respond(
        "unreadable_file",
        _("This file cannot be read. You can send it again with a message."),
        500,
    )


def server_error_message() -> str:
    return str(
        _(
            "Something went wrong on our side. If no receipt code was shown to you, "
            "please send your report again in a few minutes."
        )
    )


def server_error_page() -> str:
    """The 500 page, also rendered in advance for app.web.server_errors."""
    return render_template("intake/error.html", message=server_error_message(), status=500)


@blueprint.app_errorhandler(500)
def _server_error(_exc: Exception) -> Any:
    return _respond("server_error", server_error_message(), 500)
