"""Error pages for reporters: a clear sentence in their language, and the assurance that
nothing was stored. API paths get JSON instead."""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app.intake import blueprint
from app.intake.uploads import TooManyFiles, UploadStorageFailed


def _respond(code: str, message: str, status: int) -> Any:
    if request.path.startswith("/api/"):
        return jsonify({"error": code, "message": message}), status
    return render_template("intake/error.html", message=message, status=status), status


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
def _not_allowed(_exc: HTTPException) -> Any:
    return _respond("method_not_allowed", _("This page cannot be used this way."), 405)


@blueprint.app_errorhandler(500)
def _server_error(_exc: Exception) -> Any:
    return _respond(
        "server_error",
        _(
            "Something went wrong on our side. If no receipt code was shown to you, "
            "please send your report again in a few minutes."
        ),
        500,
    )
