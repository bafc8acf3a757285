"""Password wrapping of a reviewer's X25519 identity.

Format (binary, 93 bytes, all integers big-endian):

    offset size  field
    0      4     magic b"LCKW" (Liem Chinh Key Wrap)
    4      1     version = 1
    5      4     Argon2id memory cost, KiB
    9      4     Argon2id time cost (passes)
    13     4     Argon2id parallelism (lanes)
    17     16    Argon2id salt (random per wrap)
    33     12    ChaCha20-Poly1305 nonce (random per wrap)
    45     48    ChaCha20-Poly1305(key, nonce, identity 32 bytes, aad = bytes 0..44)

key = Argon2id(password UTF-8 after NFC normalisation, salt, params) -> 32 bytes.

The whole 45-byte prefix is the AEAD's associated data, so the parameters,
salt and version cannot be swapped or downgraded without the tag failing.
Parameters are bounds-checked before any Argon2 run because a blob could come
from a tampered database row: absurd memory or time would be a cheap DoS. The bounds
are the project's one set (:mod:`crypto.argon2_cost`).

Passwords are NFC-normalised: Vietnamese input methods produce either
precomposed or combining diacritics for the same visible text, and a user must
not lock themselves out by switching keyboard.
"""

from __future__ import annotations

import secrets
import struct
import unicodedata
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from .argon2_cost import (
    DEFAULT_MEMORY_KIB,
    DEFAULT_PARALLELISM,
    DEFAULT_TIME_COST,
    Argon2CostError,
    check_argon2_cost,
)
from .keys import Identity

MAGIC = b"LCKW"
VERSION = 1
_PREFIX = struct.Struct(">4sBIII16s12s")
WRAPPED_SIZE = _PREFIX.size + 32 + 16


class KeyWrapError(Exception):
    """Base class for key-wrap failures."""


class WrongPasswordError(KeyWrapError):
    """The password does not open this key wrap (or the wrap was altered)."""


class KeyWrapFormatError(KeyWrapError, ValueError):
    """The blob is not a key wrap this version understands, or its parameters are out of bounds."""


@dataclass(frozen=True)
class PasswordKdfParams:
    """Argon2id cost. Defaults: 64 MiB, 3 passes, 4 lanes (RFC 9106, second option)."""

    memory_kib: int = DEFAULT_MEMORY_KIB
    time_cost: int = DEFAULT_TIME_COST
    parallelism: int = DEFAULT_PARALLELISM

    @classmethod
    def cheap(cls) -> PasswordKdfParams:
        """Minimal cost, for tests only."""
        return cls(memory_kib=8, time_cost=1, parallelism=1)

    def check(self) -> None:
        try:
            check_argon2_cost(self.memory_kib, self.time_cost, self.parallelism)
        except Argon2CostError as exc:
            raise KeyWrapFormatError(str(exc)) from None


def _password_bytes(password: str) -> bytes:
    return unicodedata.normalize("NFC", password).encode("utf-8")


def _derive(password: str, salt: bytes, params: PasswordKdfParams) -> bytes:
    return hash_secret_raw(
        secret=_password_bytes(password),
        salt=salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=32,
        type=Type.ID,
    )


def wrap_identity_with_password(
    identity: Identity, password: str, params: PasswordKdfParams | None = None
) -> bytes:
    """Encrypt ``identity`` under ``password``; return the blob to store."""
    params = params or PasswordKdfParams()
    params.check()
    salt = secrets.token_bytes(16)
    nonce = secrets.token_bytes(12)
    prefix = _PREFIX.pack(
        MAGIC, VERSION, params.memory_kib, params.time_cost, params.parallelism, salt, nonce
    )
    key = _derive(password, salt, params)
    return prefix + ChaCha20Poly1305(key).encrypt(nonce, identity.private_bytes, prefix)


def read_params(blob: bytes) -> PasswordKdfParams:
    """Return the (bounds-checked) Argon2 parameters of a blob, e.g. to decide on a rewrap."""
    if len(blob) != WRAPPED_SIZE:
        raise KeyWrapFormatError("a key wrap is exactly 93 bytes")
    magic, version, memory_kib, time_cost, parallelism, _salt, _nonce = _PREFIX.unpack_from(blob)
    if magic != MAGIC:
        raise KeyWrapFormatError("not a key wrap (bad magic)")
    if version != VERSION:
        raise KeyWrapFormatError(f"unsupported key wrap version {version}")
    params = PasswordKdfParams(memory_kib, time_cost, parallelism)
    params.check()
    return params


def unwrap_identity_with_password(blob: bytes, password: str) -> Identity:
    """Recover the identity; WrongPasswordError if the password (or blob) is wrong."""
    blob = bytes(blob)
    params = read_params(blob)
    prefix = blob[: _PREFIX.size]
    salt, nonce = blob[17:33], blob[33:45]
    key = _derive(password, salt, params)
    try:
        raw = ChaCha20Poly1305(key).decrypt(nonce, blob[_PREFIX.size :], prefix)
    except InvalidTag:
        raise WrongPasswordError("wrong password for this key") from None
    return Identity.from_bytes(raw)


def rewrap_identity_with_password(
    blob: bytes, old_password: str, new_password: str, params: PasswordKdfParams | None = None
) -> bytes:
    """Change the password (and optionally the cost) of a wrap; fresh salt and nonce."""
    return wrap_identity_with_password(
        unwrap_identity_with_password(blob, old_password), new_password, params
    )
