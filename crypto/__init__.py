"""Liêm Chính cryptography: age v1 envelopes, password key wraps, receipts.

A pure library (stdlib, ``cryptography``, ``argon2`` only). See docs/crypto.md.
"""

from __future__ import annotations

# First, before anything loads OpenSSL: see _openssl_cpu.py.
from . import _openssl_cpu  # noqa: F401
from .age import (
    AgeFileInfo,
    AgeWriter,
    decrypt_bytes,
    decrypt_stream,
    decrypt_to_file,
    encrypt_bytes,
    encrypt_stream,
    inspect_age_file,
)
from .armor import ArmoredReader
from .errors import (
    AgeError,
    ArmorError,
    FileTooLargeError,
    HeaderError,
    HeaderMacError,
    KeyFormatError,
    NoIdentityMatchError,
    PayloadError,
)
from .keys import Identity, Recipient, parse_identity_file, parse_recipients_file
from .keywrap import (
    KeyWrapError,
    KeyWrapFormatError,
    PasswordKdfParams,
    WrongPasswordError,
    rewrap_identity_with_password,
    unwrap_identity_with_password,
    wrap_identity_with_password,
)
from .padding import padme_length, padme_max_padding
from .receipts import (
    ReceiptCharacterError,
    ReceiptChecksumError,
    ReceiptError,
    ReceiptKdfParams,
    ReceiptKeys,
    ReceiptLengthError,
    derive_receipt_keys,
    format_receipt,
    new_receipt,
    parse_receipt,
)
from .scrypt import ScryptIdentity

__all__ = [
    "AgeError",
    "AgeFileInfo",
    "AgeWriter",
    "ArmorError",
    "ArmoredReader",
    "FileTooLargeError",
    "HeaderError",
    "HeaderMacError",
    "Identity",
    "KeyFormatError",
    "KeyWrapError",
    "KeyWrapFormatError",
    "NoIdentityMatchError",
    "PasswordKdfParams",
    "PayloadError",
    "ReceiptCharacterError",
    "ReceiptChecksumError",
    "ReceiptError",
    "ReceiptKdfParams",
    "ReceiptKeys",
    "ReceiptLengthError",
    "Recipient",
    "ScryptIdentity",
    "WrongPasswordError",
    "decrypt_bytes",
    "decrypt_stream",
    "decrypt_to_file",
    "derive_receipt_keys",
    "encrypt_bytes",
    "encrypt_stream",
    "format_receipt",
    "inspect_age_file",
    "new_receipt",
    "padme_length",
    "padme_max_padding",
    "parse_identity_file",
    "parse_receipt",
    "parse_recipients_file",
    "rewrap_identity_with_password",
    "unwrap_identity_with_password",
    "wrap_identity_with_password",
]
