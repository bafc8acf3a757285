"""Server-side sessions: nothing usable in the database without the cookie."""

from datetime import timedelta

import pytest
from flask import Flask, session
from sqlalchemy import select

from app.database import Database
from app.models import WebSession, utcnow
from tests.conftest import CsrfClient


@pytest.fixture
def session_app(intake_app: Flask) -> Flask:
    @intake_app.get("/_t/set/<value>")
    def _set(value: str) -> str:
        session["secret_value"] = value
        return "ok"

    @intake_app.get("/_t/get")
    def _get() -> str:
        return str(session.get("secret_value"))

    @intake_app.get("/_t/rotate")
    def _rotate() -> str:
        session.rotate()  # type: ignore[attr-defined]
        return "ok"

    @intake_app.get("/_t/destroy")
    def _destroy() -> str:
        session.destroy()  # type: ignore[attr-defined]
        return "ok"

    return intake_app


def _rows(database: Database) -> list[WebSession]:
    with database.read_session() as db:
        return list(db.scalars(select(WebSession)).all())


def test_reading_pages_sets_no_cookie(intake_client: CsrfClient, database: Database) -> None:
    response = intake_client.get("/")
    assert "Set-Cookie" not in response.headers
    assert _rows(database) == []


def test_session_row_is_encrypted_and_keyed_by_a_hash(
    session_app: Flask, database: Database
) -> None:
    client = session_app.test_client()
    response = client.get("/_t/set/CANARY-5e55ion")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lc_intake=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Expires" not in cookie and "Max-Age" not in cookie  # dies with the browser
    token = cookie.split(";")[0].split("=", 1)[1]
    [row] = _rows(database)
    assert b"CANARY-5e55ion" not in row.payload
    assert token not in row.id
    assert client.get("/_t/get").get_data(as_text=True) == "CANARY-5e55ion"


def test_rotation_invalidates_the_old_token(session_app: Flask, database: Database) -> None:
    client = session_app.test_client()
    client.get("/_t/set/before")
    old_id = _rows(database)[0].id
    client.get("/_t/rotate")
    [row] = _rows(database)
    assert row.id != old_id
    assert client.get("/_t/get").get_data(as_text=True) == "before"


def test_destroy_removes_row_and_cookie(session_app: Flask, database: Database) -> None:
    client = session_app.test_client()
    client.get("/_t/set/x")
    response = client.get("/_t/destroy")
    assert "lc_intake=;" in response.headers["Set-Cookie"]
    assert _rows(database) == []
    assert client.get("/_t/get").get_data(as_text=True) == "None"


def test_idle_session_expires(session_app: Flask, database: Database) -> None:
    client = session_app.test_client()
    client.get("/_t/set/x")
    with database.session() as db:
        row = db.scalars(select(WebSession)).one()
        row.idle_expires_at = utcnow() - timedelta(seconds=1)
    assert client.get("/_t/get").get_data(as_text=True) == "None"


def test_tampered_cookie_gives_an_empty_session(session_app: Flask) -> None:
    client = session_app.test_client()
    client.get("/_t/set/x")
    client.set_cookie("lc_intake", "A" * 43)
    assert client.get("/_t/get").get_data(as_text=True) == "None"


def test_https_install_uses_host_prefixed_secure_cookie(
    env: dict[str, str], database: Database
) -> None:
    from app.factory import create_review_app
    from config import load_settings

    settings = load_settings({**env, "LIEMCHINH_REVIEW_URL": "https://review.example"})
    app = create_review_app(settings, database)

    @app.get("/_t/set")
    def _set() -> str:
        session["x"] = 1
        return "ok"

    cookie = (
        app.test_client().get("/_t/set", base_url="https://review.example").headers["Set-Cookie"]
    )
    assert cookie.startswith("__Host-lc_review=") and "Secure" in cookie and "Path=/" in cookie


def test_a_reporters_session_row_holds_day_labels_only(
    session_app: Flask, database: Database
) -> None:
    from app import clock

    client = session_app.test_client()
    client.get("/_t/set/x")
    [row] = _rows(database)
    today = clock.reporter_day()
    assert row.created_at == clock.day_stamp(today)
    # One label past the two-hour absolute deadline in any zone, for the sweep.
    assert (
        row.absolute_expires_at == row.idle_expires_at == clock.day_stamp(today + timedelta(days=3))
    )
    # Used again, it keeps them: the exact deadlines live in the encrypted payload.
    client.get("/_t/set/y")
    [again] = _rows(database)
    assert (again.created_at, again.idle_expires_at) == (row.created_at, row.idle_expires_at)
    assert again.payload != row.payload


@pytest.mark.parametrize(
    ("later", "alive"),
    [
        (timedelta(minutes=19), True),
        (timedelta(minutes=21), False),  # idle: 20 minutes
    ],
)
def test_a_reporters_exact_deadline_is_kept_in_the_payload(
    session_app: Flask, monkeypatch: pytest.MonkeyPatch, later: timedelta, alive: bool
) -> None:
    import app.web.sessions as sessions_module

    client = session_app.test_client()
    client.get("/_t/set/secret")
    start = utcnow()
    monkeypatch.setattr(sessions_module, "utcnow", lambda: start + later)
    assert client.get("/_t/get").get_data(as_text=True) == ("secret" if alive else "None")


def test_the_absolute_deadline_holds_however_active_the_reporter(
    session_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.web.sessions as sessions_module

    client = session_app.test_client()
    client.get("/_t/set/secret")
    start = utcnow()
    # Active every 15 minutes: the idle deadline slides, the absolute one (2 h) does not.
    for minutes in range(15, 120, 15):
        monkeypatch.setattr(
            sessions_module, "utcnow", lambda m=minutes: start + timedelta(minutes=m)
        )
        assert client.get("/_t/get").get_data(as_text=True) == "secret"
    monkeypatch.setattr(sessions_module, "utcnow", lambda: start + timedelta(minutes=121))
    assert client.get("/_t/get").get_data(as_text=True) == "None"


def test_a_reviewers_session_keeps_exact_times(review_app: Flask, database: Database) -> None:
    @review_app.get("/_t/set")
    def _set() -> str:
        session["x"] = 1
        return "ok"

    before = utcnow()
    review_app.test_client().get("/_t/set")
    [row] = _rows(database)
    assert before <= row.created_at <= utcnow()
    assert row.idle_expires_at - row.created_at == timedelta(minutes=30)


def test_a_form_posted_while_the_store_is_down_is_a_server_error(
    intake_client: CsrfClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not the CSRF page ("open too long, reload"): the session could not be read, and
    the reporter is told the truth, in Vietnamese. Pages that only read still render."""
    from sqlalchemy.exc import OperationalError

    from app.web.sessions import EncryptedSessionInterface

    fields = intake_client.hidden_fields("/followup")  # the session exists now
    assert intake_client.post("/followup", data={**fields, "receipt": "1"}).status_code == 400

    def down(*_args: object) -> None:
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(EncryptedSessionInterface, "_load", down)
    refused = intake_client.post("/followup", data={**fields, "receipt": "1"})
    assert refused.status_code == 500
    page = refused.get_data(as_text=True)
    assert "Hệ thống gặp lỗi" in page
    assert "quá lâu" not in page  # not the CSRF message
    assert intake_client.get("/followup").status_code == 200
