"""Password hashing (Argon2id via argon2-cffi) and the password policy.

The hash verifies the password at login; the reviewer's private key is wrapped under
the same password with its own Argon2id run and its own salt (crypto.keywrap), so
the verifier stored here says nothing about the key wrap's key.

Passwords are NFC-normalised before hashing, as crypto.keywrap does before wrapping:
Vietnamese keyboards produce precomposed or combining diacritics for the same visible
text, and the two must be the same password.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.accounts.errors import WeakPasswordError
from config.settings import KdfSettings
from crypto import PasswordKdfParams

MIN_LENGTH = 12
# Argon2 would take a megabyte happily; a bound keeps a login form from being a DoS lever.
MAX_LENGTH = 1024
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt")


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = MIN_LENGTH
    max_length: int = MAX_LENGTH


def normalise(password: str) -> str:
    return unicodedata.normalize("NFC", password)


@functools.lru_cache(maxsize=8)
def hasher(kdf: KdfSettings) -> PasswordHasher:
    """A hasher with the installation's cost (KdfSettings is frozen, hence cacheable)."""
    return PasswordHasher(
        time_cost=kdf.time_cost,
        memory_cost=kdf.memory_kib,
        parallelism=kdf.parallelism,
        hash_len=32,
        salt_len=16,
    )


def wrap_params(kdf: KdfSettings) -> PasswordKdfParams:
    """The same cost for the private-key wrap as for the verifier."""
    return PasswordKdfParams(
        memory_kib=kdf.memory_kib, time_cost=kdf.time_cost, parallelism=kdf.parallelism
    )


def hash_password(password: str, kdf: KdfSettings) -> str:
    return hasher(kdf).hash(normalise(password))


def verify_password(password_hash: str, password: str, kdf: KdfSettings | None = None) -> bool:
    """True when ``password`` matches. Never raises for a wrong or malformed hash.

    The parameters are read from the hash itself; ``kdf`` only picks a cached hasher.
    """
    try:
        return hasher(kdf or KdfSettings()).verify(password_hash, normalise(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, kdf: KdfSettings) -> bool:
    """True when the hash was made with other parameters than the current settings."""
    try:
        return hasher(kdf).check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@functools.lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        _comparable(line) for line in lines if line.strip() and not line.startswith("#")
    )


def _strip_diacritics(text: str) -> str:
    # "mậtkhẩu123" is as weak as "matkhau123": compare without Vietnamese tone marks.
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _comparable(text: str) -> str:
    return normalise(text).strip().casefold()


def _variants(password: str) -> set[str]:
    base = _comparable(password)
    plain = _strip_diacritics(base)
    return {base, plain, base.replace(" ", ""), plain.replace(" ", "")}


def check_password_policy(
    password: str, *, username: str | None = None, policy: PasswordPolicy | None = None
) -> None:
    """Raise :class:`WeakPasswordError` (with a ``code``) for a password we refuse.

    Length counts characters after NFC normalisation, so a Vietnamese letter is one.
    """
    policy = policy or PasswordPolicy()
    text = normalise(password)
    if len(text) < policy.min_length:
        raise WeakPasswordError(f"at least {policy.min_length} characters", code="too_short")
    if len(text) > policy.max_length:
        raise WeakPasswordError(f"at most {policy.max_length} characters", code="too_long")
    variants = _variants(text)
    if len(set(text)) == 1 or variants & common_passwords():
        raise WeakPasswordError("a common password", code="common")
    if username and _comparable(username) in variants:
        raise WeakPasswordError("the same as the username", code="same_as_username")
