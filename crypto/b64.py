"""Canonical unpadded base64 (RFC 4648 standard alphabet), as age requires.

age forbids padding and non-canonical encodings (non-zero trailing bits):
accepting several encodings of the same bytes would let an attacker change
the header bytes, and so its MAC input, without changing its meaning.
"""

from __future__ import annotations

import base64
import binascii
import re

_ALPHABET = re.compile(rb"[A-Za-z0-9+/]*")


class Base64Error(ValueError):
    """The text is not canonical unpadded base64."""


def encode(data: bytes) -> bytes:
    """Encode without padding."""
    return base64.b64encode(data).rstrip(b"=")


def decode(text: bytes) -> bytes:
    """Decode canonical unpadded base64; raise Base64Error on anything else."""
    if _ALPHABET.fullmatch(text) is None:
        raise Base64Error("invalid base64 character")
    if len(text) % 4 == 1:
        raise Base64Error("invalid base64 length")
    try:
        data = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except binascii.Error as exc:  # pragma: no cover - the checks above should catch all
        raise Base64Error("invalid base64") from exc
    # Re-encoding catches non-zero trailing bits, which b64decode silently drops.
    if encode(data) != text:
        raise Base64Error("non-canonical base64")
    return data
