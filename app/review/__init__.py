"""The reviewers' face: login, inbox, cases, administration. Never imports ``app.intake``."""

from flask import Blueprint

blueprint = Blueprint("review", __name__, template_folder="templates")

from app.review import views  # noqa: E402,F401  (views register on the blueprint)
