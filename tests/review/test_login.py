"""Login with password and TOTP, lockout, session rotation, logout, idle timeout,
password change, enrolment through the setup link."""

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from app.accounts import totp
from app.database import Database
from app.models import AuditEvent, Invitation, Reviewer, WebSession, utcnow
from config import Settings
from crypto import WrongPasswordError, unwrap_identity_with_password
from tests.conftest import CsrfClient
from tests.factories import Account, allow_next_code, code, login, make_account, secret_on_page

pytestmark = pytest.mark.both_backends

COOKIE = "lc_review"
FAILED = "Wrong username or password, or the account is locked for a while."


@pytest.fixture
def client(review_client: CsrfClient) -> CsrfClient:
    # English, so the assertions can read the messages.
    review_client.get("/login?lang=en")
    return review_client


@pytest.fixture
def alice(database: Database, settings: Settings) -> Account:
    return make_account(database, settings, "alice")


def _sessions(database: Database, reviewer_id: int | None = None) -> int:
    with database.read_session() as db:
        query = select(func.count(WebSession.id))
        if reviewer_id is not None:
            query = query.where(WebSession.reviewer_id == reviewer_id)
        return db.scalar(query) or 0


def _actions(database: Database) -> list[tuple[str, str]]:
    with database.read_session() as db:
        return [
            (e.actor, e.action) for e in db.scalars(select(AuditEvent).order_by(AuditEvent.seq))
        ]


def _password_step(client: CsrfClient, username: str, password: str) -> Any:
    return client.submit("/login", {"username": username, "password": password})


def test_full_login_rotates_the_session_and_holds_the_key(
    client: CsrfClient, database: Database, alice: Account
) -> None:
    before = client.get_cookie(COOKIE)
    assert before is not None  # the language choice made a session
    first = _password_step(client, "alice", alice.password)
    assert first.status_code == 302 and first.headers["Location"].endswith("/login/totp")
    middle = client.get_cookie(COOKIE)
    assert middle is not None and middle.value != before.value
    # Half-logged-in is not logged in.
    assert client.get("/account/password").status_code == 302
    page = client.get("/login/totp")
    assert page.status_code == 200 and 'name="totp"' in page.get_data(as_text=True)
    done = client.submit("/login/totp", {"totp": code(alice.secret)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/")
    after = client.get_cookie(COOKIE)
    assert after is not None and after.value not in (before.value, middle.value)
    assert client.get("/account/password").status_code == 200
    assert _sessions(database, alice.id) == 1
    with database.read_session() as db:
        row = db.scalars(select(WebSession).where(WebSession.reviewer_id == alice.id)).one()
        assert b"AGE-SECRET-KEY" not in row.payload
    assert (f"reviewer:{alice.id}", "login.succeeded") in _actions(database)


def test_the_totp_code_is_not_accepted_twice(
    client: CsrfClient, review_app: Flask, database: Database, alice: Account
) -> None:
    used = code(alice.secret)
    _password_step(client, "alice", alice.password)
    assert client.submit("/login/totp", {"totp": used}).status_code == 302
    other: Any = review_app.test_client()
    other.get("/login?lang=en")
    _password_step(other, "alice", alice.password)
    replay = other.submit("/login/totp", {"totp": used})
    assert replay.status_code == 400
    assert "That code is not valid" in replay.get_data(as_text=True)


def test_wrong_password_and_unknown_user_look_the_same(
    client: CsrfClient, database: Database, alice: Account
) -> None:
    wrong = _password_step(client, "alice", "not the password at all")
    unknown = _password_step(client, "mallory", "not the password at all")
    assert wrong.status_code == unknown.status_code == 400
    for response, typed in ((wrong, "alice"), (unknown, "mallory")):
        html = response.get_data(as_text=True)
        assert FAILED in html
        assert f'value="{typed}"' in html  # the typed username is kept
    assert ("unknown", "login.failed") in _actions(database)
    assert all("mallory" not in actor for actor, _ in _actions(database))


def test_lockout_after_five_failures(
    client: CsrfClient, database: Database, alice: Account
) -> None:
    for _ in range(5):
        assert _password_step(client, "alice", "not the password at all").status_code == 400
    locked = _password_step(client, "alice", alice.password)
    assert locked.status_code == 400 and FAILED in locked.get_data(as_text=True)
    unknown = _password_step(client, "nobody", alice.password)
    assert unknown.status_code == 400 and FAILED in unknown.get_data(as_text=True)
    # When the lock has passed, the right password works again.
    with database.session() as db:
        db.execute(
            update(Reviewer)
            .where(Reviewer.id == alice.id)
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )
    assert login(client, database, alice).status_code == 302


def test_wrong_totp_keeps_the_step_and_expired_step_restarts(
    client: CsrfClient, alice: Account
) -> None:
    _password_step(client, "alice", alice.password)
    right = code(alice.secret)
    wrong = client.submit("/login/totp", {"totp": f"{(int(right) + 1) % 1_000_000:06d}"})
    assert wrong.status_code == 400
    with client.session_transaction() as sess:
        sess["login_pending"] = {**sess["login_pending"], "expires": 0}
    assert client.get("/login/totp").headers["Location"].endswith("/login")


def test_logout_destroys_the_session_row(
    client: CsrfClient, database: Database, alice: Account
) -> None:
    login(client, database, alice)
    assert _sessions(database, alice.id) == 1
    response = client.submit("/account/password", {}, action="/logout")
    assert response.status_code == 302
    assert _sessions(database) == 0
    assert client.get("/account/password").status_code == 302
    assert (f"reviewer:{alice.id}", "logout") in _actions(database)


def test_idle_timeout_logs_out(client: CsrfClient, database: Database, alice: Account) -> None:
    login(client, database, alice)
    with database.session() as db:
        db.execute(update(WebSession).values(idle_expires_at=utcnow() - timedelta(seconds=1)))
    response = client.get("/account/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_deactivated_reviewer_is_logged_out(
    client: CsrfClient, database: Database, alice: Account
) -> None:
    login(client, database, alice)
    with database.session() as db:
        db.execute(update(Reviewer).where(Reviewer.id == alice.id).values(active=False))
    assert client.get("/account/password").status_code == 302


def test_next_is_followed_only_on_this_site(client: CsrfClient, database: Database) -> None:
    page = client.get("/login?next=//evil.example/x").get_data(as_text=True)
    assert "evil.example" not in page
    assert 'value="/admin/reviewers"' in client.get("/login?next=/admin/reviewers").get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    "target", ["/%09/evil.example", "/%0a/evil.example", "/%5Cevil.example", "/%2F%2Fevil.example"]
)
def test_next_that_a_browser_reads_as_another_host_is_dropped(
    client: CsrfClient, database: Database, alice: Account, target: str
) -> None:
    page = client.get(f"/login?next={target}").get_data(as_text=True)
    assert "evil.example" not in page
    # Even posted straight to the login form, it never becomes the Location.
    allow_next_code(database, alice)
    first = client.submit(
        "/login", {"username": alice.username, "password": alice.password, "next": target}
    )
    assert first.status_code == 302
    done = client.submit("/login/totp", {"totp": code(alice.secret)})
    assert done.status_code == 302
    assert done.headers["Location"] == "/"


def test_password_change_rewraps_the_key(
    client: CsrfClient, review_app: Flask, database: Database, alice: Account
) -> None:
    login(client, database, alice)
    elsewhere = review_app.test_client()
    login(elsewhere, database, alice)
    assert _sessions(database, alice.id) == 2
    cookie = client.get_cookie(COOKIE)
    new = "a brand new passphrase"
    mismatch = client.submit(
        "/account/password",
        {"current_password": alice.password, "new_password": new, "new_password_confirm": "x"},
    )
    assert mismatch.status_code == 400
    weak = client.submit(
        "/account/password",
        {
            "current_password": alice.password,
            "new_password": "matkhau123456",
            "new_password_confirm": "matkhau123456",
        },
    )
    assert weak.status_code == 400
    response = client.submit(
        "/account/password",
        {"current_password": alice.password, "new_password": new, "new_password_confirm": new},
    )
    assert response.status_code == 302
    assert client.get_cookie(COOKIE).value != cookie.value  # type: ignore[union-attr]
    assert _sessions(database, alice.id) == 1  # the other session ended
    assert client.get("/account/password").status_code == 200
    with database.read_session() as db:
        reviewer = db.get(Reviewer, alice.id)
        assert reviewer is not None and reviewer.wrapped_private_key is not None
        assert reviewer.public_key == alice.public_key
        blob = reviewer.wrapped_private_key
    assert str(unwrap_identity_with_password(blob, new).recipient) == alice.public_key
    with pytest.raises(WrongPasswordError):
        unwrap_identity_with_password(blob, alice.password)


def test_first_admin_through_the_setup_link(
    client: CsrfClient, review_app: Flask, database: Database, settings: Settings
) -> None:
    runner = review_app.test_cli_runner()
    url = runner.invoke(args=["setup-link"]).stdout.strip()
    path = url.removeprefix(settings.review_url)
    form = client.get(path)
    assert form.status_code == 200 and 'name="password_confirm"' in form.get_data(as_text=True)
    weak = client.submit(
        path, {"username": "root", "password": "123456789012", "password_confirm": "123456789012"}
    )
    assert weak.status_code == 400 and "too common" in weak.get_data(as_text=True)
    password = "Sông Hậu chảy về biển Đông"
    step1 = client.submit(
        path, {"username": "root", "password": password, "password_confirm": password}
    )
    assert step1.status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert "<svg" in page and "style=" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]
    secret = secret_on_page(page)
    with database.read_session() as db:
        assert db.scalars(select(Reviewer)).all() == []  # not before the code is confirmed
    bad = client.submit(path, {"totp": "000000" if code(secret) != "000000" else "111111"})
    assert bad.status_code == 400
    created = client.submit(path, {"totp": code(secret)})
    assert created.status_code == 302 and created.headers["Location"].endswith("/login")
    with database.read_session() as db:
        reviewer = db.scalars(select(Reviewer)).one()
        assert reviewer.role == "admin" and reviewer.username == "root"
        assert [m.unit.slug for m in reviewer.memberships] == ["intake"]
        assert reviewer.totp_last_step >= totp.current_step() - 1
        assert db.scalars(select(Invitation)).one().used_at is not None
    # single use, and no further setup link
    assert client.get(path).status_code == 404
    assert runner.invoke(args=["setup-link"]).exit_code == 1
    # the new admin can log in
    admin = Account(reviewer.id, "root", password, secret, str(reviewer.public_key))
    allow_next_code(database, admin)
    assert login(client, database, admin).status_code == 302
    assert client.get("/admin/reviewers").status_code == 200


def test_expired_setup_link(client: CsrfClient, review_app: Flask, database: Database) -> None:
    runner = review_app.test_cli_runner()
    url = runner.invoke(args=["setup-link"]).stdout.strip()
    with database.session() as db:
        db.execute(update(Invitation).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = client.get(url[url.index("/setup/") :])
    assert response.status_code == 404
    assert "not valid" in response.get_data(as_text=True)


def test_a_setup_token_does_not_work_as_an_invitation(
    client: CsrfClient, review_app: Flask
) -> None:
    runner = review_app.test_cli_runner()
    url = runner.invoke(args=["setup-link"]).stdout.strip()
    token = url.rsplit("/", 1)[1]
    assert client.get(f"/invite/{token}").status_code == 404
