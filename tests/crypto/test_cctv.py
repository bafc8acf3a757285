"""C2SP/CCTV age conformance vectors.

Folder: $LIEMCHINH_AGE_VECTORS, else <repo>/../shared/testdata/age-cctv.
Format (see NOTICE.md there): ``key: value`` lines, an empty line, the age
file (zlib-compressed when ``compressed: zlib``).
"""

from __future__ import annotations

import collections
import hashlib
import io
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pytest

from crypto import (
    AgeError,
    ArmorError,
    HeaderError,
    HeaderMacError,
    Identity,
    NoIdentityMatchError,
    PayloadError,
    ScryptIdentity,
    decrypt_stream,
)
from crypto.armor import ArmoredReader

REPO_ROOT = Path(__file__).resolve().parents[2]
VECTORS = Path(
    os.environ.get("LIEMCHINH_AGE_VECTORS", REPO_ROOT.parent / "shared" / "testdata" / "age-cctv")
)

if not VECTORS.is_dir():
    pytest.skip(f"age CCTV vectors not found at {VECTORS}", allow_module_level=True)

EXPECTED: dict[str, type[AgeError] | None] = {
    "success": None,
    "no match": NoIdentityMatchError,
    "HMAC failure": HeaderMacError,
    "header failure": HeaderError,
    "payload failure": PayloadError,
    "armor failure": ArmorError,
}


@dataclass
class Vector:
    name: str
    expect: str
    payload_sha256: str | None
    identities: list[str] = field(default_factory=list)
    passphrases: list[str] = field(default_factory=list)
    armored: bool = False
    body: bytes = b""

    def skip_reason(self) -> str | None:
        if any(not i.startswith("AGE-SECRET-KEY-1") for i in self.identities):
            return "uses an identity type we do not know (post-quantum hybrid)"
        return None


def load(path: Path) -> Vector:
    raw = path.read_bytes()
    head, sep, body = raw.partition(b"\n\n")
    assert sep, f"{path.name}: no blank line after the metadata"
    meta: dict[str, str] = {}
    vector = Vector(name=path.name, expect="", payload_sha256=None)
    for line in head.decode("utf-8").split("\n"):
        key, _, value = line.partition(": ")
        if key == "identity":
            vector.identities.append(value)
        elif key == "passphrase":
            vector.passphrases.append(value)
        else:
            meta[key] = value
    vector.expect = meta["expect"]
    vector.payload_sha256 = meta.get("payload")
    vector.armored = meta.get("armored") == "yes"
    vector.body = zlib.decompress(body) if meta.get("compressed") == "zlib" else body
    return vector


VECTOR_FILES = sorted(p for p in VECTORS.iterdir() if p.is_file() and p.name != "NOTICE.md")
ALL = [load(p) for p in VECTOR_FILES]


def run(vector: Vector) -> tuple[BaseException | None, bytes]:
    identities: list[Identity | ScryptIdentity] = [Identity.parse(i) for i in vector.identities]
    identities += [ScryptIdentity(p) for p in vector.passphrases]
    released: list[bytes] = []
    src: BinaryIO = io.BytesIO(vector.body)
    if vector.armored:
        src = ArmoredReader(src)  # type: ignore[assignment]
    try:
        for chunk in decrypt_stream(src, identities):
            released.append(chunk)
    except AgeError as exc:
        return exc, b"".join(released)
    return None, b"".join(released)


@pytest.mark.parametrize("vector", ALL, ids=[v.name for v in ALL])
def test_vector(vector: Vector) -> None:
    reason = vector.skip_reason()
    if reason:
        pytest.skip(reason)
    error, released = run(vector)
    expected = EXPECTED[vector.expect]
    if expected is None:
        assert error is None, f"expected success, got {error!r}"
    else:
        # Exact class: a HeaderMacError must not pass for a plain HeaderError.
        assert type(error) is expected, f"expected {expected.__name__}, got {error!r}"
    if vector.payload_sha256 is not None:
        assert hashlib.sha256(released).hexdigest() == vector.payload_sha256
    else:
        assert released == b""


def test_coverage_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """Most vectors run; print how many were skipped and why."""
    reasons = collections.Counter(v.skip_reason() or "run" for v in ALL)
    ran = reasons.pop("run", 0)
    with capsys.disabled():
        print(f"\nCCTV: {len(ALL)} vectors, {ran} run")
        for reason, count in sorted(reasons.items()):
            print(f"CCTV: {count} skipped: {reason}")
    assert len(ALL) == 143
    assert ran > 100
    outcomes = collections.Counter(v.expect for v in ALL if v.skip_reason() is None)
    # Every outcome class is exercised, including payload failures with partial output.
    assert set(outcomes) == set(EXPECTED)
