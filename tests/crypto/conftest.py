"""Fixtures and helpers for the crypto tests."""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Sequence

import pytest

from crypto import Identity, Recipient
from crypto.age import _header_mac
from crypto.header import VERSION_LINE, serialise_mac_line
from crypto.stream import StreamWriter, payload_key


@pytest.fixture(scope="session")
def identity() -> Identity:
    return Identity.generate()


@pytest.fixture(scope="session")
def other_identity() -> Identity:
    return Identity.generate()


def _build_age_file(
    stanza_block: bytes,
    file_key: bytes,
    plaintext: bytes = b"hello",
    *,
    mac_line: bytes | None = None,
    version_line: bytes = VERSION_LINE,
) -> bytes:
    """Assemble an age file by hand around ``stanza_block`` (the raw stanza lines).

    The MAC is computed over exactly the bytes given, so a test can change one
    detail of the header and still have a correct MAC: a rejection is then due
    to the detail under test, not to the MAC.
    """
    mac_input = version_line + b"\n" + stanza_block + b"---"
    if mac_line is None:
        mac_line = serialise_mac_line(_header_mac(file_key, mac_input))
    nonce = secrets.token_bytes(16)
    out = io.BytesIO()
    out.write(mac_input + mac_line + nonce)
    writer = StreamWriter(payload_key(file_key, nonce), out)
    writer.write(plaintext)
    writer.finish()
    return out.getvalue()


def _x25519_stanza_block(recipients: Sequence[Recipient], file_key: bytes) -> bytes:
    return b"".join(r.wrap(file_key).serialise() for r in recipients)


@pytest.fixture(scope="session")
def build_age_file() -> Callable[..., bytes]:
    """The hand assembler ``_build_age_file`` (a fixture: tests/ is not a package)."""
    return _build_age_file


@pytest.fixture(scope="session")
def x25519_stanza_block() -> Callable[[Sequence[Recipient], bytes], bytes]:
    return _x25519_stanza_block
