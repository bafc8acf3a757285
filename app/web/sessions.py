"""Server-side sessions whose rows are useless without the browser's cookie.

The cookie carries a random 32-byte token. The database row is keyed by a hash of the
token and its payload is encrypted (ChaCha20-Poly1305) under a second hash of it. The
server never stores the token, so a copy of the sessions table (or a backup) gives
neither a way to impersonate anyone nor the keys a session holds (a reviewer's
unwrapped private key, a reporter's case key).

The cookie has no Expires attribute (it dies with the browser) and is only set once a
session holds something; a visitor who only reads pages gets no cookie at all.

**Reporters' sessions keep no time in clear** (DESIGN.md promise 7). A reporter's
session is made when they open their case or pick a language: exact creation and
expiry times in the row would date that visit. For the intake face the exact idle and
absolute deadlines live only INSIDE the encrypted payload (checked on every load); the
row's columns hold day labels (:func:`app.clock.day_stamp`): ``created_at`` the local
day it was made, both expiry columns a day safely after the absolute deadline, so that
``purge`` can still sweep the row. Reviewers' sessions keep exact times in clear.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import ceil
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from flask import Flask, Request, Response, request, session
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import CallbackDict
from werkzeug.exceptions import InternalServerError

from app import clock
from app.cases import unit_of_work
from app.database import Database
from app.models import WebSession, utcnow
from app.models.vocabulary import SessionFace

_log = logging.getLogger("liemchinh.sessions")
TOKEN_BYTES = 32
# Refresh the idle deadline at most once a minute, not on every request.
_REFRESH_GRACE = timedelta(seconds=60)
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_serializer = TaggedJSONSerializer()
# The encrypted payload: {_ENVELOPE: 2, "data": {...}, "idle": epoch, "absolute": epoch}.
# A payload without the marker is the older form: the session's data alone.
_ENVELOPE = "liemchinh-session"


@dataclass(frozen=True)
class SessionPolicy:
    face: str
    cookie_name: str
    idle: timedelta
    absolute: timedelta
    secure: bool


class EncryptedSession(CallbackDict[str, Any], SessionMixin):
    """A dict that remembers whether it changed, and can be rotated or destroyed."""

    def __init__(self, initial: dict[str, Any] | None = None, token: bytes | None = None) -> None:
        def on_update(_self: CallbackDict[str, Any]) -> None:
            self.modified = True

        super().__init__(initial, on_update)
        self.token = token
        self.modified = False
        self.rotate_requested = False
        self.destroy_requested = False
        self.absolute_deadline: datetime | None = None
        self.row_created: datetime | None = None
        # The store could not be read: this request runs without its real session.
        self.store_unavailable = False

    def rotate(self) -> None:
        """Give the session a new token (and row) on save: call at every privilege change,
        so a token seen before login is worthless after it (session fixation)."""
        self.rotate_requested = True
        self.modified = True

    def destroy(self) -> None:
        """Delete the row and the cookie on save (logout)."""
        self.clear()
        self.destroy_requested = True
        self.modified = True


def _session_id(token: bytes) -> str:
    return hashlib.sha256(b"liemchinh/session-id\x00" + token).hexdigest()


def _session_key(token: bytes) -> bytes:
    return hashlib.sha256(b"liemchinh/session-key\x00" + token).digest()


def _encrypt(token: bytes, face: str, data: dict[str, Any]) -> bytes:
    nonce = secrets.token_bytes(12)
    plaintext = _serializer.dumps(data).encode("utf-8")
    aad = face.encode() + b"\x00" + _session_id(token).encode()
    return nonce + ChaCha20Poly1305(_session_key(token)).encrypt(nonce, plaintext, aad)


def _decrypt(token: bytes, face: str, payload: bytes) -> dict[str, Any] | None:
    aad = face.encode() + b"\x00" + _session_id(token).encode()
    try:
        plaintext = ChaCha20Poly1305(_session_key(token)).decrypt(payload[:12], payload[12:], aad)
    except (InvalidTag, ValueError):
        return None
    loaded = _serializer.loads(plaintext.decode("utf-8"))
    return loaded if isinstance(loaded, dict) else None


@dataclass(frozen=True)
class _Opened:
    data: dict[str, Any]
    idle_deadline: datetime
    absolute_deadline: datetime


def _seal(data: dict[str, Any], idle: datetime, absolute: datetime) -> dict[str, Any]:
    return {
        _ENVELOPE: 2,
        "data": dict(data),
        "idle": idle.timestamp(),
        "absolute": absolute.timestamp(),
    }


def _unseal(content: dict[str, Any], row: WebSession) -> _Opened | None:
    if _ENVELOPE not in content:
        return _Opened(content, row.idle_expires_at, row.absolute_expires_at)
    data, idle, absolute = content.get("data"), content.get("idle"), content.get("absolute")
    if not isinstance(data, dict) or not isinstance(idle, float | int):
        return None
    if not isinstance(absolute, float | int):
        return None
    return _Opened(
        data,
        datetime.fromtimestamp(idle, UTC),
        datetime.fromtimestamp(absolute, UTC),
    )


def _day_columns(created: datetime, lifetime: timedelta) -> tuple[datetime, datetime]:
    """A reporter session's clear columns: the local day it was made, and a day label
    past the absolute deadline in every zone. Computed from the day alone, never from
    the deadline (whose own day would tell whether it was made late in the day)."""
    day = clock.reporter_day(created)
    # The deadline ends at the latest on the local day ceil(lifetime) days later, which
    # ends at the latest 36 hours after its label (UTC-12); two more days cover it.
    sweep_day = clock.days_later(day, ceil(lifetime / timedelta(days=1)) + 2)
    return clock.day_stamp(day), clock.day_stamp(sweep_day)


def _parse_cookie(value: str | None) -> bytes | None:
    if not value or len(value) > 64:
        return None
    try:
        token = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None
    return token if len(token) == TOKEN_BYTES else None


class EncryptedSessionInterface(SessionInterface):
    def __init__(
        self,
        database: Database,
        policy: SessionPolicy,
        reviewer_id_of: Callable[[EncryptedSession], int | None] | None = None,
    ) -> None:
        self.database = database
        self.policy = policy
        self.reviewer_id_of = reviewer_id_of or (lambda s: s.get("reviewer_id"))

    def open_session(self, app: Flask, request: Request) -> EncryptedSession:
        token = _parse_cookie(request.cookies.get(self.policy.cookie_name))
        if token is None:
            return EncryptedSession()
        try:
            return self._load(token)
        except SQLAlchemyError:
            # The database is unreachable: serve the request without a session (the
            # error pages still render in the browser's language) rather than fail
            # before any handler runs. Logged without anything about the client.
            _log.warning("session store unavailable; request served without a session")
            session = EncryptedSession()
            session.store_unavailable = True
            return session

    def _load(self, token: bytes) -> EncryptedSession:
        now = utcnow()
        with self.database.read_session() as db:
            row = db.get(WebSession, _session_id(token))
            if row is None or row.face != self.policy.face:
                return EncryptedSession()
            if row.idle_expires_at <= now or row.absolute_expires_at <= now:
                return EncryptedSession()
            content = _decrypt(token, self.policy.face, row.payload)
            opened = _unseal(content, row) if content is not None else None
            if opened is None:
                return EncryptedSession()
            if opened.idle_deadline <= now or opened.absolute_deadline <= now:
                return EncryptedSession()
            session = EncryptedSession(opened.data, token)
            session.absolute_deadline = opened.absolute_deadline
            session.row_created = row.created_at
            if opened.idle_deadline - now < self.policy.idle - _REFRESH_GRACE:
                session.modified = True  # slide the idle deadline
            return session

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, EncryptedSession)
        try:
            self._save(session, response)
        except SQLAlchemyError:
            # The response may carry something shown once (a receipt): deliver it even
            # if the session cannot be saved. The session simply keeps its old state.
            _log.warning("session store unavailable; session not saved")

    def _save(self, session: EncryptedSession, response: Response) -> None:
        name = self.policy.cookie_name
        cookie_args: dict[str, Any] = {
            "path": "/",
            "secure": self.policy.secure,
            "httponly": True,
            "samesite": "Strict",
        }
        if not session.modified:
            return
        old_token = session.token
        if session.destroy_requested or not session:
            if old_token is not None:
                with unit_of_work.transaction(self.database.sessionmaker) as db:
                    db.execute(delete(WebSession).where(WebSession.id == _session_id(old_token)))
                response.delete_cookie(name, **cookie_args)
            return
        now = utcnow()
        token = old_token
        absolute = session.absolute_deadline or now + self.policy.absolute
        row_created = session.row_created or now
        if token is None or session.rotate_requested:
            token = secrets.token_bytes(TOKEN_BYTES)
            absolute = now + self.policy.absolute
            row_created = now
        idle = min(now + self.policy.idle, absolute)
        payload = _encrypt(token, self.policy.face, _seal(dict(session), idle, absolute))
        reporter = self.policy.face == SessionFace.INTAKE.value
        with unit_of_work.transaction(self.database.sessionmaker) as db:
            if old_token is not None and old_token != token:
                db.execute(delete(WebSession).where(WebSession.id == _session_id(old_token)))
            row = db.get(WebSession, _session_id(token))
            if row is None:
                if reporter:
                    created_column, expiry_column = _day_columns(now, self.policy.absolute)
                else:
                    created_column, expiry_column = row_created, absolute
                row = WebSession(
                    id=_session_id(token),
                    face=self.policy.face,
                    created_at=created_column,
                    absolute_expires_at=expiry_column,
                )
                db.add(row)
            row.payload = payload
            # A reporter's row keeps its day labels; the exact deadline is in the payload.
            row.idle_expires_at = row.absolute_expires_at if reporter else idle
            row.reviewer_id = self.reviewer_id_of(session)
        if token != old_token:
            cookie = base64.urlsafe_b64encode(token).rstrip(b"=").decode()
            response.set_cookie(name, cookie, **cookie_args)
        response.vary.add("Cookie")


def refuse_writes_without_the_session_store(app: Flask) -> None:
    """A form posted while the session store is unreachable fails as a server error.

    Without its session the request would fail the CSRF check and tell the user their
    page was open too long, which is not what happened: they would reload, retype and
    fail again. The hook runs first among the before_request hooks (before CSRF
    protection reads the form); pages that only read are still served.
    """

    def refuse() -> None:
        if request.method not in _SAFE_METHODS and getattr(session, "store_unavailable", False):
            raise InternalServerError()

    app.before_request_funcs.setdefault(None, []).insert(0, refuse)
