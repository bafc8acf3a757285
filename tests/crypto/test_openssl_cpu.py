"""OpenSSL's AVX512VL paths are masked before OpenSSL loads, unless the operator chose.

Each case runs a fresh interpreter: the choice is made once per process, at the first
import, so this process (which already loaded OpenSSL) cannot show it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crypto._openssl_cpu import OPENSSL_IA32CAP

REPO_ROOT = Path(__file__).resolve().parents[2]

# Reports what the process saw: the variable, whether our module set it, and whether
# OpenSSL (cryptography's copy) was loaded before our module ran.
PROBE = """
import json, os, sys
{imports}
import crypto._openssl_cpu as cpu
print(json.dumps({{
    "value": os.environ.get("OPENSSL_ia32cap"),
    "applied": cpu.APPLIED,
    "openssl_loaded": "cryptography.hazmat.bindings._rust" in sys.modules,
}}))
"""


def probe(imports: str, **env: str) -> dict[str, object]:
    base = {k: v for k, v in os.environ.items() if k != "OPENSSL_ia32cap"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(imports=imports)],
        cwd=REPO_ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(result.stdout))


@pytest.mark.parametrize("entry", ["import crypto", "import app", "import crypto.cli"])
def test_every_entry_point_masks_before_openssl_loads(entry: str) -> None:
    seen = probe(entry)
    assert seen == {"value": OPENSSL_IA32CAP, "applied": True, "openssl_loaded": True}


def test_the_mask_is_avx512vl_only() -> None:
    # "~0x0" keeps every leaf-1 feature; only EBX bit 31 of leaf 7 (AVX512VL) is masked.
    assert OPENSSL_IA32CAP == "~0x0:~0x80000000"


def test_an_operators_value_wins() -> None:
    seen = probe("import crypto", OPENSSL_ia32cap="~0x0:~0x0")
    assert seen["value"] == "~0x0:~0x0"
    assert seen["applied"] is False


def test_too_late_is_not_pretended() -> None:
    # Positive control for the check above: had OpenSSL been loaded first, the module
    # would not set a variable that can no longer take effect.
    seen = probe("import cryptography.hazmat.bindings._rust")
    assert seen == {"value": None, "applied": False, "openssl_loaded": True}
