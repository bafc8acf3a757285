"""The TOTP key is the installation's own (``totp_key`` in the secrets file), not derived
from the review app's Flask secret key: rotating that key leaves every enrolled
authenticator working. An older secrets file gets, from ``init``, the key its release
derived, so the seeds already stored still decrypt."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask

from app.accounts import totp
from app.database import Database
from app.factory import create_review_app
from config import InstallationSecrets, Settings, load_secrets
from config.secrets import add_totp_key, legacy_totp_key, secrets_text
from tests.conftest import CsrfClient
from tests.factories import Account, login, make_account

PASSWORD = "Mật khẩu của Ngọc Trần, đủ dài 2026"
# Made by the release before totp_key existed: review secret key 0x5a * 32, the seed of
# reviewer 42 encrypted with TotpKey.derive(review key) of that release.
OLD_REVIEW_KEY = bytes.fromhex("5a" * 32)
OLD_SEED = "ZDMHZSMXVVNLVIINWOQP7LZZQV5DTRBY"
OLD_BLOB = bytes.fromhex(
    "01bc1a88a9ada1ac3ea03515d85db1e9d2e5de3313ff421c9c7ca970f1e456d990030b500a2be77f61"
    "c45202a6b9710f49d6b8380eb831f6ed3d931721"
)


def _write(path: Path, values: InstallationSecrets) -> None:
    path.write_text(secrets_text(values), encoding="utf-8")


def _as_before_totp_key(path: Path) -> None:
    """Turn the secrets file into one an older release made: no totp_key."""
    _write(path, replace(load_secrets(path), totp_key=None))


def _rotate_review_key(path: Path) -> bytes:
    values = load_secrets(path)
    new_key = bytes(reversed(values.review_secret_key)) + b"\x01"
    _write(path, replace(values, review_secret_key=new_key))
    return new_key


def _client(settings: Settings, database: Database) -> tuple[Flask, CsrfClient]:
    app = create_review_app(settings, database)
    app.testing = True
    app.test_client_class = CsrfClient
    client = app.test_client()
    assert isinstance(client, CsrfClient)
    return app, client


def _logged_in(client: CsrfClient, database: Database, account: Account) -> bool:
    done = login(client, database, account)
    return bool(done.status_code == 302 and client.get("/account/password").status_code == 200)


@pytest.mark.both_backends
def test_rotating_the_review_secret_key_keeps_totp_working(
    database: Database, settings: Settings
) -> None:
    account = make_account(database, settings, "ngoc.tran", password=PASSWORD)
    app, client = _client(settings, database)
    assert _logged_in(client, database, account)
    new_key = _rotate_review_key(settings.secrets_file)
    rotated, client = _client(settings, database)
    # The rotation took effect: the new app signs with the new key.
    assert rotated.secret_key == new_key != app.secret_key
    assert _logged_in(client, database, account)


def test_new_installations_have_their_own_random_totp_key(
    database: Database, settings: Settings
) -> None:
    values = load_secrets(settings.secrets_file)  # made by the database fixture, as init
    assert values.totp_key is not None and len(values.totp_key) == 32
    assert values.totp_key != legacy_totp_key(values.review_secret_key)
    assert values.totp_encryption_key() == values.totp_key


@pytest.mark.both_backends
def test_init_keeps_an_older_installation_s_authenticators_through_a_rotation(
    database: Database, settings: Settings, cli: object
) -> None:
    _as_before_totp_key(settings.secrets_file)
    # Enrolled under the older release's key (derived from the review secret key).
    account = make_account(database, settings, "ngoc.tran", password=PASSWORD)
    result = cli.invoke(args=["init"])  # type: ignore[attr-defined]
    assert result.exit_code == 0, result.output
    assert "secrets: added the TOTP key" in result.output
    again = cli.invoke(args=["init"])  # type: ignore[attr-defined]
    assert again.exit_code == 0 and "TOTP key" not in again.output
    _rotate_review_key(settings.secrets_file)
    _app, client = _client(settings, database)
    assert _logged_in(client, database, account)


def test_an_older_file_decrypts_the_older_release_s_seeds(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    old = InstallationSecrets(bytes(32 * [1]), OLD_REVIEW_KEY, bytes(32 * [2]))
    _write(path, old)
    # Before init: the older release's derivation, in memory.
    assert totp.decrypt_secret(totp.TotpKey.of(load_secrets(path)), 42, OLD_BLOB) == OLD_SEED
    assert add_totp_key(path)
    assert not add_totp_key(path)
    migrated = load_secrets(path)
    assert migrated == replace(old, totp_key=migrated.totp_key)  # nothing else changed
    # After init, and after a rotation of the review secret key.
    assert totp.decrypt_secret(totp.TotpKey.of(migrated), 42, OLD_BLOB) == OLD_SEED
    _write(path, replace(migrated, review_secret_key=bytes(32 * [3])))
    assert totp.decrypt_secret(totp.TotpKey.of(load_secrets(path)), 42, OLD_BLOB) == OLD_SEED
