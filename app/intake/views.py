"""Intake views: parse, call the domain, render."""

from __future__ import annotations

from flask import render_template

from app.intake import blueprint
from app.models.vocabulary import Category


@blueprint.app_context_processor
def _home() -> dict[str, str]:
    return {"home_endpoint": "intake.landing"}


@blueprint.get("/")
def landing() -> str:
    return render_template("intake/landing.html", categories=list(Category))
