"""Interoperability with the reference ``age`` / ``age-keygen`` binaries."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from crypto import Identity, Recipient, decrypt_stream, encrypt_stream, parse_identity_file

AGE = shutil.which("age")
AGE_KEYGEN = shutil.which("age-keygen")
pytestmark = pytest.mark.skipif(
    AGE is None or AGE_KEYGEN is None, reason="the age / age-keygen binaries are not installed"
)

SIZES = [0, 1, 65535, 65536, 65537, 2 * 65536 - 1, 2 * 65536, 2 * 65536 + 1, 5_000_011]


def _keygen(path: Path) -> Identity:
    assert AGE_KEYGEN is not None
    subprocess.run([AGE_KEYGEN, "-o", str(path)], check=True, capture_output=True)
    identities = parse_identity_file(path.read_text())
    assert len(identities) == 1
    return identities[0]


@pytest.fixture(scope="module")
def age_keys(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Identity]]:
    directory = tmp_path_factory.mktemp("keys")
    return [(directory / f"k{i}.txt", _keygen(directory / f"k{i}.txt")) for i in range(5)]


def _data(size: int) -> bytes:
    return os.urandom(size)


def test_age_keygen_identity_files_parse(age_keys: list[tuple[Path, Identity]]) -> None:
    assert AGE_KEYGEN is not None
    for path, identity in age_keys:
        public = subprocess.run(
            [AGE_KEYGEN, "-y", str(path)], check=True, capture_output=True, text=True
        ).stdout.strip()
        assert str(identity.recipient) == public
        assert Recipient.parse(public) == identity.recipient
        # The secret key line round-trips exactly (uppercase Bech32).
        assert str(identity) in path.read_text().splitlines()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("n_recipients", [1, 5])
def test_ours_decrypts_with_age(
    tmp_path: Path, age_keys: list[tuple[Path, Identity]], size: int, n_recipients: int
) -> None:
    assert AGE is not None
    plaintext = _data(size)
    keys = age_keys[:n_recipients]
    encrypted = tmp_path / "ours.age"
    with encrypted.open("wb") as dst:
        assert encrypt_stream(io.BytesIO(plaintext), dst, [k[1].recipient for k in keys]) == size
    # Every recipient, not just the first, can decrypt with age.
    for key_path, _ in keys:
        out = subprocess.run(
            [AGE, "-d", "-i", str(key_path), str(encrypted)], check=True, capture_output=True
        ).stdout
        assert hashlib.sha256(out).digest() == hashlib.sha256(plaintext).digest()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("n_recipients", [1, 5])
def test_age_output_decrypts_here(
    tmp_path: Path, age_keys: list[tuple[Path, Identity]], size: int, n_recipients: int
) -> None:
    assert AGE is not None
    plaintext = _data(size)
    source = tmp_path / "plain"
    source.write_bytes(plaintext)
    keys = age_keys[:n_recipients]
    args = [AGE, "-o", str(tmp_path / "theirs.age")]
    for _, identity in keys:
        args += ["-r", str(identity.recipient)]
    subprocess.run([*args, str(source)], check=True, capture_output=True)
    for _, identity in keys:
        with (tmp_path / "theirs.age").open("rb") as src:
            assert b"".join(decrypt_stream(src, [identity])) == plaintext


def test_age_armored_output_decrypts_here(
    tmp_path: Path, age_keys: list[tuple[Path, Identity]]
) -> None:
    from crypto import ArmoredReader

    assert AGE is not None
    plaintext = _data(100_000)
    (tmp_path / "plain").write_bytes(plaintext)
    identity = age_keys[0][1]
    subprocess.run(
        [
            AGE,
            "-a",
            "-r",
            str(identity.recipient),
            "-o",
            str(tmp_path / "a.age"),
            str(tmp_path / "plain"),
        ],
        check=True,
    )
    with (tmp_path / "a.age").open("rb") as src:
        assert b"".join(decrypt_stream(ArmoredReader(src), [identity])) == plaintext  # type: ignore[arg-type]


def test_age_rejects_our_truncated_file(
    tmp_path: Path, age_keys: list[tuple[Path, Identity]]
) -> None:
    """Sanity check of the oracle: a file cut at a chunk boundary fails in age too."""
    assert AGE is not None
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(_data(3 * 65536)), out, [age_keys[0][1].recipient])
    cut = len(out.getvalue()) - (65536 + 16)
    (tmp_path / "cut.age").write_bytes(out.getvalue()[:cut])
    result = subprocess.run(
        [AGE, "-d", "-i", str(age_keys[0][0]), str(tmp_path / "cut.age")], capture_output=True
    )
    assert result.returncode != 0
