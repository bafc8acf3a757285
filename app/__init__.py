"""Liêm Chính. The web apps are made in :mod:`app.factory`; the domain is :mod:`app.cases`.

Nothing here but one process-wide setting that must come before OpenSSL is loaded.
"""

# Before anything loads OpenSSL (app.web.sessions, cryptography): crypto/_openssl_cpu.py
# says why. Every import of an ``app`` module runs this first.
import crypto._openssl_cpu  # noqa: F401
