"""Global request budgets, shared by every process, keyed on nothing that identifies anyone.

Why global: the intake must not record IP addresses (promise 2), and over Tor every
reporter shares a handful of exit addresses anyway, so a per-client limit is both
forbidden and useless. The limits here are budgets for the whole service: when a flood
exhausts one, everyone using that way in waits a little, and nothing is learnt about
anyone.

Three budgets, so that a flood through one way in cannot close another (:class:`Budget`,
sizes in ``config.settings.IntakeBudgets``):

- ``javascript``: tickets, browser-encrypted reports, opening a case and sending a
  message from the follow-up page with JavaScript. Each of these requests carries a
  solved, single-use proof of work (:mod:`app.cases.pow`) or a ticket bought with one,
  so a flood here costs its sender CPU per unit of budget;
- ``forms``: the no-JavaScript report and message forms, which cannot pay a proof of
  work (Tor Browser at "Safest");
- ``receipts``: receipt checks of the no-JavaScript follow-up form (one Argon2id each).

When a budget is spent
----------------------
Only once a request has passed every cheap check: CSRF token, one-time form token,
receipt check digit, proof of work, well-formed input. A request refused by such a
check never spends anything, so a loop of junk requests cannot lock reporters out.
Views call :func:`spend_budget` themselves (usually through the ``admit`` hook of a
domain function, which runs after the domain's own checks and before any expensive
work or write). By then the body was parsed: uploads were already encrypted into the
blob store as they streamed in, and a refused request's uploads are discarded (the
domain does it, and the upload teardown in any case); nothing is stored.

Where the counters live
-----------------------
Never in the main database: a fixed-window counter holds the exact end of its window,
a time of day of reporter activity that would reach the WAL and every backup.
``LIEMCHINH_RATELIMIT_STORAGE_URI`` (e.g. ``redis://127.0.0.1:6379/0``) selects a Redis
storage of the ``limits`` package (Flask-Limiter's backend); that Redis must not persist
(``save ""``, ``appendonly no``). Without it, the counters live in a small SQLite file in
the volatile folder (:mod:`app.web.volatile`, memory-backed, per installation), through
:class:`VolatileStorage`: shared by every process of one machine, gone at reboot.
Several machines need the Redis.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import limits
from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import force_locale, gettext
from flask_limiter import Limiter
from limits.errors import ConfigurationError
from limits.storage import Storage
from werkzeug.exceptions import TooManyRequests

from app.web.i18n import LANGUAGES, select_locale
from app.web.volatile import prepare_volatile_folder
from config import ConfigError, Settings

VOLATILE_SCHEME = "liemchinh+volatile"
COUNTERS_FILE = "ratelimit.sqlite3"
GLOBAL_KEY = "global"  # what Flask-Limiter's key_func returns: the same for everyone
_EXTENSION = "liemchinh.ratelimit"
_BUSY_TIMEOUT_SECONDS = 10.0


class Budget(StrEnum):
    """The intake's separate global budgets (see the module docstring)."""

    JAVASCRIPT = "javascript"
    FORMS = "forms"
    RECEIPTS = "receipts"

    @property
    def variable(self) -> str:
        """The setting that sizes this budget."""
        return f"LIEMCHINH_RATE_LIMIT_{self.name}"


# -- storage -------------------------------------------------------------------------------


class VolatileStorage(Storage):
    """Fixed-window counters in a SQLite file on a memory-backed file system.

    ``limits`` has in-memory storage (per process: each gunicorn worker would have its
    own budget) and network ones (Redis, Memcached, MongoDB); nothing for "every process
    of this machine, in RAM", hence this small class. The URI names the file:
    ``liemchinh+volatile:///dev/shm/liemchinh-…/ratelimit.sqlite3``.

    Each increment is one atomic upsert in its own transaction (SQLite serialises
    writers across processes), so concurrent hits from any number of processes add up
    exactly. Rows are keyed by limit and budget, so the table never holds more than a
    few rows; an expired row is reset by the next increment. The file is opened per
    call: a connection is never shared across threads or a fork.
    """

    STORAGE_SCHEME = [VOLATILE_SCHEME]  # noqa: RUF012 (limits reads the class attribute)

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any
    ) -> None:
        location = (uri or "").split("://", 1)[-1]
        if not location.startswith("/"):
            raise ConfigurationError(
                f"{VOLATILE_SCHEME}:// needs an absolute file path, e.g. "
                f"{VOLATILE_SCHEME}:///dev/shm/liemchinh/{COUNTERS_FILE}"
            )
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = Path(location)
        with self._connect() as conn:
            # WAL lets readers and the writer of different processes overlap; durability
            # is not wanted (the file is in RAM and meant to vanish).
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS counters ("
                " key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL"
                ") WITHOUT ROWID"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous=OFF")
            yield conn
        finally:
            conn.close()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    @staticmethod
    def _key(key: str) -> str:
        # Keys are built from limit strings and budget names; keep them short anyway.
        return key if len(key) <= 200 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        # One statement. SQLite evaluates every SET expression against the old row, so
        # an expired window restarts at `amount` with a new expiry.
        with self._connect() as conn:
            row = conn.execute(
                "INSERT INTO counters (key, count, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET "
                " count = CASE WHEN counters.expires_at <= ? THEN excluded.count"
                "              ELSE counters.count + excluded.count END,"
                " expires_at = CASE WHEN counters.expires_at <= ? THEN excluded.expires_at"
                "                   ELSE counters.expires_at END "
                "RETURNING count",
                (self._key(key), amount, now + expiry, now, now),
            ).fetchone()
        return int(row[0])

    def _live(self, key: str) -> tuple[int, float] | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT count, expires_at FROM counters WHERE key = ? AND expires_at > ?",
                (self._key(key), time.time()),
            ).fetchone()
        return (int(row[0]), float(row[1])) if row else None

    def get(self, key: str) -> int:
        live = self._live(key)
        return live[0] if live else 0

    def get_expiry(self, key: str) -> float:
        live = self._live(key)
        return live[1] if live else time.time()

    def check(self) -> bool:
        try:
            with self._connect() as conn:
                conn.execute("SELECT 1 FROM counters LIMIT 1")
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        with self._connect() as conn:
            return int(conn.execute("DELETE FROM counters").rowcount)

    def clear(self, key: str) -> None:
        with self._connect() as conn:
            conn.execute("DELETE FROM counters WHERE key = ?", (self._key(key),))


# -- budgets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimits:
    """What :func:`init_rate_limits` stores on the app."""

    limiter: Limiter
    items: dict[Budget, limits.RateLimitItem]

    def hit(self, budget: Budget) -> bool:
        """Spend one unit of ``budget``; False when it is exhausted."""
        return self.limiter.limiter.hit(self.items[budget], GLOBAL_KEY, budget.value)

    def seconds_to_reset(self, budget: Budget) -> int:
        stats = self.limiter.limiter.get_window_stats(self.items[budget], GLOBAL_KEY, budget.value)
        return max(1, int(stats.reset_time - time.time()) + 1)


class ServiceBusy(TooManyRequests):
    """A global budget is exhausted (HTTP 429). Says which budget, never who asked."""

    def __init__(self, budget: Budget, retry_after: int) -> None:
        super().__init__()
        self.budget = budget
        self.retry_after = retry_after


def get_rate_limits(app: Flask | None = None) -> RateLimits:
    state: RateLimits = (app or current_app).extensions[_EXTENSION]
    return state


def spend_budget(budget: Budget) -> None:
    """Spend one unit of ``budget`` for this request, or raise :class:`ServiceBusy`.

    Call it only after every cheap check of the request passed (module docstring).
    """
    state = get_rate_limits()
    if not state.limiter.enabled:
        return
    if not state.hit(budget):
        # Not logged: a timestamped line per refusal could be joined with network logs.
        raise ServiceBusy(budget, state.seconds_to_reset(budget))


def _storage_uri(settings: Settings) -> str:
    uri = settings.ratelimit_storage_uri
    if uri is None:
        folder = prepare_volatile_folder(settings.volatile_path)
        return f"{VOLATILE_SCHEME}://{folder / COUNTERS_FILE}"
    if uri.split(":", 1)[0] in ("memory", "async+memory"):
        raise ConfigError(
            "LIEMCHINH_RATELIMIT_STORAGE_URI must be shared by all processes (redis://...); "
            "in-memory counters would give each process its own budget"
        )
    return uri


def _items(settings: Settings) -> dict[Budget, limits.RateLimitItem]:
    sizes = {
        Budget.JAVASCRIPT: settings.intake_budgets.javascript,
        Budget.FORMS: settings.intake_budgets.forms,
        Budget.RECEIPTS: settings.intake_budgets.receipts,
    }
    items = {}
    for budget, text in sizes.items():
        try:
            items[budget] = limits.parse(text)
        except ValueError:
            raise ConfigError(
                f"{budget.variable} (or LIEMCHINH_INTAKE_RATE_LIMIT, its default) must look "
                f"like '60 per minute', got {text!r}"
            ) from None
    return items


def _busy_response(error: TooManyRequests) -> Response:
    chosen = request.args.get("lang")
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


def init_rate_limits(app: Flask, settings: Settings) -> Limiter:
    """Set up the global budgets for ``app``; call once, before the first request."""
    items = _items(settings)
    uri = _storage_uri(settings)
    limiter = Limiter(
        key_func=lambda: GLOBAL_KEY,  # never get_remote_address
        storage_uri=uri,
        strategy="fixed-window",
        headers_enabled=False,
        # A per-process fallback would quietly multiply the budget by the process count.
        in_memory_fallback_enabled=False,
    )
    try:
        limiter.init_app(app)
    except ConfigurationError as exc:  # e.g. redis:// without the redis package
        raise ConfigError(f"LIEMCHINH_RATELIMIT_STORAGE_URI cannot be used: {exc}") from exc
    app.extensions[_EXTENSION] = RateLimits(limiter=limiter, items=items)
    app.register_error_handler(429, _busy_response)
    return limiter
