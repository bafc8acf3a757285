"""Language choice: an explicit ``?lang=`` link (remembered in the session), else the
browser's Accept-Language, else Vietnamese. No cookie other than the session is set."""

from __future__ import annotations

from datetime import date

from flask import Flask, request, session
from flask_babel import Babel, get_locale, refresh

from app.web.dates import format_day

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


def select_locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)


def choose_language(lang: str) -> bool:
    """Switch this session (and the page being rendered) to ``lang``; False if unknown."""
    if lang not in LANGUAGES:
        return False
    if session.get("lang") != lang:
        session["lang"] = lang
    refresh()  # Flask-Babel caches the request's locale: render in the new one
    return True


def day_filter(day: date | None) -> str:
    """``{{ case.created_day|day }}``: the day in the page's language (app.web.dates)."""
    return format_day(day, get_locale() or DEFAULT_LANGUAGE)


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = "translations"
    Babel(app, locale_selector=select_locale)
    app.add_template_filter(day_filter, "day")

    @app.before_request
    def _remember_language() -> None:
        lang = request.args.get("lang")
        if lang in LANGUAGES and session.get("lang") != lang:
            session["lang"] = lang

    @app.context_processor
    def _languages() -> dict[str, object]:
        return {"languages": LANGUAGES, "current_language": select_locale}
