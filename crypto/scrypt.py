"""The age v1 scrypt (passphrase) recipient stanza, for decryption only.

    -> scrypt BASE64(16-byte salt) LOG2(N)
    BASE64(ChaCha20-Poly1305(scrypt key, zero nonce, file key))

scrypt key = scrypt(passphrase, "age-encryption.org/v1/scrypt" || salt, N, r=8, p=1).
The work factor comes from the file, i.e. from a possible attacker: it is
capped (default 2^20, about 1 GiB and a few seconds) so that a crafted file
cannot exhaust memory or CPU. The project itself never encrypts with
passphrases; this exists so operators can open age files made with ``age -p``.
"""

from __future__ import annotations

import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from . import b64
from .errors import HeaderError
from .header import Stanza

SCRYPT_STANZA_TYPE = "scrypt"
SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
DEFAULT_MAX_WORK_FACTOR = 20
_WORK_FACTOR = re.compile(r"[1-9][0-9]{0,2}")  # decimal, no sign, no leading zero


def check_scrypt_stanza(stanza: Stanza) -> tuple[bytes, int]:
    """Validate a scrypt stanza's shape; return (salt, log2 work factor)."""
    if len(stanza.args) != 2:
        raise HeaderError("scrypt stanza must have exactly two arguments")
    try:
        salt = b64.decode(stanza.args[0].encode("ascii"))
    except b64.Base64Error as exc:
        raise HeaderError(f"scrypt stanza salt is not canonical base64: {exc}") from None
    if len(salt) != 16:
        raise HeaderError("scrypt stanza salt is not 16 bytes")
    if _WORK_FACTOR.fullmatch(stanza.args[1]) is None:
        raise HeaderError("scrypt stanza work factor is not a positive decimal number")
    if len(stanza.body) != 32:
        raise HeaderError("scrypt stanza body is not 32 bytes")
    return salt, int(stanza.args[1])


class ScryptIdentity:
    """A passphrase that can open files encrypted with ``age -p``."""

    __slots__ = ("_passphrase", "max_work_factor")

    def __init__(self, passphrase: str, max_work_factor: int = DEFAULT_MAX_WORK_FACTOR) -> None:
        self._passphrase = passphrase.encode("utf-8")
        self.max_work_factor = max_work_factor

    def __repr__(self) -> str:
        return "ScryptIdentity(<passphrase>)"

    def unwrap(self, stanza: Stanza) -> bytes | None:
        if stanza.type != SCRYPT_STANZA_TYPE:
            return None
        salt, log_n = check_scrypt_stanza(stanza)
        if log_n > self.max_work_factor:
            raise HeaderError(
                f"scrypt work factor 2^{log_n} exceeds the limit 2^{self.max_work_factor}"
            )
        key = Scrypt(salt=SCRYPT_LABEL + salt, length=32, n=1 << log_n, r=8, p=1).derive(
            self._passphrase
        )
        try:
            return ChaCha20Poly1305(key).decrypt(bytes(12), stanza.body, None)
        except InvalidTag:
            return None
