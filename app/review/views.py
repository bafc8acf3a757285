"""The review app's front door: first-run notice, or straight to work."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from app.models import Reviewer
from app.models.vocabulary import Role
from app.review import blueprint
from app.review.auth import current_reviewer
from app.web.db import db_session
from app.web.text import linkify


@blueprint.app_context_processor
def _home() -> dict[str, str]:
    return {"home_endpoint": "review.home"}


@blueprint.app_template_filter("linkify")
def _linkify(text: str) -> object:
    return linkify(text)


@blueprint.get("/")
def home() -> ResponseReturnValue:
    if current_reviewer() is not None:
        return redirect(url_for("review.inbox"))
    has_admin = (
        db_session().scalar(
            select(Reviewer.id).where(Reviewer.role == Role.ADMIN.value, Reviewer.active).limit(1)
        )
        is not None
    )
    if has_admin:
        return redirect(url_for("review.login"))
    return render_template("review/home.html", has_admin=has_admin)
