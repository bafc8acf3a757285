"""Language choice: an explicit ``?lang=`` link (remembered in the session), else
Vietnamese. No cookie other than the session is set.

Only the review app also follows the browser's Accept-Language. The intake does not: Tor
Browser sends "en-US, en" from every computer (so that the header identifies nobody), and
a Vietnamese reporter using it would otherwise land on an English site. On the intake,
English is a visible choice the visitor makes."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app, request, session
from flask_babel import Babel, get_locale, refresh

from app.web.dates import format_day, format_hour, format_moment

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
FOLLOWS_BROWSER_KEY = "I18N_FOLLOWS_ACCEPT_LANGUAGE"


def select_locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    if not current_app.config.get(FOLLOWS_BROWSER_KEY, False):
        return DEFAULT_LANGUAGE
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


def moment_filter(at: datetime | None) -> str:
    """``{{ note.created_at|moment }}``: a staff action's local date and time."""
    return format_moment(at, get_locale() or DEFAULT_LANGUAGE)


def hour_filter(at: datetime) -> str:
    """``{{ run.last.at|hour }}``: its local hour and minute."""
    return format_hour(at, get_locale() or DEFAULT_LANGUAGE)


def init_i18n(app: Flask, *, follow_browser: bool) -> None:
    """``follow_browser``: whether Accept-Language may choose the language (review only)."""
    app.config[FOLLOWS_BROWSER_KEY] = follow_browser
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = "translations"
    Babel(app, locale_selector=select_locale)
    app.add_template_filter(day_filter, "day")
    app.add_template_filter(moment_filter, "moment")
    app.add_template_filter(hour_filter, "hour")

    @app.before_request
    def _remember_language() -> None:
        lang = request.args.get("lang")
        if lang in LANGUAGES and session.get("lang") != lang:
            session["lang"] = lang

    @app.context_processor
    def _languages() -> dict[str, object]:
        return {"languages": LANGUAGES, "current_language": select_locale}
