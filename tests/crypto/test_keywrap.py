"""Password key wraps of reviewer identities."""

from __future__ import annotations

import struct

import pytest

from crypto import (
    Identity,
    KeyWrapFormatError,
    PasswordKdfParams,
    WrongPasswordError,
    rewrap_identity_with_password,
    unwrap_identity_with_password,
    wrap_identity_with_password,
)
from crypto.keywrap import read_params

CHEAP = PasswordKdfParams.cheap()


def test_wrap_unwrap_round_trip() -> None:
    identity = Identity.generate()
    blob = wrap_identity_with_password(identity, "correct horse", CHEAP)
    assert unwrap_identity_with_password(blob, "correct horse") == identity
    assert str(identity) not in blob.decode("latin-1")
    # Fresh salt and nonce every time.
    assert wrap_identity_with_password(identity, "correct horse", CHEAP) != blob


def test_wrong_password() -> None:
    blob = wrap_identity_with_password(Identity.generate(), "mật khẩu", CHEAP)
    with pytest.raises(WrongPasswordError):
        unwrap_identity_with_password(blob, "mat khau")


def test_password_is_nfc_normalised() -> None:
    identity = Identity.generate()
    composed = "Tiếng Việt"
    decomposed = "Tie\u0302\u0301ng Vie\u0323\u0302t"
    assert composed != decomposed
    assert (
        unwrap_identity_with_password(
            wrap_identity_with_password(identity, composed, CHEAP), decomposed
        )
        == identity
    )


def test_rewrap_changes_password_and_params() -> None:
    identity = Identity.generate()
    blob = wrap_identity_with_password(identity, "old", CHEAP)
    params = PasswordKdfParams(memory_kib=16, time_cost=2, parallelism=1)
    new = rewrap_identity_with_password(blob, "old", "new", params)
    assert unwrap_identity_with_password(new, "new") == identity
    assert read_params(new) == params
    with pytest.raises(WrongPasswordError):
        unwrap_identity_with_password(new, "old")
    with pytest.raises(WrongPasswordError):
        rewrap_identity_with_password(blob, "wrong", "new", CHEAP)


def test_default_params() -> None:
    assert PasswordKdfParams() == PasswordKdfParams(memory_kib=65536, time_cost=3, parallelism=4)


@pytest.mark.parametrize("offset", range(0, 93, 7))
def test_any_altered_byte_fails(offset: int) -> None:
    blob = bytearray(wrap_identity_with_password(Identity.generate(), "pw", CHEAP))
    blob[offset] ^= 0x01
    with pytest.raises((WrongPasswordError, KeyWrapFormatError)):
        unwrap_identity_with_password(bytes(blob), "pw")


def test_params_are_authenticated() -> None:
    """Swapping in other (valid) parameters must fail, not silently re-derive."""
    blob = bytearray(wrap_identity_with_password(Identity.generate(), "pw", CHEAP))
    struct.pack_into(">I", blob, 9, 2)  # time cost 1 -> 2
    with pytest.raises(WrongPasswordError):
        unwrap_identity_with_password(bytes(blob), "pw")


@pytest.mark.parametrize(
    "blob",
    [b"", b"LCKW", b"x" * 93, b"LCKW\x02" + bytes(88), b"LCKW\x01" + bytes(89)],
)
def test_garbage_is_format_error(blob: bytes) -> None:
    with pytest.raises(KeyWrapFormatError):
        unwrap_identity_with_password(blob, "pw")


@pytest.mark.parametrize(
    ("memory", "time", "lanes"),
    [(1 << 30, 1, 1), (64 * 1024, 1000, 1), (64 * 1024, 1, 255), (4, 1, 1), (64, 0, 1)],
)
def test_absurd_params_refused_before_argon2(memory: int, time: int, lanes: int) -> None:
    blob = bytearray(wrap_identity_with_password(Identity.generate(), "pw", CHEAP))
    struct.pack_into(">III", blob, 5, memory, time, lanes)
    with pytest.raises(KeyWrapFormatError):
        unwrap_identity_with_password(bytes(blob), "pw")
    with pytest.raises(KeyWrapFormatError):
        wrap_identity_with_password(
            Identity.generate(), "pw", PasswordKdfParams(memory, time, lanes)
        )
