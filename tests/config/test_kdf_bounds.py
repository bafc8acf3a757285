"""Every Argon2id cost the settings accept is one login and receipts can run with.

The bounds are crypto's (crypto.argon2_cost), read by config.settings: a cost accepted
at start-up that the key wrap then refused (more than 16 lanes, more than 1 GiB) or that
Argon2 cannot run (less than 8 KiB per lane) would have made every login fail.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.accounts import passwords, reviewers
from app.cases.submission import ReceiptSettings
from config import ConfigError, KdfSettings, load_settings
from crypto import (
    KeyWrapFormatError,
    PasswordKdfParams,
    derive_receipt_keys,
    new_receipt,
    unwrap_identity_with_password,
)
from crypto.argon2_cost import (
    MAX_MEMORY_KIB,
    MAX_PARALLELISM,
    MAX_TIME_COST,
    MIN_MEMORY_KIB_PER_LANE,
    MIN_PARALLELISM,
    MIN_TIME_COST,
)

INSTANCE = {"LIEMCHINH_INSTANCE_PATH": "/srv/liêm-chính-không-tồn-tại"}
PASSWORD = "Mật khẩu của Ngọc Trần, đủ dài 2026"
SALT = bytes(range(32))


def _env(kind: str, memory_kib: int, time_cost: int, parallelism: int) -> dict[str, str]:
    return {
        **INSTANCE,
        f"LIEMCHINH_{kind}_MEMORY_KIB": str(memory_kib),
        f"LIEMCHINH_{kind}_TIME_COST": str(time_cost),
        f"LIEMCHINH_{kind}_PARALLELISM": str(parallelism),
    }


def _both(memory_kib: int, time_cost: int, parallelism: int) -> dict[str, str]:
    return {
        **_env("PASSWORD_ARGON2", memory_kib, time_cost, parallelism),
        **_env("RECEIPT_ARGON2", memory_kib, time_cost, parallelism),
    }


def _login_and_receipt_work(password_kdf: KdfSettings, receipt_kdf: KdfSettings) -> None:
    """What enrolment, login and the receipt derivation run, with these costs."""
    credentials = reviewers.prepare_credentials(
        username="ngoc.tran", password=PASSWORD, password_kdf=password_kdf
    )
    assert passwords.verify_password(credentials.password_hash, PASSWORD, password_kdf)
    identity = unwrap_identity_with_password(credentials.wrapped_private_key, PASSWORD)
    assert str(identity.recipient) == credentials.public_key
    params = ReceiptSettings.from_config(SALT, receipt_kdf).params
    receipt = new_receipt()
    assert derive_receipt_keys(receipt, SALT, params) == derive_receipt_keys(receipt, SALT, params)


# The range the settings accepted before the bounds were crypto's (up to 64 lanes and
# 100 passes), at small memory so that each Argon2 run is quick.
@settings(max_examples=40, deadline=None)
@given(
    memory_kib=st.integers(8, 8 * 64 + 64),
    time_cost=st.integers(1, 100),
    parallelism=st.integers(1, 64),
)
@example(memory_kib=8, time_cost=3, parallelism=4)  # under 8 KiB per lane
@example(memory_kib=8 * 17, time_cost=1, parallelism=17)  # one lane too many for the wrap
@example(memory_kib=64, time_cost=17, parallelism=1)  # one pass too many for the wrap
def test_a_cost_the_settings_accept_works_or_is_refused_naming_the_variable(
    memory_kib: int, time_cost: int, parallelism: int
) -> None:
    try:
        loaded = load_settings(_both(memory_kib, time_cost, parallelism))
    except ConfigError as exc:
        assert "LIEMCHINH_PASSWORD_ARGON2_" in str(exc) or "LIEMCHINH_RECEIPT_ARGON2_" in str(exc)
        return
    _login_and_receipt_work(loaded.password_kdf, loaded.receipt_kdf)


@settings(max_examples=25, deadline=None)
@given(
    parallelism=st.integers(MIN_PARALLELISM, MAX_PARALLELISM),
    time_cost=st.integers(MIN_TIME_COST, MAX_TIME_COST),
    extra_kib=st.integers(0, 64),
)
@example(parallelism=MAX_PARALLELISM, time_cost=MAX_TIME_COST, extra_kib=0)
@example(parallelism=MIN_PARALLELISM, time_cost=MIN_TIME_COST, extra_kib=0)
def test_the_whole_accepted_range_works(parallelism: int, time_cost: int, extra_kib: int) -> None:
    # Positive control of the test above: it is not vacuous, this whole range is accepted.
    memory_kib = MIN_MEMORY_KIB_PER_LANE * parallelism + extra_kib
    loaded = load_settings(_both(memory_kib, time_cost, parallelism))
    assert loaded.password_kdf == KdfSettings(memory_kib, time_cost, parallelism)
    _login_and_receipt_work(loaded.password_kdf, loaded.receipt_kdf)


def _wrap_accepts(memory_kib: int, time_cost: int, parallelism: int) -> bool:
    try:
        PasswordKdfParams(memory_kib, time_cost, parallelism).check()
    except KeyWrapFormatError:
        return False
    return True


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(["PASSWORD_ARGON2", "RECEIPT_ARGON2"]),
    memory_kib=st.one_of(
        st.integers(0, 8 * 1024 * 1024),
        st.sampled_from([MAX_MEMORY_KIB, MAX_MEMORY_KIB + 1, 4 * 1024 * 1024]),
    ),
    time_cost=st.integers(0, 128),
    parallelism=st.integers(0, 80),
)
def test_the_settings_accept_exactly_what_the_key_wrap_accepts(
    kind: str, memory_kib: int, time_cost: int, parallelism: int
) -> None:
    """Up to the largest costs (1 GiB is accepted, checked without running Argon2)."""
    try:
        load_settings(_env(kind, memory_kib, time_cost, parallelism))
    except ConfigError as exc:
        assert f"LIEMCHINH_{kind}_" in str(exc)
        accepted = False
    else:
        accepted = True
    assert accepted == _wrap_accepts(memory_kib, time_cost, parallelism)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MEMORY_KIB", str(MAX_MEMORY_KIB + 1)),
        ("MEMORY_KIB", "16"),  # 4 lanes need 32 KiB
        ("TIME_COST", str(MAX_TIME_COST + 1)),
        ("PARALLELISM", str(MAX_PARALLELISM + 1)),
    ],
)
def test_the_error_names_the_variable_at_fault(variable: str, value: str) -> None:
    env = {**INSTANCE, f"LIEMCHINH_PASSWORD_ARGON2_{variable}": value}
    with pytest.raises(ConfigError, match=f"LIEMCHINH_PASSWORD_ARGON2_{variable}"):
        load_settings(env)
