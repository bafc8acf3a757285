"""Reporter receipts: 20 digits, shown as five groups of four.

19 digits come from ``secrets`` (about 63 bits) and the 20th is a Damm check
digit, which catches every single-digit typo and every adjacent transposition,
so a mistyped receipt is rejected before any (expensive) Argon2 run.

One Argon2id run over the canonical 20 digits, salted with the installation
salt (kept in config, not in the database), yields 64 bytes:

* bytes 0..31: the lookup key (unique index of the case);
* bytes 32..63: the reporter's X25519 private key.

The password input is ``b"liemchinh-receipt-v1:" + digits``; the label
separates this use from any other use of the same salt. Defaults follow RFC
9106's second recommended option (m = 64 MiB, t = 3, p = 4): with 63 bits of
entropy an offline attacker holding the database *and* the salt needs about
2^62 Argon2 runs on average per receipt.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass, field

from argon2.low_level import Type, hash_secret_raw

from .argon2_cost import DEFAULT_MEMORY_KIB, DEFAULT_PARALLELISM, DEFAULT_TIME_COST
from .keys import Identity

RECEIPT_DIGITS = 20
_LABEL = b"liemchinh-receipt-v1:"
_SEPARATORS = frozenset(" -.\u00a0\u2009\u202f\t")
MIN_SALT_SIZE = 16

# The order-10 weakly totally anti-symmetric quasigroup of H. M. Damm (2004).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


class ReceiptError(ValueError):
    """The text is not a valid receipt."""


class ReceiptCharacterError(ReceiptError):
    """The receipt contains a character that is neither a digit nor a separator."""


class ReceiptLengthError(ReceiptError):
    """The receipt does not have exactly 20 digits."""


class ReceiptChecksumError(ReceiptError):
    """The check digit does not match: the receipt was mistyped."""


def damm_check_digit(digits: str) -> str:
    """Return the Damm check digit of a string of ASCII digits."""
    interim = 0
    for d in digits:
        interim = _DAMM[interim][ord(d) - 48]
    return str(interim)


def _group(digits: str) -> str:
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def format_receipt(text: str) -> str:
    """A receipt as typed, checked (:func:`parse_receipt`) and shown in groups of four."""
    return _group(parse_receipt(text))


def new_receipt() -> str:
    """Return a fresh receipt, formatted ``"1234 5678 9012 3456 7890"``."""
    body = "".join(str(secrets.randbelow(10)) for _ in range(RECEIPT_DIGITS - 1))
    return _group(body + damm_check_digit(body))


def parse_receipt(text: str) -> str:
    """Return the 20 canonical ASCII digits of a receipt as typed by a person.

    Accepts spaces, dashes and dots between digits, surrounding whitespace,
    full-width and other Unicode decimal digits. Cheap: call it before Argon2.
    """
    digits = []
    for ch in unicodedata.normalize("NFKC", text).strip():
        if ch in _SEPARATORS:
            continue
        value = unicodedata.decimal(ch, None)
        if value is None:
            raise ReceiptCharacterError("a receipt contains only digits")
        digits.append(str(value))
    if len(digits) != RECEIPT_DIGITS:
        raise ReceiptLengthError(f"a receipt has {RECEIPT_DIGITS} digits, not {len(digits)}")
    canonical = "".join(digits)
    if damm_check_digit(canonical) != "0":
        raise ReceiptChecksumError("the receipt's check digit does not match: please check it")
    return canonical


@dataclass(frozen=True)
class ReceiptKdfParams:
    """Argon2id cost for receipts. Defaults: RFC 9106 second option (crypto.argon2_cost)."""

    memory_kib: int = DEFAULT_MEMORY_KIB
    time_cost: int = DEFAULT_TIME_COST
    parallelism: int = DEFAULT_PARALLELISM

    @classmethod
    def cheap(cls) -> ReceiptKdfParams:
        """Minimal cost, for tests only."""
        return cls(memory_kib=8, time_cost=1, parallelism=1)


@dataclass(frozen=True)
class ReceiptKeys:
    """Keys derived from a receipt. Both are secrets: kept out of repr."""

    lookup_key: bytes = field(repr=False)
    identity: Identity = field(repr=False)


def derive_receipt_keys(
    receipt: str, installation_salt: bytes, params: ReceiptKdfParams | None = None
) -> ReceiptKeys:
    """Derive the lookup key and reporter identity from a receipt (one Argon2id run)."""
    if len(installation_salt) < MIN_SALT_SIZE:
        raise ValueError(f"the installation salt must be at least {MIN_SALT_SIZE} bytes")
    params = params or ReceiptKdfParams()
    digits = parse_receipt(receipt)
    out = hash_secret_raw(
        secret=_LABEL + digits.encode("ascii"),
        salt=bytes(installation_salt),
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=64,
        type=Type.ID,
    )
    return ReceiptKeys(lookup_key=out[:32], identity=Identity.from_bytes(out[32:]))
