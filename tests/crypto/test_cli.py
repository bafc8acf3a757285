"""``python -m crypto`` as an operator would run it (subprocess, cwd = repo root)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from crypto import Identity, decrypt_bytes, encrypt_bytes, parse_identity_file

REPO_ROOT = Path(__file__).resolve().parents[2]
AGE = shutil.which("age")
needs_age = pytest.mark.skipif(AGE is None, reason="the age binary is not installed")


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "crypto", *args], cwd=REPO_ROOT, input=stdin, capture_output=True
    )


def _assert_one_line_error(result: subprocess.CompletedProcess[bytes]) -> None:
    assert result.returncode == 1
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr


def test_keygen_to_file(tmp_path: Path) -> None:
    key = tmp_path / "key.txt"
    result = run("keygen", "-o", str(key))
    assert result.returncode == 0
    lines = key.read_text().splitlines()
    assert lines[0].startswith("# created: ")
    identities = parse_identity_file(key.read_text())
    assert lines[1] == f"# public key: {identities[0].recipient}"
    assert result.stderr.decode().strip() == f"Public key: {identities[0].recipient}"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # It refuses to overwrite an existing key.
    again = run("keygen", "-o", str(key))
    _assert_one_line_error(again)
    assert parse_identity_file(key.read_text()) == identities


def test_keygen_to_stdout() -> None:
    result = run("keygen")
    assert result.returncode == 0
    assert len(parse_identity_file(result.stdout.decode())) == 1


def test_encrypt_decrypt_files(tmp_path: Path) -> None:
    identity = Identity.generate()
    other = Identity.generate()
    (tmp_path / "key").write_text(f"{identity}\n")
    (tmp_path / "recipients").write_text(f"# team\n{other.recipient}\n")
    plaintext = os.urandom(200_000)
    (tmp_path / "plain").write_bytes(plaintext)
    enc = run(
        "encrypt", "-r", str(identity.recipient), "-R", str(tmp_path / "recipients"),
        "-o", str(tmp_path / "c.age"), str(tmp_path / "plain"),
    )  # fmt: skip
    assert enc.returncode == 0, enc.stderr
    data = (tmp_path / "c.age").read_bytes()
    assert decrypt_bytes(data, [identity]) == plaintext
    assert decrypt_bytes(data, [other]) == plaintext
    dec = run(
        "decrypt", "-i", str(tmp_path / "key"), "-o", str(tmp_path / "out"), str(tmp_path / "c.age")
    )
    assert dec.returncode == 0, dec.stderr
    assert (tmp_path / "out").read_bytes() == plaintext


def test_stdin_stdout(tmp_path: Path) -> None:
    identity = Identity.generate()
    (tmp_path / "key").write_text(f"{identity}\n")
    enc = run("encrypt", "-r", str(identity.recipient), stdin=b"via pipes")
    assert enc.returncode == 0
    dec = run("decrypt", "-i", str(tmp_path / "key"), stdin=enc.stdout)
    assert dec.returncode == 0 and dec.stdout == b"via pipes"


def test_decrypt_failure_removes_partial_output(tmp_path: Path) -> None:
    identity = Identity.generate()
    (tmp_path / "key").write_text(f"{identity}\n")
    data = encrypt_bytes(os.urandom(300_000), [identity.recipient])
    (tmp_path / "c.age").write_bytes(data[:-100])  # truncated
    result = run(
        "decrypt", "-i", str(tmp_path / "key"), "-o", str(tmp_path / "out"), str(tmp_path / "c.age")
    )
    _assert_one_line_error(result)
    assert sorted(os.listdir(tmp_path)) == ["c.age", "key"]


@pytest.mark.parametrize(
    "args",
    [
        ["encrypt", "-r", "age1notarecipient", "-o", "{out}", "{plain}"],
        ["encrypt", "-o", "{out}", "{plain}"],
        ["encrypt", "-r", "{recipient}", "-o", "{out}", "{missing}"],
        ["decrypt", "-i", "{missing}", "-o", "{out}", "{plain}"],
        ["decrypt", "-i", "{key}", "-o", "{out}", "{plain}"],  # not an age file
        ["decrypt", "-i", "{wrongkey}", "-o", "{out}", "{cipher}"],
    ],
)
def test_failures_exit_1_with_one_line(tmp_path: Path, args: list[str]) -> None:
    identity = Identity.generate()
    paths = {
        "out": str(tmp_path / "out"),
        "plain": str(tmp_path / "plain"),
        "missing": str(tmp_path / "missing"),
        "key": str(tmp_path / "key"),
        "wrongkey": str(tmp_path / "wrongkey"),
        "cipher": str(tmp_path / "cipher"),
        "recipient": str(identity.recipient),
    }
    (tmp_path / "plain").write_bytes(b"data")
    (tmp_path / "key").write_text(f"{identity}\n")
    (tmp_path / "wrongkey").write_text(f"{Identity.generate()}\n")
    (tmp_path / "cipher").write_bytes(encrypt_bytes(b"x", [identity.recipient]))
    result = run(*[a.format(**paths) for a in args])
    _assert_one_line_error(result)
    assert not (tmp_path / "out").exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")]


@needs_age
def test_interop_with_age(tmp_path: Path) -> None:
    assert AGE is not None
    key = tmp_path / "key.txt"
    assert run("keygen", "-o", str(key)).returncode == 0
    recipient = parse_identity_file(key.read_text())[0].recipient
    plaintext = os.urandom(150_000)
    (tmp_path / "plain").write_bytes(plaintext)
    # ours -> age
    assert (
        run(
            "encrypt",
            "-r",
            str(recipient),
            "-o",
            str(tmp_path / "ours.age"),
            str(tmp_path / "plain"),
        ).returncode
        == 0
    )
    out = subprocess.run(
        [AGE, "-d", "-i", str(key), str(tmp_path / "ours.age")], capture_output=True, check=True
    )
    assert out.stdout == plaintext
    # age (binary and armored) -> ours
    for extra in ([], ["-a"]):
        subprocess.run(
            [
                AGE,
                *extra,
                "-r",
                str(recipient),
                "-o",
                str(tmp_path / "theirs.age"),
                str(tmp_path / "plain"),
            ],
            check=True,
        )
        dec = run("decrypt", "-i", str(key), str(tmp_path / "theirs.age"))
        assert dec.returncode == 0, dec.stderr
        assert dec.stdout == plaintext
        (tmp_path / "theirs.age").unlink()
