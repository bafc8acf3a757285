"""Review views: parse, call the domain, render."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from app.models import Reviewer
from app.models.vocabulary import Role
from app.review import blueprint
from app.web.db import db_session


@blueprint.app_context_processor
def _home() -> dict[str, str]:
    return {"home_endpoint": "review.home"}


@blueprint.get("/")
def home() -> str:
    has_admin = (
        db_session().scalar(
            select(Reviewer.id).where(Reviewer.role == Role.ADMIN.value, Reviewer.active).limit(1)
        )
        is not None
    )
    return render_template("review/home.html", has_admin=has_admin)
