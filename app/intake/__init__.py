"""The reporters' face: landing, report form, follow-up. Never imports ``app.review``."""

from flask import Blueprint

blueprint = Blueprint("intake", __name__, template_folder="templates")

from app.intake import views  # noqa: E402,F401  (views register on the blueprint)
