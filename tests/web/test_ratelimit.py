"""Global budgets: one per way in for the whole service, whatever the address, counted
outside the main database (a memory-backed SQLite file, or Redis)."""

from __future__ import annotations

import importlib.util
import multiprocessing
import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from flask import Flask, request
from flask_babel import force_locale, gettext
from sqlalchemy import inspect

from app.database import Database
from app.factory import create_intake_app
from app.web.ratelimit import (
    COUNTERS_FILE,
    Budget,
    VolatileStorage,
    get_rate_limits,
    spend_budget,
)
from app.web.volatile import is_memory_backed
from config import ConfigError, Settings, load_settings

# Every test of an app runs on both databases: the counters must reach neither.

LIMIT = 3
MARKER_ADDRESS = "203.0.113.77"  # TEST-NET-3: distinctive, and nobody's real address
TITLE_MSGID = "Too many requests right now"
MESSAGE_MSGID = "The service is busy. Nothing was stored. Please try again in a few minutes."
REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "LIEMCHINH_INTAKE_RATE_LIMIT": f"{LIMIT} per minute"}


def _make_app(settings: Settings, database: Database, seen: list[str] | None = None) -> Flask:
    """An intake app (create_intake_app wires the budgets) with a few test routes that
    spend a budget the way the intake's views do: explicitly."""
    app = create_intake_app(settings, database)
    app.testing = True

    def spending(budget: Budget, answer: object) -> object:
        def view() -> object:
            if seen is not None:
                seen.append(str(request.environ.get("REMOTE_ADDR")))
                seen.append(str(request.headers.get("X-Forwarded-For")))
            spend_budget(budget)
            return answer

        return view

    app.add_url_rule("/forms", "forms", spending(Budget.FORMS, "ok"))
    app.add_url_rule("/forms-too", "forms_too", spending(Budget.FORMS, "ok too"))
    app.add_url_rule("/receipt", "receipt", spending(Budget.RECEIPTS, "receipt"))
    app.add_url_rule("/api/js", "api_js", spending(Budget.JAVASCRIPT, {"ok": "yes"}))
    app.add_url_rule("/free", "free", lambda: "free")
    return app


@pytest.fixture
def app(settings: Settings, database: Database) -> Flask:
    return _make_app(settings, database)


def _exhaust(app: Flask, path: str = "/forms") -> None:
    client = app.test_client()
    for _ in range(LIMIT):
        assert client.get(path).status_code == 200


def _counters(settings: Settings) -> list[tuple[str, int]]:
    with sqlite3.connect(settings.volatile_path / COUNTERS_FILE) as conn:
        return [(k, c) for k, c in conn.execute("SELECT key, count FROM counters ORDER BY key")]


def _expire_windows(settings: Settings) -> None:
    """The minute has passed (for every counter)."""
    with sqlite3.connect(settings.volatile_path / COUNTERS_FILE) as conn:
        conn.execute("UPDATE counters SET expires_at = ?", (time.time() - 1,))


@pytest.mark.both_backends
def test_limit_trips_with_a_vietnamese_page(app: Flask, settings: Settings) -> None:
    _exhaust(app)
    response = app.test_client().get("/forms")
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["Cache-Control"] == "no-store"  # security baseline still applies
    assert "X-RateLimit-Limit" not in response.headers
    assert _counters(settings) == [("LIMITER/global/forms/3/1/minute", LIMIT + 1)]
    with app.test_request_context(), force_locale("vi"):
        vi_title = gettext(TITLE_MSGID)
        vi_message = gettext(MESSAGE_MSGID)
    assert vi_title != TITLE_MSGID
    assert vi_title in html and vi_message in html
    assert TITLE_MSGID not in html


@pytest.mark.both_backends
def test_limit_trips_with_an_english_page(app: Flask) -> None:
    _exhaust(app)
    response = app.test_client().get("/forms?lang=en")
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Too many requests right now" in html
    assert "Nothing was stored. Please try again in a few minutes." in html


@pytest.mark.both_backends
def test_api_gets_json(app: Flask) -> None:
    _exhaust(app, "/api/js")
    response = app.test_client().get("/api/js?lang=en")
    assert response.status_code == 429
    assert response.json == {
        "error": "busy",
        "message": "The service is busy. Nothing was stored. Please try again in a few minutes.",
    }


@pytest.mark.both_backends
def test_views_of_one_budget_share_it(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/forms").status_code == 200
    assert client.get("/forms-too").status_code == 200
    assert client.get("/forms").status_code == 200
    assert client.get("/forms-too").status_code == 429
    assert client.get("/forms").status_code == 429


@pytest.mark.both_backends
def test_budgets_are_separate_and_views_that_spend_nothing_are_free(app: Flask) -> None:
    _exhaust(app, "/forms")
    client = app.test_client()
    assert client.get("/forms").status_code == 429
    for path in ("/receipt", "/api/js"):
        for _ in range(LIMIT):
            assert client.get(path).status_code == 200
        assert client.get(path).status_code == 429
    for _ in range(LIMIT * 3):
        assert client.get("/free").status_code == 200


@pytest.mark.both_backends
def test_two_apps_of_one_machine_share_one_budget(settings: Settings, database: Database) -> None:
    second_database = Database(settings.database_url)  # another process: its own engine
    try:
        first = _make_app(settings, database).test_client()
        second = _make_app(load_settings_like(settings), second_database).test_client()
        assert first.get("/forms").status_code == 200
        assert second.get("/forms").status_code == 200
        assert first.get("/forms").status_code == 200
        assert second.get("/forms").status_code == 429
        assert first.get("/forms").status_code == 429
    finally:
        second_database.dispose()


def load_settings_like(settings: Settings) -> Settings:
    """The same installation as read by another process (its own Settings object)."""
    return load_settings(
        {
            "LIEMCHINH_INSTANCE_PATH": str(settings.instance_path),
            "LIEMCHINH_DATABASE_URL": settings.database_url,
            "LIEMCHINH_INTAKE_RATE_LIMIT": settings.intake_rate_limit,
            "LIEMCHINH_VOLATILE_PATH": str(settings.volatile_path),
        }
    )


@pytest.mark.both_backends
def test_window_resets(app: Flask, settings: Settings) -> None:
    _exhaust(app)
    client = app.test_client()
    assert client.get("/forms").status_code == 429
    _expire_windows(settings)
    for _ in range(LIMIT):
        assert client.get("/forms").status_code == 200
    assert client.get("/forms").status_code == 429
    [(_, count)] = _counters(settings)
    assert count == LIMIT + 1  # the window restarted at 1, not at the old count


def test_short_window_resets_in_real_time(env: dict[str, str], database: Database) -> None:
    settings = load_settings({**env, "LIEMCHINH_INTAKE_RATE_LIMIT": "2 per 1 second"})
    client = _make_app(settings, database).test_client()
    deadline = time.monotonic() + 10
    while True:  # the two hits and the refusal must fall in one window; retry if not
        window_start = time.monotonic()
        codes = [client.get("/forms").status_code for _ in range(3)]
        if time.monotonic() - window_start < 0.8 or time.monotonic() > deadline:
            break
        time.sleep(1.1)
    assert codes == [200, 200, 429]
    time.sleep(1.1)
    assert client.get("/forms").status_code == 200


@pytest.mark.both_backends
def test_remote_address_has_no_influence(settings: Settings, database: Database) -> None:
    seen: list[str] = []
    client = _make_app(settings, database, seen).test_client()
    addresses = [MARKER_ADDRESS, "198.51.100.9", "2001:db8::1"]
    for address in addresses:
        response = client.get(
            "/forms",
            environ_base={"REMOTE_ADDR": address},
            headers={"X-Forwarded-For": address},
        )
        assert response.status_code == 200
    refused = client.get(
        "/forms", environ_base={"REMOTE_ADDR": "192.0.2.200"}, headers={"X-Forwarded-For": "x"}
    )
    assert refused.status_code == 429
    # Positive control: the distinctive address did reach the application...
    assert MARKER_ADDRESS in seen
    # ...and nothing of it reached the counters.
    dump = (settings.volatile_path / COUNTERS_FILE).read_bytes()
    assert b"LIMITER/global/forms" in dump  # the scan reads the counters
    for address in [*addresses, "192.0.2.200", "203.0.113", "127.0.0.1"]:
        assert address.encode() not in dump


@pytest.mark.both_backends
def test_counters_never_reach_the_main_database(
    app: Flask, settings: Settings, database: Database
) -> None:
    """A counter holds the exact end of its window: a time of day of reporter activity.
    It lives in the volatile folder, never in a table (nor the WAL, nor a backup)."""
    _exhaust(app)
    _exhaust(app, "/receipt")
    assert app.test_client().get("/api/js").status_code == 200
    tables = set(inspect(database.engine).get_table_names())
    assert "rate_limit_counters" not in tables and "audit_events" in tables
    # Positive control: the counters exist, in the volatile folder.
    assert {key for key, _ in _counters(settings)} == {
        "LIMITER/global/forms/3/1/minute",
        "LIMITER/global/receipts/3/1/minute",
        "LIMITER/global/javascript/3/1/minute",
    }
    if settings.database_url.startswith("sqlite"):
        files = [p for p in settings.instance_path.rglob("*") if p.is_file()]
        assert any(p.name.startswith("liemchinh.sqlite3") for p in files)
        for path in files:
            assert b"LIMITER/global" not in path.read_bytes(), path
    assert not settings.volatile_path.is_relative_to(settings.instance_path)


@pytest.mark.both_backends
def test_disabled_limiter_lets_everything_through(settings: Settings, database: Database) -> None:
    app = _make_app(settings, database)
    get_rate_limits(app).limiter.enabled = False
    client = app.test_client()
    for _ in range(LIMIT + 2):
        assert client.get("/forms").status_code == 200


# -- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "budget"),
    [
        ("LIEMCHINH_INTAKE_RATE_LIMIT", "LIEMCHINH_RATE_LIMIT_JAVASCRIPT"),
        ("LIEMCHINH_RATE_LIMIT_FORMS", "LIEMCHINH_RATE_LIMIT_FORMS"),
        ("LIEMCHINH_RATE_LIMIT_RECEIPTS", "LIEMCHINH_RATE_LIMIT_RECEIPTS"),
    ],
)
def test_bad_limit_string_names_the_variable(
    env: dict[str, str], database: Database, variable: str, budget: str
) -> None:
    settings = load_settings({**env, variable: "lots"})
    with pytest.raises(ConfigError, match=budget):
        create_intake_app(settings, database)  # the intake refuses to start


def test_each_budget_has_its_own_size(env: dict[str, str], database: Database) -> None:
    settings = load_settings({**env, "LIEMCHINH_RATE_LIMIT_RECEIPTS": "1 per hour"})
    client = _make_app(settings, database).test_client()
    assert client.get("/receipt").status_code == 200
    assert client.get("/receipt").status_code == 429
    for _ in range(LIMIT):  # the others keep LIEMCHINH_INTAKE_RATE_LIMIT
        assert client.get("/forms").status_code == 200
    assert client.get("/forms").status_code == 429


def test_memory_storage_refused(env: dict[str, str], database: Database) -> None:
    settings = load_settings({**env, "LIEMCHINH_RATELIMIT_STORAGE_URI": "memory://"})
    with pytest.raises(ConfigError, match="LIEMCHINH_RATELIMIT_STORAGE_URI"):
        create_intake_app(settings, database)


def test_volatile_storage_is_the_default(app: Flask, settings: Settings) -> None:
    storage = get_rate_limits(app).limiter.storage
    assert isinstance(storage, VolatileStorage)
    assert storage.path == settings.volatile_path / COUNTERS_FILE
    assert (settings.volatile_path.stat().st_mode & 0o777) == 0o700
    if Path("/dev/shm").is_dir():  # the test's volatile folder is where a real one is
        assert is_memory_backed(storage.path)


def _redis_reachable() -> bool:
    if importlib.util.find_spec("redis") is None:
        return False
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_reachable(), reason="no Redis on 127.0.0.1:6379")
def test_redis_shares_the_budgets(env: dict[str, str], database: Database) -> None:
    settings = load_settings({**env, "LIEMCHINH_RATELIMIT_STORAGE_URI": REDIS_URL})
    first = _make_app(settings, database)
    storage = get_rate_limits(first).limiter.storage
    assert type(storage).__name__ == "RedisStorage"
    storage.reset()
    try:
        second = _make_app(
            load_settings({**env, "LIEMCHINH_RATELIMIT_STORAGE_URI": REDIS_URL}), database
        )
        a, b = first.test_client(), second.test_client()
        assert [a.get("/forms").status_code, b.get("/forms").status_code] == [200, 200]
        assert a.get("/forms").status_code == 200
        assert b.get("/forms").status_code == 429
        assert a.get("/receipt").status_code == 200  # its own budget
        # Nothing of it in the volatile folder: the counters are in Redis.
        assert not (settings.volatile_path / COUNTERS_FILE).exists()
    finally:
        storage.reset()


# -- the storage itself --------------------------------------------------------------------


@pytest.fixture
def storage(tmp_path: Path) -> VolatileStorage:
    return VolatileStorage(f"liemchinh+volatile://{tmp_path / COUNTERS_FILE}")


def test_storage_needs_an_absolute_path() -> None:
    from limits.errors import ConfigurationError
    from limits.storage import storage_from_string

    with pytest.raises(ConfigurationError, match="absolute"):
        storage_from_string("liemchinh+volatile://relative/file")


def test_storage_from_string(tmp_path: Path) -> None:
    from limits.storage import storage_from_string

    storage = storage_from_string(f"liemchinh+volatile://{tmp_path / 'c.sqlite3'}")
    assert isinstance(storage, VolatileStorage)
    assert storage.check()


def test_storage_operations(storage: VolatileStorage) -> None:
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1
    assert storage.incr("k", 60, amount=2) == 3
    assert storage.get("k") == 3
    remaining = storage.get_expiry("k") - time.time()
    assert 58 < remaining <= 60.5
    assert storage.incr("other", 60) == 1
    storage.clear("k")
    assert storage.get("k") == 0
    assert storage.reset() == 1
    assert storage.get("other") == 0


def test_storage_expired_window_restarts(storage: VolatileStorage) -> None:
    storage.incr("k", 60)
    storage.incr("k", 60)
    with sqlite3.connect(storage.path) as conn:
        conn.execute("UPDATE counters SET expires_at = ?", (time.time() - 1,))
    assert storage.get("k") == 0
    assert storage.incr("k", 30) == 1
    assert 28 < storage.get_expiry("k") - time.time() <= 30.5


def test_storage_long_keys_are_hashed(storage: VolatileStorage) -> None:
    key = "LIMITER/" + "x" * 300
    assert storage.incr(key, 60) == 1
    assert storage.incr(key, 60) == 2
    assert storage.get(key) == 2
    with sqlite3.connect(storage.path) as conn:
        [(stored,)] = conn.execute("SELECT key FROM counters").fetchall()
    assert stored.startswith("sha256:") and len(stored) <= 200


def test_storage_concurrent_increments_add_up(storage: VolatileStorage) -> None:
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            for _ in range(25):
                value = storage.incr("shared", 60)
                with lock:
                    results.append(value)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # Every increment saw a distinct count: none was lost or double-counted.
    assert sorted(results) == list(range(1, 201))


def _increment_in_another_process(path: str, times: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    storage = VolatileStorage(f"liemchinh+volatile://{path}")
    out.put([storage.incr("shared", 60) for _ in range(times)])


def test_storage_is_shared_by_processes(storage: VolatileStorage) -> None:
    """Separate processes (as gunicorn's workers are) count into one budget."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    workers = [
        context.Process(target=_increment_in_another_process, args=(str(storage.path), 30, out))
        for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    counts = [value for _ in workers for value in out.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert sorted(counts) == list(range(1, 91))
    assert storage.get("shared") == 90
