"""PADMÉ padding lengths: the formula's properties, and the very same numbers from the
browser's implementation (assets/js/padding.js), which pads on the JavaScript path."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import padme_length, padme_max_padding

ROOT = Path(__file__).resolve().parents[2]
PADDING_JS = ROOT / "assets" / "js" / "padding.js"
NODE = shutil.which("node")
SAFE = 2**53 - 1  # JavaScript numbers are exact up to here

lengths = st.integers(min_value=0, max_value=SAFE)


def js_padme(values: list[int]) -> list[int]:
    """padmeLength of each value, computed by Node running assets/js/padding.js."""
    assert NODE is not None
    script = (
        f"import {{ padmeLength }} from {json.dumps(PADDING_JS.as_uri())};\n"
        "let input = '';\n"
        "process.stdin.on('data', (d) => (input += d));\n"
        "process.stdin.on('end', () => {\n"
        "  const out = JSON.parse(input).map((n) => padmeLength(n));\n"
        "  process.stdout.write(JSON.stringify(out));\n"
        "});\n"
    )
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", script],
        input=json.dumps(values).encode(),
        capture_output=True,
        check=True,
        timeout=60,
    )
    return [int(v) for v in json.loads(done.stdout)]


needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


def test_known_values() -> None:
    # E = floor(log2 L), S = floor(log2 E) + 1; L rounded up to a multiple of 2^(E-S).
    assert [padme_length(n) for n in (0, 1, 2, 3, 8, 9, 129, 1000, 1010)] == [
        0,
        1,
        2,
        3,
        8,
        10,
        144,
        1024,
        1024,
    ]
    assert padme_length(76_800) == 77_824  # E = 16, S = 5: multiples of 2048
    assert padme_length(50 * 1024 * 1024 + 1) == 51 * 1024 * 1024  # multiples of 1 MiB
    with pytest.raises(ValueError):
        padme_length(-1)


@given(lengths)
def test_padded_length_is_the_next_multiple_of_its_bucket(n: int) -> None:
    padded = padme_length(n)
    assert padded >= n
    assert padme_length(padded) == padded
    if n >= 2:
        e = n.bit_length() - 1
        step = 2 ** (e - e.bit_length())
        assert padded % step == 0 and padded - n < step
        assert (padded - n) * 2 ** e.bit_length() < n + 2 ** e.bit_length()  # < 2^-S of n
        assert padded - n <= 0.117 * n


@given(lengths, lengths)
def test_padding_never_reorders_lengths(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert padme_length(low) <= padme_length(high)
    assert padme_length(low) - low <= padme_max_padding(high)


def test_few_buckets_leak_little() -> None:
    # The 65536 lengths from 2^16 to 2^17 - 1 pad to only 33 lengths (2^S + 1, S = 5).
    assert len({padme_length(n) for n in range(2**16, 2**17)}) == 33


@needs_node
def test_javascript_gives_the_same_lengths_everywhere_that_matters() -> None:
    values = list(range(0, 70_001))
    for k in range(1, 54):
        values += [v for v in (2**k - 2, 2**k - 1, 2**k, 2**k + 1, 2**k + 2) if 0 <= v <= SAFE]
    assert js_padme(values) == [padme_length(n) for n in values]


@needs_node
@settings(max_examples=5, deadline=None)
@given(st.lists(lengths, min_size=1, max_size=1000))
def test_javascript_gives_the_same_lengths_for_any_length(values: list[int]) -> None:
    assert js_padme(values) == [padme_length(n) for n in values]
