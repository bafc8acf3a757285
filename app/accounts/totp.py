"""TOTP second factor (RFC 6238 with pyotp): enrolment, verification, QR code.

The seed is stored encrypted (ChaCha20-Poly1305) under the installation's TOTP key,
which lives in the secrets file (``totp_key``, config.secrets) and never in the
database: a copy of the database alone does not hand out second factors. The reviewer's
id is the AEAD's associated data, so one reviewer's encrypted seed copied onto another
row fails. The key is its own: rotating the review app's Flask secret key leaves every
enrolment working (older installations keep the key their release derived from it).

A code is accepted within one 30-second step either side of the server's clock, and
never twice: the step it matched is stored and only a later step is accepted after it.
"""

from __future__ import annotations

import hmac
import io
import re
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from app.accounts.errors import InvalidTotpError, TotpDecryptionError
from config.secrets import InstallationSecrets

ISSUER = "Liêm Chính"
INTERVAL = 30
DIGITS = 6
WINDOW = 1
# Part of the associated data; the same label that named the key's derivation before
# the key was its own (config.secrets.legacy_totp_key).
_KEY_LABEL = b"liemchinh/totp-secret/v1"
_BLOB_VERSION = b"\x01"
_NONCE_SIZE = 12
_CODE = re.compile(r"^[0-9]{6}$")
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="[^"]*"')


@dataclass(frozen=True, repr=False)
class TotpKey:
    """The key that encrypts TOTP seeds at rest."""

    key: bytes

    def __repr__(self) -> str:
        return "TotpKey(<redacted>)"

    @classmethod
    def of(cls, secrets: InstallationSecrets) -> TotpKey:
        """The installation's TOTP key, from its secrets file."""
        return cls(secrets.totp_encryption_key())


def new_secret() -> str:
    """A fresh 160-bit base32 seed (pyotp's default length: 32 characters)."""
    return pyotp.random_base32()


def _aad(reviewer_id: int) -> bytes:
    return _KEY_LABEL + b"\x00" + str(reviewer_id).encode()


def encrypt_secret(key: TotpKey, reviewer_id: int, secret: str) -> bytes:
    """version byte || 12-byte random nonce || ChaCha20-Poly1305 ciphertext and tag."""
    nonce = secrets.token_bytes(_NONCE_SIZE)
    sealed = ChaCha20Poly1305(key.key).encrypt(nonce, secret.encode("ascii"), _aad(reviewer_id))
    return _BLOB_VERSION + nonce + sealed


def decrypt_secret(key: TotpKey, reviewer_id: int, blob: bytes) -> str:
    blob = bytes(blob)
    if len(blob) < 1 + _NONCE_SIZE + 16 or blob[:1] != _BLOB_VERSION:
        raise TotpDecryptionError("not an encrypted TOTP secret")
    nonce, sealed = blob[1 : 1 + _NONCE_SIZE], blob[1 + _NONCE_SIZE :]
    try:
        return ChaCha20Poly1305(key.key).decrypt(nonce, sealed, _aad(reviewer_id)).decode("ascii")
    except (InvalidTag, UnicodeDecodeError):
        raise TotpDecryptionError("the TOTP secret does not decrypt") from None


def current_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // INTERVAL)


def code_at_step(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).generate_otp(step)


def normalise_code(code: str) -> str:
    # People type "123 456" or paste with spaces; nothing else is forgiven.
    return re.sub(r"[\s-]", "", code or "")


def verify_code(secret: str, code: str, *, last_step: int = 0, at: float | None = None) -> int:
    """Return the step ``code`` matches (within ±WINDOW steps and after ``last_step``).

    Raises :class:`InvalidTotpError` otherwise. Every candidate step is compared in
    constant time and all of them are always computed.
    """
    code = normalise_code(code)
    if not _CODE.match(code):
        raise InvalidTotpError("a code is six digits")
    now = current_step(at)
    matched: int | None = None
    for step in range(now - WINDOW, now + WINDOW + 1):
        if hmac.compare_digest(code_at_step(secret, step), code) and step > last_step:
            matched = step if matched is None else max(matched, step)
    if matched is None:
        raise InvalidTotpError("wrong, expired or already used code")
    return matched


def provisioning_uri(username: str, secret: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=username, issuer_name=ISSUER
    )


def qr_svg(uri: str) -> str:
    """The QR code as inline ``<svg>`` markup (no script, no style attribute, no data: URL).

    Inline SVG is what the CSP allows (``img-src 'self'`` forbids a data: image) and it
    needs no JavaScript. A white background is drawn so the code scans in dark themes.
    """
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(
        buffer,
        kind="svg",
        xmldecl=False,
        svgns=True,
        scale=4,
        border=4,
        dark="#000",
        light="#fff",
        svgclass="totp-qr",
        lineclass=None,
        omitsize=False,
    )
    svg = buffer.getvalue().decode("utf-8")
    # segno uses presentation attributes; drop any style="" anyway, CSP would block it.
    return _STYLE_ATTRIBUTE.sub("", svg)
