"""Who is logged in to the review app, and the decorators that require it.

A logged-in session holds ``reviewer_id``, ``identity`` (the reviewer's unwrapped
X25519 private key, ``AGE-SECRET-KEY-1…``) and ``login_at``. Storing the key there is
what DESIGN.md asks for: the session payload is encrypted under a key derived from a
token that exists only in the reviewer's cookie (app.web.sessions), so the sessions
table alone holds nothing usable. The session interface copies ``reviewer_id`` into
``web_sessions.reviewer_id``, which is how an admin action ends a reviewer's sessions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

from flask import abort, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from app import clock
from app.accounts.totp import TotpKey
from app.cases import unit_of_work
from app.cases.access import AccessDenied, Actor, load_actor, readable_case
from app.models import Case, Reviewer
from app.web.context import installation_secrets, settings
from app.web.db import db_session
from config.settings import KdfSettings
from crypto import Identity, KeyFormatError

SESSION_REVIEWER = "reviewer_id"
SESSION_IDENTITY = "identity"
SESSION_LOGIN_AT = "login_at"

P = ParamSpec("P")
R = TypeVar("R")
_MISSING = object()


def totp_key() -> TotpKey:
    return TotpKey.of(installation_secrets())


def password_kdf() -> KdfSettings:
    return settings().password_kdf


def _session_identity() -> Identity | None:
    text = session.get(SESSION_IDENTITY)
    if not isinstance(text, str):
        return None
    try:
        return Identity.parse(text)
    except (KeyFormatError, ValueError):
        return None


def current_reviewer() -> Reviewer | None:
    """The logged-in reviewer, or None (logged out, deactivated, or key replaced).

    The session's key must still match the account's public key: after an admin reset
    a session that somehow survived would hold a key that no longer belongs to them.
    """
    cached = g.get("current_reviewer", _MISSING)
    if cached is not _MISSING:
        return cast("Reviewer | None", cached)
    reviewer: Reviewer | None = None
    reviewer_id = session.get(SESSION_REVIEWER)
    identity = _session_identity()
    if isinstance(reviewer_id, int) and identity is not None:
        found = db_session().get(Reviewer, reviewer_id)
        if found is not None and found.active and found.public_key == str(identity.recipient):
            reviewer = found
    g.current_reviewer = reviewer
    return reviewer


def current_identity() -> Identity | None:
    """The logged-in reviewer's private key (in memory, for this request only)."""
    if current_reviewer() is None:
        return None
    return _session_identity()


def current_actor() -> Actor:
    """The signed-in reviewer as the domain sees them (units, role, key); views behind
    :func:`login_required` only."""
    reviewer = current_reviewer()
    assert reviewer is not None  # login_required ran
    return load_actor(db_session(), reviewer.id, current_identity())


def readable_case_or_404(case_id: str) -> tuple[Actor, Case]:
    """The actor and the case they may read; 404 otherwise, which says nothing of
    whether the case exists."""
    actor = current_actor()
    try:
        return actor, readable_case(db_session(), actor, case_id)
    except AccessDenied:
        abort(404)


def _end_transaction() -> None:
    # A refusal writes nothing; end the request's transaction now, before the session
    # cookie is saved (on SQLite an open write transaction would block that save).
    db = g.get("db_session")
    if db is not None:
        unit_of_work.rollback(db)


def ends_transaction(view: Callable[P, R]) -> Callable[P, R]:
    """End the view's database transaction before it returns (what it did not commit is
    rolled back): the session cookie is saved before the request's database session is
    torn down, and on SQLite an open write transaction would make that save wait for
    the lock it holds itself. Used by the account views, which write the session."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return view(*args, **kwargs)
        finally:
            _end_transaction()

    return wrapper


def _to_login() -> ResponseReturnValue:
    _end_transaction()
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("review.login", next=target) if target else url_for("review.login"))


def forbidden() -> ResponseReturnValue:
    """The 403 page (also for the lead's views: e.g. a case outside the reviewer's units)."""
    _end_transaction()
    return render_template("review/forbidden.html"), 403


def login_required(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
    """Redirect to /login when nobody (or a no-longer-valid account) is logged in."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
        if current_reviewer() is None:
            return _to_login()
        return view(*args, **kwargs)

    return wrapper


def role_required(
    *roles: str,
) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """Logged out: redirect to /login. Logged in with another role: 403 page."""
    allowed = frozenset(str(r) for r in roles)

    def decorator(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
            reviewer = current_reviewer()
            if reviewer is None:
                return _to_login()
            if reviewer.role not in allowed:
                return forbidden()
            return view(*args, **kwargs)

        return wrapper

    return decorator


def template_globals() -> dict[str, Any]:
    """For templates: ``signed_in_reviewer()`` (used by review/_account_nav.html) and
    ``today()`` (the local day, e.g. on a printed case)."""
    return {"signed_in_reviewer": current_reviewer, "today": clock.today}
