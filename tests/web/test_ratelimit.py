"""Global rate limits: one budget per scope for the whole service, whatever the address."""

import importlib.util
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, request
from flask_babel import force_locale, gettext
from sqlalchemy import select, update

from app import create_intake_app
from app.database import Database
from app.models import RateLimitCounter, utcnow
from app.web.ratelimit import (
    DatabaseStorage,
    get_rate_limits,
    intake_limit,
)
from config import ConfigError, Settings, load_settings

# Every test but one touches the database: run those on both backends.
pg = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)

LIMIT = 3
MARKER_ADDRESS = "203.0.113.77"  # TEST-NET-3: distinctive, and nobody's real address
TITLE_MSGID = "Too many requests right now"
MESSAGE_MSGID = "The service is busy. Nothing was stored. Please try again in a few minutes."


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "LIEMCHINH_INTAKE_RATE_LIMIT": f"{LIMIT} per minute"}


def _make_app(settings: Settings, database: Database, seen: list[str] | None = None) -> Flask:
    """An intake app (create_intake_app wires the rate limits) with a few test routes."""
    app = create_intake_app(settings, database)
    app.testing = True

    def ok() -> str:
        if seen is not None:
            seen.append(str(request.environ.get("REMOTE_ADDR")))
            seen.append(str(request.headers.get("X-Forwarded-For")))
        return "ok"

    def ok_too() -> str:
        return "ok too"

    def receipt() -> str:
        return "receipt"

    def api() -> dict[str, str]:
        return {"ok": "yes"}

    def free() -> str:
        return "free"

    def post_form() -> str:
        return "posted"

    app.add_url_rule("/limited", "limited", intake_limit()(ok))
    app.add_url_rule("/limited-too", "limited_too", intake_limit()(ok_too))
    app.add_url_rule("/receipt", "receipt", intake_limit(scope="receipt")(receipt))
    app.add_url_rule("/api/limited", "api_limited", intake_limit()(api))
    app.add_url_rule("/free", "free", free)
    app.add_url_rule("/form", "form", intake_limit()(post_form), methods=["POST"])
    return app


@pytest.fixture
def app(settings: Settings, database: Database) -> Flask:
    return _make_app(settings, database)


def _exhaust(app: Flask, path: str = "/limited") -> None:
    client = app.test_client()
    for _ in range(LIMIT):
        assert client.get(path).status_code == 200


def _counters(database: Database) -> list[tuple[str, int]]:
    with database.read_session() as db:
        return [(c.key, c.count) for c in db.scalars(select(RateLimitCounter))]


@pg
def test_limit_trips_with_a_vietnamese_page(app: Flask, database: Database) -> None:
    _exhaust(app)
    response = app.test_client().get("/limited")
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["Cache-Control"] == "no-store"  # security baseline still applies
    assert "X-RateLimit-Limit" not in response.headers
    assert _counters(database) == [("LIMITER/global/intake/3/1/minute", LIMIT + 1)]
    with app.test_request_context(), force_locale("vi"):
        vi_title = gettext(TITLE_MSGID)
        vi_message = gettext(MESSAGE_MSGID)
    if vi_title == TITLE_MSGID:
        pytest.xfail("the busy page's strings are not yet translated in vi/messages.po")
    assert vi_title in html and vi_message in html
    assert TITLE_MSGID not in html


@pg
def test_limit_trips_with_an_english_page(app: Flask) -> None:
    _exhaust(app)
    response = app.test_client().get("/limited?lang=en")
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Too many requests right now" in html
    assert "Nothing was stored. Please try again in a few minutes." in html


@pg
def test_english_by_accept_language(app: Flask) -> None:
    _exhaust(app)
    response = app.test_client().get("/limited", headers={"Accept-Language": "en"})
    assert response.status_code == 429
    assert '<html lang="en">' in response.get_data(as_text=True)


@pg
def test_api_gets_json(app: Flask) -> None:
    _exhaust(app, "/api/limited")
    response = app.test_client().get("/api/limited?lang=en")
    assert response.status_code == 429
    assert response.json == {
        "error": "busy",
        "message": "The service is busy. Nothing was stored. Please try again in a few minutes.",
    }


@pg
def test_views_of_one_scope_share_a_budget(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/limited").status_code == 200
    assert client.get("/limited-too").status_code == 200
    assert client.get("/api/limited").status_code == 200
    assert client.get("/limited-too").status_code == 429
    assert client.get("/limited").status_code == 429


@pg
def test_scopes_have_separate_budgets_and_unmarked_views_are_free(app: Flask) -> None:
    _exhaust(app)
    client = app.test_client()
    for _ in range(LIMIT):
        assert client.get("/receipt").status_code == 200
    assert client.get("/receipt").status_code == 429
    for _ in range(LIMIT * 3):
        assert client.get("/free").status_code == 200


@pg
def test_refused_before_the_form_is_read(app: Flask) -> None:
    client = app.test_client()
    # With budget left, CSRF protection reads the form and refuses the tokenless POST...
    assert client.post("/form", data={"summary": "x"}).status_code == 400
    for _ in range(LIMIT - 1):  # the refused POST counted too
        assert client.get("/limited").status_code == 200
    # ...once the budget is spent the limit answers first: the body was never parsed.
    response = client.post("/form", data={"summary": "x"})
    assert response.status_code == 429


@pg
def test_two_processes_share_one_budget(settings: Settings, database: Database) -> None:
    second_database = Database(settings.database_url)  # another process: its own engine
    try:
        first = _make_app(settings, database).test_client()
        second = _make_app(load_settings_like(settings), second_database).test_client()
        assert first.get("/limited").status_code == 200
        assert second.get("/limited").status_code == 200
        assert first.get("/limited").status_code == 200
        assert second.get("/limited").status_code == 429
        assert first.get("/limited").status_code == 429
    finally:
        second_database.dispose()


def load_settings_like(settings: Settings) -> Settings:
    """The same installation as read by another process (its own Settings object)."""
    return load_settings(
        {
            "LIEMCHINH_INSTANCE_PATH": str(settings.instance_path),
            "LIEMCHINH_DATABASE_URL": settings.database_url,
            "LIEMCHINH_INTAKE_RATE_LIMIT": settings.intake_rate_limit,
        }
    )


@pg
def test_window_resets(app: Flask, database: Database) -> None:
    _exhaust(app)
    client = app.test_client()
    assert client.get("/limited").status_code == 429
    with database.session() as db:  # the minute has passed
        db.execute(update(RateLimitCounter).values(expires_at=utcnow() - timedelta(seconds=1)))
    for _ in range(LIMIT):
        assert client.get("/limited").status_code == 200
    assert client.get("/limited").status_code == 429
    [(_, count)] = _counters(database)
    assert count == LIMIT + 1  # the window restarted at 1, not at the old count


@pg
def test_short_window_resets_in_real_time(env: dict[str, str], database: Database) -> None:
    settings = load_settings({**env, "LIEMCHINH_INTAKE_RATE_LIMIT": "2 per 1 second"})
    client = _make_app(settings, database).test_client()
    deadline = time.monotonic() + 10
    while True:  # the two hits and the refusal must fall in one window; retry if not
        window_start = time.monotonic()
        codes = [client.get("/limited").status_code for _ in range(3)]
        if time.monotonic() - window_start < 0.8 or time.monotonic() > deadline:
            break
        time.sleep(1.1)
    assert codes == [200, 200, 429]
    time.sleep(1.1)
    assert client.get("/limited").status_code == 200


@pg
def test_remote_address_has_no_influence(settings: Settings, database: Database) -> None:
    seen: list[str] = []
    client = _make_app(settings, database, seen).test_client()
    addresses = [MARKER_ADDRESS, "198.51.100.9", "2001:db8::1"]
    for address in addresses:
        response = client.get(
            "/limited",
            environ_base={"REMOTE_ADDR": address},
            headers={"X-Forwarded-For": address},
        )
        assert response.status_code == 200
    refused = client.get(
        "/limited", environ_base={"REMOTE_ADDR": "192.0.2.200"}, headers={"X-Forwarded-For": "x"}
    )
    assert refused.status_code == 429
    # Positive control: the distinctive address did reach the application...
    assert MARKER_ADDRESS in seen
    # ...and nothing of it reached the counters.
    with database.read_session() as db:
        rows = db.execute(select(RateLimitCounter.__table__)).all()
    dump = repr(rows)
    assert rows
    for address in [*addresses, "192.0.2.200", "203.0.113", "127.0.0.1"]:
        assert address not in dump


@pg
def test_disabled_limiter_lets_everything_through(settings: Settings, database: Database) -> None:
    app = create_intake_app(settings, database)
    get_rate_limits(app).limiter.enabled = False
    app.add_url_rule("/limited", "limited", intake_limit()(lambda: "ok"))
    client = app.test_client()
    for _ in range(LIMIT + 2):
        assert client.get("/limited").status_code == 200


# -- configuration -------------------------------------------------------------------------


@pg
def test_bad_limit_string_names_the_variable(env: dict[str, str], database: Database) -> None:
    settings = load_settings({**env, "LIEMCHINH_INTAKE_RATE_LIMIT": "lots"})
    with pytest.raises(ConfigError, match="LIEMCHINH_INTAKE_RATE_LIMIT"):
        create_intake_app(settings, database)  # the intake refuses to start


@pg
def test_per_scope_limit_override(settings: Settings, database: Database) -> None:
    app = create_intake_app(settings, database)
    app.add_url_rule("/one", "one", intake_limit("tight", limit="1 per minute")(lambda: "ok"))
    client = app.test_client()
    assert client.get("/one").status_code == 200
    assert client.get("/one").status_code == 429
    with pytest.raises(ValueError, match="bad rate limit"):
        intake_limit("x", limit="often")
    with pytest.raises(ValueError, match="scope"):
        intake_limit("a/b")


@pg
def test_memory_storage_refused(env: dict[str, str], database: Database) -> None:
    settings = load_settings({**env, "LIEMCHINH_RATELIMIT_STORAGE_URI": "memory://"})
    with pytest.raises(ConfigError, match="LIEMCHINH_RATELIMIT_STORAGE_URI"):
        create_intake_app(settings, database)


@pg
def test_redis_uri_is_handed_to_flask_limiter(env: dict[str, str], database: Database) -> None:
    settings = load_settings({**env, "LIEMCHINH_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"})
    if importlib.util.find_spec("redis") is None:
        # Not a requirement yet: the error must say which setting needs it.
        with pytest.raises(ConfigError, match="LIEMCHINH_RATELIMIT_STORAGE_URI"):
            create_intake_app(settings, database)
    else:
        app = create_intake_app(settings, database)
        assert type(get_rate_limits(app).limiter.storage).__name__ == "RedisStorage"


@pg
def test_database_storage_is_the_default(app: Flask, database: Database) -> None:
    storage = get_rate_limits(app).limiter.storage
    assert isinstance(storage, DatabaseStorage)
    assert storage.database is database


# -- the storage itself --------------------------------------------------------------------


@pytest.fixture
def storage(database: Database) -> DatabaseStorage:
    return DatabaseStorage("liemchinh+db://", database=database)


def test_storage_needs_a_database() -> None:
    from limits.errors import ConfigurationError
    from limits.storage import storage_from_string

    with pytest.raises(ConfigurationError, match="database"):
        storage_from_string("liemchinh+db://")


@pg
def test_storage_from_string(database: Database) -> None:
    from limits.storage import storage_from_string

    storage: Any = storage_from_string("liemchinh+db://", database=database)
    assert isinstance(storage, DatabaseStorage)
    assert storage.check()


@pg
def test_storage_operations(storage: DatabaseStorage) -> None:
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1
    assert storage.incr("k", 60, amount=2) == 3
    assert storage.get("k") == 3
    remaining = storage.get_expiry("k") - utcnow().timestamp()
    assert 58 < remaining <= 60.5
    assert storage.incr("other", 60) == 1
    storage.clear("k")
    assert storage.get("k") == 0
    assert storage.reset() == 1
    assert storage.get("other") == 0


@pg
def test_storage_expired_window_restarts(storage: DatabaseStorage, database: Database) -> None:
    storage.incr("k", 60)
    storage.incr("k", 60)
    with database.session() as db:
        db.execute(update(RateLimitCounter).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert storage.get("k") == 0
    assert storage.incr("k", 30) == 1
    assert 28 < storage.get_expiry("k") - utcnow().timestamp() <= 30.5


@pg
def test_storage_long_keys_are_hashed(storage: DatabaseStorage, database: Database) -> None:
    key = "LIMITER/" + "x" * 300
    assert storage.incr(key, 60) == 1
    assert storage.incr(key, 60) == 2
    assert storage.get(key) == 2
    [(stored, _)] = _counters(database)
    assert stored.startswith("sha256:") and len(stored) <= 200


@pg
def test_storage_concurrent_increments_add_up(database: Database, settings: Settings) -> None:
    # Two engines (two "processes"), four threads each.
    other = Database(settings.database_url)
    storages = [DatabaseStorage(database=database), DatabaseStorage(database=other)]
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(storage: DatabaseStorage) -> None:
        try:
            for _ in range(25):
                value = storage.incr("shared", 60)
                with lock:
                    results.append(value)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(storages[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.dispose()
    assert errors == []
    # Every increment saw a distinct count: none was lost or double-counted.
    assert sorted(results) == list(range(1, 201))
