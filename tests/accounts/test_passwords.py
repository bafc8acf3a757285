"""Password policy and Argon2id hashing."""

import pytest
from argon2 import PasswordHasher

from app.accounts import passwords
from app.accounts.errors import WeakPasswordError
from config.settings import KdfSettings

CHEAP = KdfSettings(memory_kib=64, time_cost=1, parallelism=1)


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short", "too_short"),
        ("elevenchars", "too_short"),
        ("123456789012", "common"),
        ("MatKhau123456", "common"),
        ("mậtkhẩu123456", "common"),  # the same without diacritics
        ("anhyeuem1234", "common"),
        ("AnhYeuEm123456", "common"),
        ("QWERTYUIOP12", "common"),
        ("aaaaaaaaaaaaaaaa", "common"),
        ("x" * 1025, "too_long"),
    ],
)
def test_policy_refuses(password: str, code: str) -> None:
    with pytest.raises(WeakPasswordError) as caught:
        passwords.check_password_policy(password)
    assert caught.value.code == code


def test_policy_refuses_the_username() -> None:
    with pytest.raises(WeakPasswordError) as caught:
        passwords.check_password_policy("Nguyen.Van.An12", username="nguyen.van.an12")
    assert caught.value.code == "same_as_username"


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "Sông Hậu chảy về biển", "k3T!9zq#Lm2@"]
)
def test_policy_accepts(password: str) -> None:
    passwords.check_password_policy(password, username="alice")


def test_length_counts_characters_not_bytes() -> None:
    passwords.check_password_policy("Đường Hùng Vương", username="bob")  # 16 characters


def test_the_list_is_substantial() -> None:
    assert len(passwords.common_passwords()) >= 300


def test_hash_and_verify() -> None:
    hashed = passwords.hash_password("correct horse battery staple", CHEAP)
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, "correct horse battery staple", CHEAP)
    assert not passwords.verify_password(hashed, "correct horse battery stapler", CHEAP)
    assert not passwords.verify_password("not a hash", "x", CHEAP)


def test_nfc_and_nfd_are_the_same_password() -> None:
    composed = "Cần Thơ sạch tham nhũng"
    import unicodedata

    hashed = passwords.hash_password(composed, CHEAP)
    assert passwords.verify_password(hashed, unicodedata.normalize("NFD", composed), CHEAP)


def test_needs_rehash_when_parameters_change() -> None:
    hashed = passwords.hash_password("correct horse battery staple", CHEAP)
    assert not passwords.needs_rehash(hashed, CHEAP)
    stronger = KdfSettings(memory_kib=128, time_cost=2, parallelism=1)
    assert passwords.needs_rehash(hashed, stronger)
    # The verifier reads the parameters from the hash: the old hash still verifies.
    assert passwords.verify_password(hashed, "correct horse battery staple", stronger)
    assert PasswordHasher(memory_cost=128, time_cost=2, parallelism=1).verify(
        passwords.hash_password("correct horse battery staple", stronger),
        "correct horse battery staple",
    )
