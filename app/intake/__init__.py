"""The reporters' face: landing, report form, follow-up, JSON API. Never imports
``app.review``."""

from flask import Blueprint

blueprint = Blueprint("intake", __name__, template_folder="templates")

from app.intake import (  # noqa: E402,F401  (routes register here)
    api,
    errors,
    exit,
    followup,
    language,
    receipt,
    scrub_texts,
    statistics,
    views,
)
