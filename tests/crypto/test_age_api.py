"""The streaming API: round trips, AgeWriter buffering, all-or-nothing files, inspection."""

from __future__ import annotations

import io
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    AgeError,
    AgeWriter,
    FileTooLargeError,
    HeaderError,
    Identity,
    NoIdentityMatchError,
    PayloadError,
    decrypt_bytes,
    decrypt_stream,
    decrypt_to_file,
    encrypt_bytes,
    encrypt_stream,
    inspect_age_file,
)

CHUNK = 65536
_SIZES = st.one_of(
    st.integers(0, 300),
    st.sampled_from([CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK - 1, 2 * CHUNK, 2 * CHUNK + 1]),
    st.integers(0, 3 * CHUNK + 100),
)


def _bytes(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


@settings(max_examples=50, deadline=None)
@given(size=_SIZES, seed=st.integers(0, 2**32))
def test_round_trip(identity: Identity, size: int, seed: int) -> None:
    plaintext = _bytes(seed, size)
    assert decrypt_bytes(encrypt_bytes(plaintext, [identity.recipient]), [identity]) == plaintext


@settings(max_examples=50, deadline=None)
@given(
    size=st.sampled_from([0, 1, 100, CHUNK, CHUNK + 7]),
    position=st.floats(0, 1, exclude_max=True),
    mask=st.integers(1, 255),
)
def test_any_flipped_byte_is_detected(
    identity: Identity, size: int, position: float, mask: int
) -> None:
    plaintext = _bytes(size, size)
    data = bytearray(encrypt_bytes(plaintext, [identity.recipient]))
    index = int(position * len(data))
    data[index] ^= mask
    released = []
    with pytest.raises(AgeError):
        for chunk in decrypt_stream(io.BytesIO(bytes(data)), [identity]):
            released.append(chunk)
    # Whatever came out before the error is genuine plaintext, never altered data.
    assert plaintext.startswith(b"".join(released))


def test_every_recipient_can_decrypt(identity: Identity, other_identity: Identity) -> None:
    third = Identity.generate()
    data = encrypt_bytes(
        b"to three", [identity.recipient, other_identity.recipient, third.recipient]
    )
    for who in (identity, other_identity, third):
        assert decrypt_bytes(data, [who]) == b"to three"
    # Any one matching identity in the list is enough.
    assert decrypt_bytes(data, [Identity.generate(), third]) == b"to three"


def test_duplicate_recipients_give_one_stanza(identity: Identity) -> None:
    data = encrypt_bytes(b"x", [identity.recipient, identity.recipient])
    assert data.count(b"-> X25519 ") == 1


def test_no_recipient_is_refused() -> None:
    with pytest.raises(ValueError):
        encrypt_bytes(b"x", [])


def test_header_errors_are_raised_eagerly(identity: Identity, other_identity: Identity) -> None:
    data = encrypt_bytes(b"x", [identity.recipient])
    with pytest.raises(NoIdentityMatchError):
        decrypt_stream(io.BytesIO(data), [other_identity])  # no next() needed


@settings(max_examples=30, deadline=None)
@given(writes=st.lists(st.integers(0, 3 * CHUNK), max_size=8))
def test_age_writer_buffers_at_most_one_chunk(identity: Identity, writes: list[int]) -> None:
    sink = io.BytesIO()
    plaintext = bytearray()
    with AgeWriter(sink, [identity.recipient]) as writer:
        header_size = len(sink.getvalue())
        for i, n in enumerate(writes):
            block = _bytes(i, n)
            assert writer.write(block) == n
            plaintext += block
            written_chunks = (len(sink.getvalue()) - header_size) // (CHUNK + 16)
            # Plaintext not yet written out is held in memory: at most one chunk.
            assert len(plaintext) - written_chunks * CHUNK <= CHUNK
        assert writer.plaintext_size == len(plaintext)
    assert decrypt_bytes(sink.getvalue(), [identity]) == plaintext


def test_age_writer_close_does_not_close_destination(identity: Identity) -> None:
    sink = io.BytesIO()
    writer = AgeWriter(sink, [identity.recipient])
    writer.write(b"abc")
    writer.close()
    writer.close()  # idempotent
    assert not sink.closed
    with pytest.raises(ValueError):
        writer.write(b"more")
    assert decrypt_bytes(sink.getvalue(), [identity]) == b"abc"


def test_age_writer_exception_leaves_undecryptable_output(identity: Identity) -> None:
    sink = io.BytesIO()
    with pytest.raises(RuntimeError), AgeWriter(sink, [identity.recipient]) as writer:
        writer.write(os.urandom(3 * CHUNK))
        raise RuntimeError("upload interrupted")
    # A truncated upload must never pass for a complete, shorter file.
    with pytest.raises(PayloadError):
        decrypt_bytes(sink.getvalue(), [identity])


def test_encrypt_stream_reports_size(identity: Identity) -> None:
    plaintext = os.urandom(CHUNK * 5 + 3)
    sink = io.BytesIO()
    assert encrypt_stream(io.BytesIO(plaintext), sink, [identity.recipient]) == len(plaintext)
    assert decrypt_bytes(sink.getvalue(), [identity]) == plaintext


def test_decrypt_to_file_success(identity: Identity, tmp_path: Path) -> None:
    plaintext = os.urandom(2 * CHUNK + 1)
    target = tmp_path / "out.bin"
    data = encrypt_bytes(plaintext, [identity.recipient])
    assert decrypt_to_file(io.BytesIO(data), [identity], target) == len(plaintext)
    assert target.read_bytes() == plaintext
    assert os.listdir(tmp_path) == ["out.bin"]


@pytest.mark.parametrize("damage", ["truncate", "flip_last_chunk", "wrong_key"])
def test_decrypt_to_file_failure_leaves_nothing(
    identity: Identity, tmp_path: Path, damage: str
) -> None:
    data = bytearray(encrypt_bytes(os.urandom(3 * CHUNK + 10), [identity.recipient]))
    identities = [identity]
    if damage == "truncate":
        data = data[: -(10 + 16)]
    elif damage == "flip_last_chunk":
        data[-1] ^= 1
    else:
        identities = [Identity.generate()]
    target = tmp_path / "out.bin"
    target.write_bytes(b"previous content")
    with pytest.raises(AgeError):
        decrypt_to_file(io.BytesIO(bytes(data)), identities, target)
    assert target.read_bytes() == b"previous content"
    assert os.listdir(tmp_path) == ["out.bin"]  # the temp file is gone


# --- inspect_age_file ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, CHUNK, CHUNK + 1, 3 * CHUNK])
def test_inspect_valid_file(identity: Identity, other_identity: Identity, size: int) -> None:
    data = encrypt_bytes(os.urandom(size), [identity.recipient, other_identity.recipient])
    info = inspect_age_file(io.BytesIO(data), max_size=len(data))
    assert info.stanza_types == ("X25519", "X25519")
    assert info.header_size + info.payload_size == len(data)
    assert info.plaintext_size == size


def test_inspect_too_large(identity: Identity) -> None:
    data = encrypt_bytes(os.urandom(1000), [identity.recipient])
    with pytest.raises(FileTooLargeError):
        inspect_age_file(io.BytesIO(data), max_size=len(data) - 1)
    with pytest.raises(FileTooLargeError):
        inspect_age_file(io.BytesIO(data), max_size=50)


def test_inspect_rejects_other_stanza_types(build_age_file: Callable[..., bytes]) -> None:
    data = build_age_file(b"-> scrypt AAAAAAAAAAAAAAAAAAAAAA 10\n" + b"A" * 43 + b"\n", bytes(16))
    with pytest.raises(HeaderError, match="only X25519"):
        inspect_age_file(io.BytesIO(data), max_size=10**6)


def test_inspect_rejects_malformed_header() -> None:
    with pytest.raises(HeaderError):
        inspect_age_file(io.BytesIO(b"age-encryption.org/v1\n-> X25519 abc\n\n--- x\n"), 10**6)
    with pytest.raises(HeaderError):
        inspect_age_file(io.BytesIO(b"not an age file at all"), 10**6)


@pytest.mark.parametrize(
    ("payload_size", "ok"),
    [
        (16, False),  # nonce only, no chunk
        (16 + 15, False),  # shorter than a tag
        (16 + 16, True),  # empty file: one empty final chunk
        (16 + 17, True),
        (16 + CHUNK + 16, True),  # one full final chunk
        (16 + CHUNK + 16 + 16, False),  # empty final chunk after a full one
        (16 + CHUNK + 16 + 17, True),
        (16 + CHUNK + 16 + 5, False),  # second chunk truncated below tag size
    ],
)
def test_inspect_payload_layout(identity: Identity, payload_size: int, ok: bool) -> None:
    header = encrypt_bytes(b"", [identity.recipient])[:-32]
    data = header + os.urandom(payload_size)
    if ok:
        assert inspect_age_file(io.BytesIO(data), 10**7).payload_size == payload_size
    else:
        with pytest.raises((PayloadError, HeaderError)):
            inspect_age_file(io.BytesIO(data), 10**7)


def test_inspect_missing_nonce(identity: Identity) -> None:
    header = encrypt_bytes(b"", [identity.recipient])[:-32]
    with pytest.raises(HeaderError):
        inspect_age_file(io.BytesIO(header + b"x" * 10), 10**6)


@settings(max_examples=30, deadline=None)
@given(
    size=st.sampled_from([0, 1, CHUNK, CHUNK + 7, 3 * CHUNK]),
    position=st.floats(0, 1, exclude_max=True),
    mask=st.integers(0, 255),
)
def test_decrypt_stream_views_match_decrypt_stream(
    identity: Identity, size: int, position: float, mask: int
) -> None:
    """The reused-buffer variant releases exactly what decrypt_stream does."""
    from crypto.age import decrypt_stream_views

    plaintext = _bytes(size + 1, size)
    data = bytearray(encrypt_bytes(plaintext, [identity.recipient]))
    data[int(position * len(data))] ^= mask  # mask 0: untouched

    def collect(views: bool) -> tuple[bytes, type[BaseException] | None]:
        out = bytearray()
        try:
            opener = decrypt_stream_views if views else decrypt_stream
            for chunk in opener(io.BytesIO(bytes(data)), [identity]):
                out += chunk  # a view must be consumed before the next chunk
        except AgeError as exc:
            return bytes(out), type(exc)
        return bytes(out), None

    assert collect(views=True) == collect(views=False)
    released, error = collect(views=True)
    assert plaintext.startswith(released)
    assert (error is None) == (mask == 0)
