"""TOTP: encryption at rest, ±1 step window, replay refused, QR code as inline SVG."""

import re

import pytest

from app.accounts import totp
from app.accounts.errors import InvalidTotpError, TotpDecryptionError

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = 1_800_000_000.0  # a fixed clock
STEP = int(NOW // 30)


def test_accepts_current_and_adjacent_steps() -> None:
    for offset in (-1, 0, 1):
        code = totp.code_at_step(SECRET, STEP + offset)
        assert totp.verify_code(SECRET, code, at=NOW) == STEP + offset


def test_refuses_two_steps_away() -> None:
    for offset in (-2, 2):
        with pytest.raises(InvalidTotpError):
            totp.verify_code(SECRET, totp.code_at_step(SECRET, STEP + offset), at=NOW)


def test_refuses_a_wrong_or_malformed_code() -> None:
    right = totp.code_at_step(SECRET, STEP)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for code in (wrong, "", "12345", "abcdef", "1234567"):
        with pytest.raises(InvalidTotpError):
            totp.verify_code(SECRET, code, at=NOW)


def test_accepts_spaces() -> None:
    code = totp.code_at_step(SECRET, STEP)
    assert totp.verify_code(SECRET, f"{code[:3]} {code[3:]}", at=NOW) == STEP


def test_a_code_is_never_accepted_twice() -> None:
    code = totp.code_at_step(SECRET, STEP)
    used = totp.verify_code(SECRET, code, at=NOW)
    with pytest.raises(InvalidTotpError):
        totp.verify_code(SECRET, code, last_step=used, at=NOW)
    # nor an older one still inside the window
    with pytest.raises(InvalidTotpError):
        totp.verify_code(SECRET, totp.code_at_step(SECRET, STEP - 1), last_step=used, at=NOW)
    # the next step's code is fine
    assert totp.verify_code(SECRET, totp.code_at_step(SECRET, STEP + 1), last_step=used, at=NOW)


def test_secret_is_encrypted_and_bound_to_the_reviewer() -> None:
    key = totp.TotpKey(b"k" * 32)
    blob = totp.encrypt_secret(key, 7, SECRET)
    assert SECRET.encode() not in blob
    assert totp.decrypt_secret(key, 7, blob) == SECRET
    with pytest.raises(TotpDecryptionError):
        totp.decrypt_secret(key, 8, blob)
    with pytest.raises(TotpDecryptionError):
        totp.decrypt_secret(totp.TotpKey(b"j" * 32), 7, blob)
    assert "k" not in repr(key)


def test_provisioning_uri_and_qr() -> None:
    uri = totp.provisioning_uri("alice", SECRET)
    assert uri.startswith("otpauth://totp/")
    assert "issuer=Li%C3%AAm%20Ch%C3%ADnh" in uri and f"secret={SECRET}" in uri
    svg = totp.qr_svg(uri)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "style=" not in svg and "<script" not in svg and "data:" not in svg
    assert not re.search(r"<\?xml", svg)


def test_new_secret_is_base32_of_160_bits() -> None:
    secret = totp.new_secret()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert secret != totp.new_secret()
