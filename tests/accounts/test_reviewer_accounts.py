"""Reviewer accounts in the domain: creation, login throttling, password and key changes."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts import passwords, reviewers, totp
from app.accounts.errors import (
    CurrentPasswordError,
    InvalidUsernameError,
    LastAdminError,
    LoginFailedError,
    UsernameTakenError,
    WeakPasswordError,
)
from app.audit import verify_chain
from app.database import Database
from app.installation import UnknownUnitError
from app.models import AuditEvent, Membership, Reviewer, utcnow
from config import Settings
from config.settings import KdfSettings
from crypto import Recipient, unwrap_identity_with_password
from crypto.keywrap import read_params
from tests.factories import PASSWORD, code, make_account, totp_key_for

pytestmark = pytest.mark.both_backends


def _reviewer(database: Database, reviewer_id: int) -> Reviewer:
    with database.read_session() as db:
        reviewer = db.get(Reviewer, reviewer_id)
        assert reviewer is not None
        db.expunge(reviewer)
        return reviewer


def _events(database: Database, action: str) -> list[AuditEvent]:
    with database.read_session() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_create_makes_a_key_pair_wrapped_under_the_password(
    database: Database, settings: Settings
) -> None:
    account = make_account(database, settings, "alice", units=("intake", "inspection"))
    reviewer = _reviewer(database, account.id)
    assert reviewer.wrapped_private_key is not None and reviewer.totp_secret is not None
    identity = unwrap_identity_with_password(reviewer.wrapped_private_key, PASSWORD)
    assert str(identity.recipient) == reviewer.public_key
    Recipient.parse(account.public_key)
    assert account.secret.encode() not in reviewer.totp_secret
    assert reviewer.password_hash.startswith("$argon2id$")
    with database.read_session() as db:
        assert (
            len(db.scalars(select(Membership).where(Membership.reviewer_id == account.id)).all())
            == 2
        )
        assert verify_chain(db)[1] is None
    [event] = _events(database, "reviewer.created")
    assert PASSWORD not in event.details and account.secret not in event.details


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"username": "Al"}, InvalidUsernameError),
        ({"username": "bad name"}, InvalidUsernameError),
        ({"username": "x" * 65}, InvalidUsernameError),
        ({"unit_slugs": ["nowhere"]}, UnknownUnitError),
        ({"password": "matkhau123456"}, WeakPasswordError),
    ],
)
def test_create_refuses_bad_input_and_creates_nothing(
    database: Database, settings: Settings, kwargs: dict[str, object], error: type[Exception]
) -> None:
    arguments: dict[str, object] = {
        "username": "carol",
        "password": PASSWORD,
        "role": "reviewer",
        "unit_slugs": ["intake"],
        **kwargs,
    }
    with pytest.raises(error), database.session() as db:
        reviewers.create_reviewer(
            db,
            password_kdf=settings.password_kdf,
            totp_key=totp_key_for(settings),
            **arguments,  # type: ignore[arg-type]
        )
    with database.read_session() as db:
        assert db.scalars(select(Reviewer)).all() == []


def test_username_taken(database: Database, settings: Settings) -> None:
    make_account(database, settings, "alice")
    with pytest.raises(UsernameTakenError):
        make_account(database, settings, "ALICE")


def test_login_returns_the_identity_and_totp_completes_it(
    database: Database, settings: Settings
) -> None:
    account = make_account(database, settings, "alice")
    with database.session() as db:
        verified = reviewers.authenticate_password(
            db, username="Alice ", password=PASSWORD, password_kdf=settings.password_kdf
        )
    assert str(verified.identity.recipient) == account.public_key
    assert "AGE-SECRET" not in repr(verified)
    with database.session() as db:
        reviewer = reviewers.authenticate_totp(
            db, reviewer_id=account.id, code=code(account.secret), totp_key=totp_key_for(settings)
        )
        assert reviewer.totp_last_step >= totp.current_step() - 1
    with database.session() as db, pytest.raises(LoginFailedError):
        # the same code again: replay
        reviewers.authenticate_totp(
            db, reviewer_id=account.id, code=code(account.secret), totp_key=totp_key_for(settings)
        )
    assert len(_events(database, "login.succeeded")) == 1


def _fail_password(database: Database, settings: Settings, username: str, **kw: object) -> str:
    with database.session() as db:
        try:
            reviewers.authenticate_password(
                db,
                username=username,
                password="wrong password here",
                password_kdf=settings.password_kdf,
                **kw,  # type: ignore[arg-type]
            )
        except LoginFailedError as exc:
            return exc.reason
    raise AssertionError("login did not fail")


def test_lockout_after_five_failures_grows_and_is_capped(
    database: Database, settings: Settings
) -> None:
    account = make_account(database, settings, "alice")
    for _ in range(4):
        assert _fail_password(database, settings, "alice") == "password"
    assert _reviewer(database, account.id).locked_until is None
    _fail_password(database, settings, "alice")
    reviewer = _reviewer(database, account.id)
    assert reviewer.failed_logins == 5 and reviewer.locked_until is not None
    assert timedelta(seconds=50) < reviewer.locked_until - utcnow() <= timedelta(minutes=1)
    # Locked: even the right password fails, with the same error.
    with database.session() as db, pytest.raises(LoginFailedError) as caught:
        reviewers.authenticate_password(
            db, username="alice", password=PASSWORD, password_kdf=settings.password_kdf
        )
    assert caught.value.reason == "locked"
    assert reviewers.lockout_duration(6) == timedelta(minutes=2)
    assert reviewers.lockout_duration(7) == timedelta(minutes=4)
    assert reviewers.lockout_duration(50) == timedelta(hours=1)
    # After the lock has passed, the right password works again.
    later = utcnow() + timedelta(minutes=2)
    with database.session() as db:
        reviewers.authenticate_password(
            db, username="alice", password=PASSWORD, password_kdf=settings.password_kdf, now=later
        )


def test_unknown_username_costs_a_hash_and_is_audited_without_the_name(
    database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = passwords.verify_password

    def counting(password_hash: str, password: str, kdf: KdfSettings | None = None) -> bool:
        calls.append(password_hash[:9])
        return original(password_hash, password, kdf)

    monkeypatch.setattr(passwords, "verify_password", counting)
    assert _fail_password(database, settings, "nobody-secret-typo") == "unknown"
    assert calls == ["$argon2id"]
    [event] = _events(database, "login.failed")
    assert event.actor == "unknown"
    assert "nobody-secret-typo" not in event.details + event.actor


def test_totp_failures_count_towards_the_lockout(database: Database, settings: Settings) -> None:
    account = make_account(database, settings, "alice")
    right = code(account.secret)
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    for _ in range(5):
        with database.session() as db, pytest.raises(LoginFailedError):
            reviewers.authenticate_totp(
                db, reviewer_id=account.id, code=wrong, totp_key=totp_key_for(settings)
            )
    assert reviewers.is_locked(_reviewer(database, account.id))


def test_rehash_and_rewrap_on_login_when_parameters_change(
    database: Database, settings: Settings
) -> None:
    account = make_account(database, settings, "alice")
    stronger = KdfSettings(memory_kib=128, time_cost=2, parallelism=1)
    before = _reviewer(database, account.id)
    with database.session() as db:
        reviewers.authenticate_password(
            db, username="alice", password=PASSWORD, password_kdf=stronger
        )
    after = _reviewer(database, account.id)
    assert after.password_hash != before.password_hash
    assert not passwords.needs_rehash(after.password_hash, stronger)
    assert after.wrapped_private_key is not None
    assert read_params(after.wrapped_private_key).memory_kib == 128
    assert (
        str(unwrap_identity_with_password(after.wrapped_private_key, PASSWORD).recipient)
        == account.public_key
    )


def test_change_password_rewraps_the_same_key(database: Database, settings: Settings) -> None:
    account = make_account(database, settings, "alice")
    new = "a brand new passphrase"
    with database.session() as db:
        reviewer = db.get(Reviewer, account.id)
        assert reviewer is not None
        with pytest.raises(CurrentPasswordError):
            reviewers.change_password(
                db,
                reviewer,
                current_password="nope",
                new_password=new,
                password_kdf=settings.password_kdf,
            )
        with pytest.raises(WeakPasswordError):
            reviewers.change_password(
                db,
                reviewer,
                current_password=PASSWORD,
                new_password="password1234",
                password_kdf=settings.password_kdf,
            )
        reviewers.change_password(
            db,
            reviewer,
            current_password=PASSWORD,
            new_password=new,
            password_kdf=settings.password_kdf,
        )
    reviewer = _reviewer(database, account.id)
    assert reviewer.public_key == account.public_key
    assert reviewer.wrapped_private_key is not None
    assert (
        str(unwrap_identity_with_password(reviewer.wrapped_private_key, new).recipient)
        == account.public_key
    )
    from crypto import WrongPasswordError

    with pytest.raises(WrongPasswordError):
        unwrap_identity_with_password(reviewer.wrapped_private_key, PASSWORD)


def test_admin_reset_makes_a_new_key_and_is_audited(database: Database, settings: Settings) -> None:
    admin = make_account(database, settings, "root", role="admin")
    account = make_account(database, settings, "alice")
    with database.session() as db:
        reviewer = db.get(Reviewer, account.id)
        assert reviewer is not None
        temporary = reviewers.admin_reset_password(
            db, reviewer, password_kdf=settings.password_kdf, actor=f"reviewer:{admin.id}"
        )
    passwords.check_password_policy(temporary, username="alice")
    reviewer = _reviewer(database, account.id)
    assert reviewer.public_key != account.public_key
    assert reviewer.wrapped_private_key is not None
    assert str(
        unwrap_identity_with_password(reviewer.wrapped_private_key, temporary).recipient
    ) == (reviewer.public_key)
    [event] = _events(database, "reviewer.key_reset")
    assert event.actor == f"reviewer:{admin.id}"
    assert account.public_key in event.details and str(reviewer.public_key) in event.details
    assert temporary not in event.details


def test_the_last_admin_cannot_be_removed(database: Database, settings: Settings) -> None:
    admin = make_account(database, settings, "root", role="admin")
    with database.session() as db:
        reviewer = db.get(Reviewer, admin.id)
        assert reviewer is not None
        with pytest.raises(LastAdminError):
            reviewers.deactivate(db, reviewer, actor="test")
        with pytest.raises(LastAdminError):
            reviewers.set_role(db, reviewer, "reviewer", actor="test")
    make_account(database, settings, "root2", role="admin")
    with database.session() as db:
        reviewer = db.get(Reviewer, admin.id)
        assert reviewer is not None
        reviewers.set_role(db, reviewer, "reviewer", actor="test")
    assert _reviewer(database, admin.id).role == "reviewer"


def test_memberships_and_totp_reset(database: Database, settings: Settings) -> None:
    account = make_account(database, settings, "alice", units=("intake",))
    with database.session() as db:
        reviewer = db.get(Reviewer, account.id)
        assert reviewer is not None
        added, removed = reviewers.set_memberships(
            db, reviewer, ["inspection", "investigation"], actor="test"
        )
        assert (added, removed) == (["inspection", "investigation"], ["intake"])
        assert reviewers.unit_slugs_of(reviewer) == ["inspection", "investigation"]
        secret = reviewers.reset_totp(db, reviewer, totp_key=totp_key_for(settings), actor="test")
    assert secret != account.secret
    with database.session() as db:
        reviewers.authenticate_totp(
            db, reviewer_id=account.id, code=code(secret), totp_key=totp_key_for(settings)
        )
    assert len(_events(database, "reviewer.memberships_changed")) == 1
    assert len(_events(database, "reviewer.totp_reset")) == 1
