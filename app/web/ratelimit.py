"""Global rate limits, shared by every process, keyed on nothing that identifies anyone.

Why global: the intake must not record IP addresses (promise 2), and over Tor every
reporter shares a handful of exit addresses anyway, so a per-client limit is both
forbidden and useless. The limits here are budgets for the whole service, one per
*scope* ("intake" for submissions, "receipt" for receipt checks, ...): when a flood
exhausts a budget, everyone waits a little, and nothing is learnt about anyone. Browsers
with JavaScript also pay a proof of work (:mod:`app.cases.pow`); this is what protects
the no-JavaScript path and the Argon2id receipt derivations.

Where the counters live
-----------------------
Process memory is not an option: with several app processes each would keep its own
budget. Flask-Limiter (on the ``limits`` package) provides the fixed-window strategy and
Redis/Memcached storages; ``LIEMCHINH_RATELIMIT_STORAGE_URI`` (e.g.
``redis://127.0.0.1:6379/0``) selects one of those. Without it, the counters live in our
own database, in ``rate_limit_counters``, through :class:`DatabaseStorage`, registered
with ``limits`` under the scheme ``liemchinh+db://``.

``limits`` builds a storage from a URI plus keyword "storage options"
(``storage_from_string(uri, **options)``, which Flask-Limiter calls in ``init_app``), so
:class:`DatabaseStorage` receives the application's :class:`~app.database.Database`
object as the ``database`` option rather than a URL: it shares the app's engine, pool
and SQLite pragmas, and needs no second copy of the database credentials. Each increment
is one atomic upsert (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``) in its own
short transaction, committed at once: a hit counts even when the request later fails,
and every process sees it. Rows are keyed by limit and scope, so the table never holds
more than a few rows; an expired row is reset by the next increment, not swept.

How views are limited
---------------------
Decorate a view with :func:`intake_limit` (below its ``@route``). The check runs in a
``before_request`` hook placed first, before CSRF protection reads the form: a refused
request has not had its body parsed, so nothing of it was spooled, encrypted or stored.
``Limiter.limit`` is not used for this: a decorator applied when the blueprint is
imported cannot name the per-application ``Limiter`` (each app, and each test, has its
own database), and it would run only after the form was parsed. The returned
``Limiter`` is still usable directly (its key function is a constant, never an address).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar, cast

import limits
from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import force_locale, gettext
from flask_limiter import Limiter
from limits.errors import ConfigurationError
from limits.storage import Storage
from sqlalchemy import CursorResult, case, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import TooManyRequests

from app.database import READ_ONLY_OPTION, Database
from app.models import RateLimitCounter, utcnow
from app.web.i18n import LANGUAGES, select_locale
from config import ConfigError, Settings

DATABASE_SCHEME = "liemchinh+db"
GLOBAL_KEY = "global"  # what Flask-Limiter's key_func returns: the same for everyone
DEFAULT_SCOPE = "intake"
_EXTENSION = "liemchinh.ratelimit"
_MARK = "_liemchinh_rate_scopes"
_KEY_COLUMN_LENGTH = 200

F = TypeVar("F", bound=Callable[..., Any])


# -- storage -------------------------------------------------------------------------------


class DatabaseStorage(Storage):
    """Fixed-window counters in ``rate_limit_counters``; see the module docstring."""

    STORAGE_SCHEME = [DATABASE_SCHEME]  # noqa: RUF012 (limits reads the class attribute)

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any
    ) -> None:
        database = options.pop("database", None)
        if not isinstance(database, Database):
            raise ConfigurationError(
                f"{DATABASE_SCHEME}:// needs the application's Database as storage option "
                "'database'"
            )
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.database = database
        # Reads take no write lock on SQLite (see app.database).
        self._reader = database.engine.execution_options(**{READ_ONLY_OPTION: True})

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    @staticmethod
    def _key(key: str) -> str:
        # Keys are built from limit strings and scope names; hash the rare long one
        # rather than fail on the column width.
        if len(key) <= _KEY_COLUMN_LENGTH:
            return key
        return "sha256:" + hashlib.sha256(key.encode()).hexdigest()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = utcnow()
        engine = self.database.engine
        insert_fn = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        insert = insert_fn(RateLimitCounter).values(
            key=self._key(key), count=amount, expires_at=now + timedelta(seconds=expiry)
        )
        expired = RateLimitCounter.expires_at <= now
        # One statement: the row lock (PostgreSQL) or the single writer (SQLite) makes
        # concurrent increments from any number of processes add up exactly. SET sees
        # the old row, so an expired window restarts at `amount` with a new expiry.
        upsert = insert.on_conflict_do_update(
            index_elements=[RateLimitCounter.key],
            set_={
                "count": case(
                    (expired, insert.excluded.count),
                    else_=RateLimitCounter.count + insert.excluded.count,
                ),
                "expires_at": case(
                    (expired, insert.excluded.expires_at), else_=RateLimitCounter.expires_at
                ),
            },
        )
        stmt = upsert.returning(RateLimitCounter.count)
        with engine.begin() as conn:
            return int(conn.execute(stmt).scalar_one())

    def get(self, key: str) -> int:
        with self._reader.connect() as conn:
            count = conn.execute(
                select(RateLimitCounter.count).where(
                    RateLimitCounter.key == self._key(key), RateLimitCounter.expires_at > utcnow()
                )
            ).scalar_one_or_none()
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        with self._reader.connect() as conn:
            expires_at = conn.execute(
                select(RateLimitCounter.expires_at).where(
                    RateLimitCounter.key == self._key(key), RateLimitCounter.expires_at > utcnow()
                )
            ).scalar_one_or_none()
        return expires_at.timestamp() if expires_at is not None else time.time()

    def check(self) -> bool:
        try:
            with self._reader.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.database.engine.begin() as conn:
            result = cast(CursorResult[tuple[()]], conn.execute(delete(RateLimitCounter)))
            return int(result.rowcount)

    def clear(self, key: str) -> None:
        with self.database.engine.begin() as conn:
            conn.execute(delete(RateLimitCounter).where(RateLimitCounter.key == self._key(key)))


# -- views ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Budget:
    scope: str
    item: limits.RateLimitItem | None  # None: the installation's LIEMCHINH_INTAKE_RATE_LIMIT


@dataclass(frozen=True)
class RateLimits:
    """What :func:`init_rate_limits` stores on the app."""

    limiter: Limiter
    default_item: limits.RateLimitItem

    def hit(self, scope: str, item: limits.RateLimitItem | None = None) -> bool:
        """Spend one unit of ``scope``'s global budget; False when it is exhausted."""
        return self.limiter.limiter.hit(item or self.default_item, GLOBAL_KEY, scope)

    def seconds_to_reset(self, scope: str, item: limits.RateLimitItem | None = None) -> int:
        stats = self.limiter.limiter.get_window_stats(item or self.default_item, GLOBAL_KEY, scope)
        return max(1, int(stats.reset_time - time.time()) + 1)


class ServiceBusy(TooManyRequests):
    """A global budget is exhausted (HTTP 429). Says which scope, never who asked."""

    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__()
        self.scope = scope
        self.retry_after = retry_after


def intake_limit(scope: str = DEFAULT_SCOPE, limit: str | None = None) -> Callable[[F], F]:
    """Put a view under ``scope``'s global budget (apply it below ``@route``).

    Every view with the same scope draws on one budget, across all processes; different
    scopes ("intake", "receipt") have separate budgets. ``limit`` (e.g. "10 per minute")
    overrides the installation's ``LIEMCHINH_INTAKE_RATE_LIMIT`` for this scope.
    """
    if not scope or "/" in scope:
        raise ValueError("a rate-limit scope is a non-empty name without '/'")
    try:
        item = limits.parse(limit) if limit is not None else None
    except ValueError as exc:
        raise ValueError(f"bad rate limit {limit!r}: {exc}") from None
    budget = _Budget(scope, item)

    def mark(view: F) -> F:
        # An attribute, not a wrapper: functools.wraps copies it through other decorators,
        # and the check itself runs in the before_request hook of init_rate_limits.
        setattr(view, _MARK, (*getattr(view, _MARK, ()), budget))
        return view

    return mark


def get_rate_limits(app: Flask | None = None) -> RateLimits:
    state: RateLimits = (app or current_app).extensions[_EXTENSION]
    return state


def _storage_uri(settings: Settings) -> str:
    uri = settings.ratelimit_storage_uri
    if uri is None:
        return f"{DATABASE_SCHEME}://"
    if uri.split(":", 1)[0] in ("memory", "async+memory"):
        raise ConfigError(
            "LIEMCHINH_RATELIMIT_STORAGE_URI must be shared by all processes (redis://...); "
            "in-memory counters would give each process its own budget"
        )
    return uri


def _busy_response(error: TooManyRequests) -> Response:
    chosen = request.args.get("lang")
    # The ?lang= link may not have been remembered yet: the limit runs before i18n's hook.
    locale = chosen if chosen in LANGUAGES else select_locale()
    with force_locale(locale):
        title = gettext("Too many requests right now")
        message = gettext(
            "The service is busy. Nothing was stored. Please try again in a few minutes."
        )
        if request.path.startswith("/api/"):
            response = jsonify(error="busy", message=message)
        else:
            response = Response(
                render_template(
                    "busy.html", title=title, message=message, current_language=lambda: locale
                ),
                mimetype="text/html",
            )
    response.status_code = 429
    if isinstance(error, ServiceBusy):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def init_rate_limits(app: Flask, database: Database, settings: Settings) -> Limiter:
    """Set up the global limits for ``app``; call once, before the first request."""
    try:
        default_item = limits.parse(settings.intake_rate_limit)
    except ValueError:
        raise ConfigError(
            "LIEMCHINH_INTAKE_RATE_LIMIT must look like '60 per minute', "
            f"got {settings.intake_rate_limit!r}"
        ) from None
    uri = _storage_uri(settings)
    options: dict[str, Any] = {"database": database} if uri.startswith(DATABASE_SCHEME) else {}
    limiter = Limiter(
        key_func=lambda: GLOBAL_KEY,  # never get_remote_address
        storage_uri=uri,
        storage_options=options,
        strategy="fixed-window",
        headers_enabled=False,
        # A per-process fallback would quietly multiply the budget by the process count.
        in_memory_fallback_enabled=False,
    )
    try:
        limiter.init_app(app)
    except ConfigurationError as exc:  # e.g. redis:// without the redis package
        raise ConfigError(f"LIEMCHINH_RATELIMIT_STORAGE_URI cannot be used: {exc}") from exc
    state = RateLimits(limiter=limiter, default_item=default_item)
    app.extensions[_EXTENSION] = state

    def enforce() -> None:
        if not limiter.enabled or request.endpoint is None:
            return
        view = app.view_functions.get(request.endpoint)
        for budget in getattr(view, _MARK, ()):
            if not state.hit(budget.scope, budget.item):
                # Not logged: a timestamped line per refusal could be joined with network
                # logs. Operators see a flood in rate_limit_counters (or Redis) instead.
                raise ServiceBusy(budget.scope, state.seconds_to_reset(budget.scope, budget.item))

    # First among the before_request hooks: before CSRFProtect reads (and spools) the form.
    app.before_request_funcs.setdefault(None, []).insert(0, enforce)
    app.register_error_handler(429, _busy_response)
    return limiter
