"""One-time tokens on the report form, so that a re-sent form is not stored twice.

Reloading the receipt page re-sends the POST; a reporter who does it must not create a
second case. Each rendered form carries a nonce; the first POST with it spends it.

The nonce is signed rather than stored: ``random || HMAC(secret key, session's CSRF
secret || random)``. Showing the form therefore writes nothing (an earlier version kept
the issued nonces in the session, so every GET of the form was a database write), and a
nonce only works in the session that received it. Spent nonces are kept in the session,
which a submission writes anyway; the last ``MAX_SPENT`` are remembered, more than a
reporter sends in one session (its absolute lifetime is two hours).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from flask import current_app, session
from flask_wtf.csrf import generate_csrf

_SPENT = "spent_form_nonces"
MAX_SPENT = 32
_RANDOM_BYTES = 16
_TAG_BYTES = 16
_LABEL = b"liemchinh-form-nonce-v1\x00"


def _tag(random: bytes) -> bytes:
    generate_csrf()  # makes sure the session has its CSRF secret
    csrf_secret = str(session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")))
    key = current_app.secret_key
    key_bytes = key.encode() if isinstance(key, str) else bytes(key or b"")
    message = _LABEL + csrf_secret.encode() + b"\x00" + random
    return hmac.new(key_bytes, message, hashlib.sha256).digest()[:_TAG_BYTES]


def new_form_nonce() -> str:
    """A nonce for one rendered form. Does not modify the session."""
    random = secrets.token_bytes(_RANDOM_BYTES)
    return base64.urlsafe_b64encode(random + _tag(random)).decode().rstrip("=")


def _unspent_marker(nonce: str) -> str | None:
    """The nonce's marker if it is a genuine nonce of this session not yet spent."""
    try:
        raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != _RANDOM_BYTES + _TAG_BYTES:
        return None
    random, tag = raw[:_RANDOM_BYTES], raw[_RANDOM_BYTES:]
    if not hmac.compare_digest(tag, _tag(random)):
        return None
    marker = random.hex()
    return None if marker in session.get(_SPENT, []) else marker


def form_nonce_unspent(nonce: str) -> bool:
    """Whether ``nonce`` would be accepted; spends nothing. A view checks it before the
    request spends a rate-limit budget and spends it (:func:`spend_form_nonce`) only
    once the submission is admitted, so a form refused as "busy" can be sent again."""
    return _unspent_marker(nonce) is not None


def spend_form_nonce(nonce: str) -> bool:
    """True the first time a genuine nonce of this session comes back, else False."""
    marker = _unspent_marker(nonce)
    if marker is None:
        return False
    session[_SPENT] = [*session.get(_SPENT, []), marker][-MAX_SPENT:]
    return True
