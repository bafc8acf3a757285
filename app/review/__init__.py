"""The reviewers' face: login, inbox, cases, administration. Never imports ``app.intake``."""

from flask import Blueprint

blueprint = Blueprint("review", __name__, template_folder="templates")

import app.review.accounts  # noqa: E402,F401  (account views register on the blueprint)
from app.review import views  # noqa: E402,F401  (views register on the blueprint)
