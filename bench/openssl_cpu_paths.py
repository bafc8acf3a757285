"""Argon2id on a thread that ran ChaCha20-Poly1305, with and without OpenSSL's AVX512VL
code paths (crypto/_openssl_cpu.py, docs/crypto.md "OpenSSL CPU code paths").

Not a test. Run from the repository root:

    .venv/bin/python bench/openssl_cpu_paths.py [--runs 7]

Each variant runs in a fresh interpreter, because OpenSSL reads ``OPENSSL_ia32cap``
once, when it loads: "masked" is what ``import crypto`` sets, "openssl's own" sets
``OPENSSL_ia32cap=~0x0:~0x0`` (mask nothing), which the module leaves alone. In each, the
median CPU time (``time.process_time``, all threads) of a receipt derivation with the
default costs (64 MiB, t=3, p=4) and with p=1 is measured on a fresh thread, then on a
thread that first ran one ChaCha20-Poly1305 encryption of a few bytes (as every web
request does with its session), then the ChaCha20-Poly1305 throughput on 64 KiB chunks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, statistics, sys, threading, time
import crypto
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from crypto import ReceiptKdfParams, derive_receipt_keys, new_receipt

runs = int(sys.argv[1])
result = {}

def derive_ms(p):
    params = ReceiptKdfParams(65536, 3, p)
    derive_receipt_keys(new_receipt(), b"s" * 16, params)
    times = []
    for _ in range(runs):
        start = time.process_time()
        derive_receipt_keys(new_receipt(), b"s" * 16, params)
        times.append(time.process_time() - start)
    return round(statistics.median(times) * 1000, 1)

def on_thread(label, chacha_first):
    def body():
        if chacha_first:
            ChaCha20Poly1305(b"k" * 32).encrypt(b"n" * 12, b"hello", None)
        result[label] = {"p=4": derive_ms(4), "p=1": derive_ms(1)}
    thread = threading.Thread(target=body)
    thread.start()
    thread.join()

on_thread("fresh thread", False)
on_thread("after ChaCha20-Poly1305", True)
aead = ChaCha20Poly1305(b"k" * 32)
chunk, out = bytearray(65536), bytearray(65536 + 16)
start = time.perf_counter()
for i in range(4096):
    aead.encrypt_into(i.to_bytes(12, "big"), chunk, None, out)
result["chacha_gb_s"] = round(4096 * 65536 / (time.perf_counter() - start) / 1e9, 2)
print(json.dumps(result))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if k != "OPENSSL_ia32cap"}
    variants = {"masked (default)": base, "openssl's own": {**base, "OPENSSL_ia32cap": "~0x0:~0x0"}}
    for name, env in variants.items():
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(args.runs)],
            cwd=REPO_ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        seen = json.loads(out)
        print(f"{name}: ChaCha20-Poly1305 {seen['chacha_gb_s']} GB/s")
        for label in ("fresh thread", "after ChaCha20-Poly1305"):
            cpu = seen[label]
            print(f"  Argon2id CPU ms, {label}: p=4 {cpu['p=4']}, p=1 {cpu['p=1']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
