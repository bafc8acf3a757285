"""Error pages for staff, in their language, inside the app's layout."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.review import blueprint


def _page(message: str, status: int) -> Any:
    return render_template("review/error.html", message=message, status=status), status


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
def _not_allowed(_exc: HTTPException) -> Any:
    return _page(_("This page cannot be used this way."), 405)


@blueprint.app_errorhandler(500)
def _server_error(_exc: Exception) -> Any:
    return _page(_("Something went wrong on our side. Nothing was changed."), 500)
