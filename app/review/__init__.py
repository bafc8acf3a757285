"""The reviewers' face: login, inbox, cases, administration. Never imports ``app.intake``."""

from flask import Blueprint

blueprint = Blueprint("review", __name__, template_folder="templates")

# Views register on the blueprint when imported.
from app.review import (  # noqa: E402,F401
    admin,
    admin_custodians,
    admin_reviewers,
    approvals,
    audit_display,
    case_file,
    cases,
    dashboard,
    desk,
    enrolment,
    errors,
    identity,
    inbox,
    login,
    notifications,
    password,
    statutory,
    views,
)
