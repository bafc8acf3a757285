"""Error pages for staff, in their language, inside the app's layout."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from app.review import blueprint
from app.web.downloads import UnreadableDownload
from app.web.request_body import MalformedRequestBody


def _page(message: str, status: int, headers: dict[str, str] | None = None) -> Any:
    page = render_template("review/error.html", message=message, status=status)
    return page, status, headers or {}


@blueprint.app_errorhandler(CSRFError)
def _csrf(_exc: CSRFError) -> Any:
    return _page(
        _(
            "The form was open too long or was sent twice (CSRF check). Nothing was changed. "
            "Please reload the page and try again."
        ),
        400,
    )


@blueprint.app_errorhandler(404)
def _not_found(_exc: HTTPException) -> Any:
    return _page(_("This page does not exist, or you may not see it."), 404)


@blueprint.app_errorhandler(405)
def _not_allowed(exc: HTTPException) -> Any:
    # RFC 9110: a 405 must say which methods the resource does allow.
    allowed = exc.valid_methods if isinstance(exc, MethodNotAllowed) else None
    return _page(
        _("This page cannot be used this way."),
        405,
        {"Allow": ", ".join(allowed)} if allowed else None,
    )


@blueprint.app_errorhandler(MalformedRequestBody)
def _malformed_body(_exc: MalformedRequestBody) -> Any:
    return _page(
        _(
            "What your browser sent could not be read (it was damaged or cut off). "
            "Nothing was changed. Please send the form again."
        ),
        400,
    )


@blueprint.app_errorhandler(413)
def _too_large(_exc: HTTPException) -> Any:
    # Only the desk takes files (app/review/desk_uploads.py), within the intake's limits.
    return _page(
        _(
            "The files are too many or too large. Nothing was saved. Please send the form "
            "again with fewer or smaller files."
        ),
        413,
    )


@blueprint.app_errorhandler(UnreadableDownload)
def _unreadable_download(_exc: UnreadableDownload) -> Any:
    return _page(
        _(
            "This file cannot be read: it is damaged or was not encrypted to this case's "
            "key. Nothing was downloaded."
        ),
        500,
    )


def server_error_message() -> str:
    return str(_("Something went wrong on our side. Nothing was changed."))


def server_error_page() -> str:
    """The 500 page, also rendered in advance for app.web.server_errors."""
    return render_template("review/error.html", message=server_error_message(), status=500)


@blueprint.app_errorhandler(500)
def _server_error(_exc: Exception) -> Any:
    return _page(server_error_message(), 500)
