"""Keep OpenSSL off its AVX512VL code paths, decided before OpenSSL loads.

Why: measured on the project's machines (AMD EPYC with AVX-512, 2 vCPU VMs; OpenSSL 4.0
as linked into ``cryptography`` 50): a thread that has run OpenSSL's AVX512VL code paths
once (ChaCha20-Poly1305 takes them, even for a few bytes) is left in a vector-register
state in which SSE code runs far slower afterwards. libargon2 (the SSE2 build in
argon2-cffi-bindings) then takes ≈235 ms of CPU per receipt derivation instead of
≈140 ms, and its worker threads inherit the state from the thread that starts them.
Every intake request decrypts its session with ChaCha20-Poly1305 before it derives a
receipt key on the same thread, so this cut the intake's submissions per second by a
third (docs/crypto.md, "OpenSSL CPU code paths"). With AVX512VL masked OpenSSL takes its
AVX-512F paths instead: ChaCha20-Poly1305 runs as fast (≈4.8 GB/s on 64 KiB chunks
either way) and libargon2 keeps its speed.

OpenSSL reads ``OPENSSL_ia32cap`` once, when the library is loaded; ``cryptography``
carries its own copy, loaded by the first import of ``cryptography.hazmat.bindings``.
This module is therefore imported first by ``crypto/__init__.py``, and it sets the
variable only when nothing has loaded that copy yet and the operator has not set it:
an operator's own value always wins (``OPENSSL_ia32cap="~0x0:~0x0"`` restores
OpenSSL's own choice, e.g. on a CPU where those paths are the fast ones). The process's
children inherit it, which is harmless: it only masks what OpenSSL may use.
"""

from __future__ import annotations

import os
import sys

# CPUID.(EAX=7, ECX=0):EBX bit 31 is AVX512VL. In OPENSSL_ia32cap the part after ":"
# masks that leaf's EBX (low 32 bits); "~0x0" before it keeps the leaf-1 features as
# detected.
AVX512VL_BIT = 1 << 31
OPENSSL_IA32CAP = f"~0x0:~0x{AVX512VL_BIT:x}"
_VARIABLE = "OPENSSL_ia32cap"  # OpenSSL spells it so; it is case-sensitive
_OPENSSL_MODULE = "cryptography.hazmat.bindings._rust"


def mask_avx512vl() -> bool:
    """Set ``OPENSSL_ia32cap`` if that can still take effect; True if this call set it."""
    if _VARIABLE in os.environ or _OPENSSL_MODULE in sys.modules:
        return False
    os.environ[_VARIABLE] = OPENSSL_IA32CAP
    return True


APPLIED = mask_avx512vl()
