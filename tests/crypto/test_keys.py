"""Identities, recipients, Bech32 and identity files."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    Identity,
    KeyFormatError,
    Recipient,
    bech32,
    parse_identity_file,
    parse_recipients_file,
)

# From the age CCTV vectors (x25519): a published test identity.
TEST_IDENTITY = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"


def test_identity_string_round_trip() -> None:
    identity = Identity.parse(TEST_IDENTITY)
    assert str(identity) == TEST_IDENTITY
    assert Identity.parse(TEST_IDENTITY.lower()) == identity  # Bech32 is case-insensitive
    assert Identity.from_bytes(identity.private_bytes) == identity


def test_generated_identity_formats() -> None:
    identity = Identity.generate()
    text = str(identity)
    assert text.startswith("AGE-SECRET-KEY-1") and text == text.upper() and len(text) == 74
    recipient = str(identity.recipient)
    assert recipient.startswith("age1") and len(recipient) == 62
    assert Recipient.parse(recipient) == identity.recipient
    assert hash(Recipient.parse(recipient)) == hash(identity.recipient)
    assert Identity.generate().recipient != identity.recipient


def test_a_parsed_recipient_prints_in_canonical_form() -> None:
    # str() of a parsed recipient is remembered from the input, so it must be the
    # canonical (lower-case, trimmed) encoding, as if freshly encoded.
    canonical = str(Identity.generate().recipient)
    for typed in (canonical, canonical.upper(), f"  {canonical}\n"):
        assert str(Recipient.parse(typed)) == canonical


def test_repr_does_not_leak_the_secret() -> None:
    identity = Identity.generate()
    assert str(identity) not in repr(identity)
    assert str(identity.recipient) in repr(identity)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "age1",
        TEST_IDENTITY,  # an identity is not a recipient
        "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",  # bad checksum
        "Age1" + "q" * 58,  # mixed case
    ],
)
def test_bad_recipients(text: str) -> None:
    with pytest.raises(KeyFormatError):
        Recipient.parse(text)


def test_recipient_with_typo_is_rejected() -> None:
    good = str(Identity.generate().recipient)
    typo = good[:10] + ("q" if good[10] != "q" else "p") + good[11:]
    with pytest.raises(KeyFormatError):
        Recipient.parse(typo)


@pytest.mark.parametrize(
    "text", ["", TEST_IDENTITY[:-1], TEST_IDENTITY.replace("AGE-SECRET", "AGX-SECRET"), "age1abc"]
)
def test_bad_identities(text: str) -> None:
    with pytest.raises(KeyFormatError):
        Identity.parse(text)


@settings(max_examples=50)
@given(st.binary(max_size=64), st.sampled_from(["age", "age-secret-key-", "x"]))
def test_bech32_round_trip(data: bytes, hrp: str) -> None:
    assert bech32.decode(bech32.encode(hrp, data)) == (hrp, data)


def test_identity_file_as_written_by_age_keygen() -> None:
    identity = Identity.parse(TEST_IDENTITY)
    text = (
        "# created: 2026-01-01T00:00:00Z\n"
        f"# public key: {identity.recipient}\n"
        f"{TEST_IDENTITY}\n"
        "\n"
        "# a second key\r\n"
        f"  {Identity.generate()}  \r\n"
    )
    parsed = parse_identity_file(text)
    assert len(parsed) == 2 and parsed[0] == identity


@pytest.mark.parametrize("text", ["", "# only a comment\n", "not a key\n", f"{TEST_IDENTITY} x\n"])
def test_bad_identity_files(text: str) -> None:
    with pytest.raises(KeyFormatError) as info:
        parse_identity_file(text)
    assert TEST_IDENTITY not in str(info.value)  # never echo a secret


def test_recipients_file() -> None:
    a, b = Identity.generate().recipient, Identity.generate().recipient
    assert parse_recipients_file(f"# team\n{a}\n\n{b}\n") == [a, b]
    with pytest.raises(KeyFormatError):
        parse_recipients_file(f"{a}\nbogus\n")
