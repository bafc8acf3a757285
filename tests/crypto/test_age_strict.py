"""Each strictness rule of the age header and STREAM payload, on hand-built files.

Every malformed file below carries a *correct* MAC for its bytes, so the
rejection is due to the rule under test and not to a MAC mismatch.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Callable, Sequence

import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from crypto import (
    AgeError,
    HeaderError,
    HeaderMacError,
    Identity,
    NoIdentityMatchError,
    PayloadError,
    Recipient,
    ScryptIdentity,
    decrypt_bytes,
    decrypt_stream,
    encrypt_bytes,
)
from crypto.b64 import decode as b64decode
from crypto.b64 import encode as b64
from crypto.header import MAX_HEADER_SIZE, Stanza

Build = Callable[..., bytes]
Block = Callable[[Sequence[Recipient], bytes], bytes]
FILE_KEY = bytes(range(16))


def _stanza_lines(identity: Identity, block: Block) -> list[bytes]:
    return block([identity.recipient], FILE_KEY).split(b"\n")[:-1]


def test_hand_built_file_is_valid(
    identity: Identity, build_age_file: Build, x25519_stanza_block: Block
) -> None:
    data = build_age_file(x25519_stanza_block([identity.recipient], FILE_KEY), FILE_KEY, b"ok")
    assert decrypt_bytes(data, [identity]) == b"ok"


_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _set_trailing_bit(text: bytes) -> bytes:
    """Same decoded bytes, but a non-zero unused bit in the last character."""
    value = _ALPHABET.index(text[-1:])
    assert value % 2 == 0  # 32 bytes = 43 characters: the last 2 bits are unused
    return text[:-1] + _ALPHABET[value + 1 : value + 2]


def _mutations(identity: Identity, block: Block) -> dict[str, bytes]:
    head, body = _stanza_lines(identity, block)
    share = head.split(b" ")[2]
    raw_share = b64decode(share)
    long_body = Stanza("grease", (), os.urandom(60)).serialise().split(b"\n")
    full48 = Stanza("grease", (), os.urandom(48)).serialise().split(b"\n")
    return {
        "cr_in_stanza_line": head + b"\r\n" + body + b"\n",
        "padded_body": head + b"\n" + body + b"=\n",
        "non_canonical_body": head + b"\n" + _set_trailing_bit(body) + b"\n",
        "non_canonical_share": head.replace(share, _set_trailing_bit(share)) + b"\n" + body + b"\n",
        "share_31_bytes": head.replace(share, b64(raw_share[:31])) + b"\n" + body + b"\n",
        "share_33_bytes": head.replace(share, b64(raw_share + b"\0")) + b"\n" + body + b"\n",
        "extra_argument": head + b" extra\n" + body + b"\n",
        "body_33_bytes": head + b"\n" + b64(b64decode(body) + b"\0") + b"\n",
        "body_line_too_long": long_body[0]
        + b"\n"
        + long_body[1]
        + long_body[2]
        + b"\n"
        + head
        + b"\n"
        + body
        + b"\n",
        "missing_final_short_line": full48[0]
        + b"\n"
        + full48[1]
        + b"\n"
        + head
        + b"\n"
        + body
        + b"\n",
        "two_short_lines": b"-> grease\nAAAA\nAAAA\n" + head + b"\n" + body + b"\n",
        "empty_argument": head.replace(b"-> X25519 ", b"-> X25519  ") + b"\n" + body + b"\n",
        "no_arguments": b"->\n\n" + head + b"\n" + body + b"\n",
        "space_no_type": b"-> \n\n" + head + b"\n" + body + b"\n",
        "invalid_arg_character": b"-> gr\x7fease\n\n" + head + b"\n" + body + b"\n",
        "non_ascii_arg": "-> grée\n\n".encode() + head + b"\n" + body + b"\n",
        "body_missing": head + b"\n",
        "low_order_share": head.replace(share, b64(bytes(32))) + b"\n" + body + b"\n",
        "scrypt_not_alone": b"-> scrypt "
        + b64(bytes(16))
        + b" 10\n"
        + b64(bytes(32))
        + b"\n"
        + head
        + b"\n"
        + body
        + b"\n",
        "no_stanza": b"",
        "bad_stanza_prefix": b"=> grease\n\n" + head + b"\n" + body + b"\n",
        "stanza_not_ending": head + b"\n" + body,
    }


RULES = [
    "cr_in_stanza_line",
    "padded_body",
    "non_canonical_body",
    "non_canonical_share",
    "share_31_bytes",
    "share_33_bytes",
    "extra_argument",
    "body_33_bytes",
    "body_line_too_long",
    "missing_final_short_line",
    "two_short_lines",
    "empty_argument",
    "no_arguments",
    "space_no_type",
    "invalid_arg_character",
    "non_ascii_arg",
    "body_missing",
    "low_order_share",
    "scrypt_not_alone",
    "no_stanza",
    "bad_stanza_prefix",
    "stanza_not_ending",
]


@pytest.mark.parametrize("rule", RULES)
def test_malformed_header_is_header_error(
    rule: str, identity: Identity, build_age_file: Build, x25519_stanza_block: Block
) -> None:
    data = build_age_file(_mutations(identity, x25519_stanza_block)[rule], FILE_KEY)
    with pytest.raises(HeaderError) as info:
        decrypt_bytes(data, [identity])
    assert type(info.value) is HeaderError, info.value


def test_grease_stanzas_are_ignored(
    identity: Identity, build_age_file: Build, x25519_stanza_block: Block
) -> None:
    grease = Stanza("grease", ("a", "~!@"), os.urandom(70)).serialise()
    data = build_age_file(
        grease + x25519_stanza_block([identity.recipient], FILE_KEY), FILE_KEY, b"x"
    )
    assert decrypt_bytes(data, [identity]) == b"x"


def test_only_unknown_stanzas_is_no_match(identity: Identity, build_age_file: Build) -> None:
    data = build_age_file(b"-> grease\n\n", FILE_KEY)
    with pytest.raises(NoIdentityMatchError):
        decrypt_bytes(data, [identity])


def test_wrong_identity_is_no_match(identity: Identity, other_identity: Identity) -> None:
    with pytest.raises(NoIdentityMatchError):
        decrypt_bytes(encrypt_bytes(b"secret", [identity.recipient]), [other_identity])


def test_scrypt_stanza_alone_with_wrong_passphrase_is_no_match(build_age_file: Build) -> None:
    data = build_age_file(
        b"-> scrypt " + b64(bytes(16)) + b" 2\n" + b64(bytes(32)) + b"\n", FILE_KEY
    )
    with pytest.raises(NoIdentityMatchError):
        decrypt_bytes(data, [ScryptIdentity("nope")])


def test_scrypt_work_factor_above_cap_is_refused(build_age_file: Build) -> None:
    data = build_age_file(
        b"-> scrypt " + b64(bytes(16)) + b" 30\n" + b64(bytes(32)) + b"\n", FILE_KEY
    )
    with pytest.raises(HeaderError, match="work factor"):
        decrypt_bytes(data, [ScryptIdentity("pw")])


@pytest.mark.parametrize("mac_line", [b" " + b64(bytes(32)) + b"\n"])
def test_wrong_mac_is_mac_error(
    mac_line: bytes, identity: Identity, build_age_file: Build, x25519_stanza_block: Block
) -> None:
    data = build_age_file(
        x25519_stanza_block([identity.recipient], FILE_KEY), FILE_KEY, mac_line=mac_line
    )
    with pytest.raises(HeaderMacError):
        decrypt_bytes(data, [identity])


@pytest.mark.parametrize(
    "mac_line",
    [
        b" " + b64(bytes(32))[:-1] + b"B\n",  # non-canonical trailing bits
        b" " + b64(bytes(32)) + b"=\n",  # padded
        b"" + b64(bytes(32)) + b"\n",  # no space
        b" " + b64(bytes(32)) + b" \n",  # trailing space
        b" " + b64(bytes(31)) + b"\n",  # truncated
        b" " + b64(bytes(32)) + b"\r\n",  # CR
    ],
)
def test_malformed_mac_line_is_header_error(
    mac_line: bytes, identity: Identity, build_age_file: Build, x25519_stanza_block: Block
) -> None:
    data = build_age_file(
        x25519_stanza_block([identity.recipient], FILE_KEY), FILE_KEY, mac_line=mac_line
    )
    with pytest.raises(HeaderError) as info:
        decrypt_bytes(data, [identity])
    assert type(info.value) is HeaderError


@pytest.mark.parametrize("version", [b"age-encryption.org/v2", b"age-encryption.org/v1 ", b"AGE"])
def test_unsupported_version(
    version: bytes, identity: Identity, build_age_file: Build, x25519_stanza_block: Block
) -> None:
    data = build_age_file(
        x25519_stanza_block([identity.recipient], FILE_KEY), FILE_KEY, version_line=version
    )
    with pytest.raises(HeaderError):
        decrypt_bytes(data, [identity])


def test_empty_input_is_header_error(identity: Identity) -> None:
    with pytest.raises(HeaderError):
        decrypt_bytes(b"", [identity])


def test_huge_header_is_refused_without_reading_everything(identity: Identity) -> None:
    class Endless(io.RawIOBase):
        served = 0

        def readable(self) -> bool:
            return True

        def readinto(self, b: bytearray) -> int:  # type: ignore[override]
            b[:] = b"A" * len(b)
            self.served += len(b)
            return len(b)

    src = Endless()
    header = io.BytesIO(b"age-encryption.org/v1\n-> grease\n")
    chained = io.BufferedReader(_Chain(header, src))  # type: ignore[arg-type]
    with pytest.raises(HeaderError, match="too large"):
        decrypt_stream(chained, [identity])
    assert src.served < 4 * MAX_HEADER_SIZE


class _Chain(io.RawIOBase):
    def __init__(self, *parts: io.IOBase) -> None:
        self.parts = list(parts)

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        while self.parts:
            n = self.parts[0].readinto(b)  # type: ignore[attr-defined]
            if n:
                return int(n)
            self.parts.pop(0)
        return 0


def test_missing_payload_nonce_is_header_error(identity: Identity) -> None:
    data = encrypt_bytes(b"x", [identity.recipient])
    header_end = data.index(b"\n", data.index(b"\n---")) + 1
    for cut in (header_end, header_end + 15):
        with pytest.raises(HeaderError):
            decrypt_bytes(data[:cut], [identity])


# --- payload rules -------------------------------------------------------------------------


def _raw_payload_file(identity: Identity, chunks: list[tuple[bytes, bool]]) -> bytes:
    """An age file whose STREAM chunks are (plaintext, last flag) exactly as given."""
    from crypto.age import _header_mac
    from crypto.header import serialise_mac_line, serialise_without_mac
    from crypto.stream import payload_key

    file_key = secrets.token_bytes(16)
    header = serialise_without_mac([identity.recipient.wrap(file_key)])
    nonce = secrets.token_bytes(16)
    aead = ChaCha20Poly1305(payload_key(file_key, nonce))
    out = header + serialise_mac_line(_header_mac(file_key, header)) + nonce
    for counter, (plaintext, last) in enumerate(chunks):
        out += aead.encrypt(counter.to_bytes(11, "big") + bytes([last]), plaintext, None)
    return out


def _released(data: bytes, identity: Identity) -> tuple[bytes, AgeError | None]:
    out = []
    try:
        for chunk in decrypt_stream(io.BytesIO(data), [identity]):
            out.append(chunk)
    except AgeError as exc:
        return b"".join(out), exc
    return b"".join(out), None


FULL = bytes(65536)


def test_empty_final_chunk_after_data_is_payload_error(identity: Identity) -> None:
    data = _raw_payload_file(identity, [(FULL, False), (b"", True)])
    released, error = _released(data, identity)
    assert isinstance(error, PayloadError)
    assert released == FULL  # the authentic first chunk was released before the error


def test_empty_payload_single_empty_chunk_is_fine(identity: Identity) -> None:
    assert _released(_raw_payload_file(identity, [(b"", True)]), identity) == (b"", None)


def test_no_final_chunk_is_payload_error(identity: Identity) -> None:
    released, error = _released(
        _raw_payload_file(identity, [(FULL, False), (FULL, False)]), identity
    )
    assert isinstance(error, PayloadError) and released == FULL * 2


def test_final_flag_in_middle_is_payload_error(identity: Identity) -> None:
    _, error = _released(_raw_payload_file(identity, [(b"abc", True), (b"def", True)]), identity)
    assert isinstance(error, PayloadError)


def test_full_final_chunk_then_more_is_payload_error(identity: Identity) -> None:
    released, error = _released(_raw_payload_file(identity, [(FULL, True), (b"x", True)]), identity)
    assert isinstance(error, PayloadError) and released == FULL


@pytest.mark.parametrize(
    "extra", [b"\0", os.urandom(17), os.urandom(70000)], ids=["nul", "17-random", "70000-random"]
)
def test_trailing_data_is_payload_error(identity: Identity, extra: bytes) -> None:
    released, error = _released(encrypt_bytes(b"hello", [identity.recipient]) + extra, identity)
    assert isinstance(error, PayloadError)
    assert released in (b"", b"hello")


def test_no_chunk_at_all_is_payload_error(identity: Identity) -> None:
    data = _raw_payload_file(identity, [])
    assert isinstance(_released(data, identity)[1], PayloadError)


@pytest.mark.parametrize("cut", [1, 10, 16, 17])
def test_truncated_inside_final_chunk_is_payload_error(identity: Identity, cut: int) -> None:
    data = encrypt_bytes(b"hello world", [identity.recipient])
    assert isinstance(_released(data[:-cut], identity)[1], PayloadError)


def test_truncated_at_chunk_boundary_is_payload_error(identity: Identity) -> None:
    plaintext = os.urandom(3 * 65536 + 5)
    data = encrypt_bytes(plaintext, [identity.recipient])
    released, error = _released(data[: -(5 + 16)], identity)
    assert isinstance(error, PayloadError)
    assert released == plaintext[: 3 * 65536]
