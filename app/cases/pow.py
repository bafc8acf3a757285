"""Proof of work: flood control for the intake that identifies nobody.

Rate limiting by IP address is out (the intake keeps no addresses, and Tor users share
exit addresses anyway), so each submission, or receipt check, must first spend some
CPU: the server issues a random single-use challenge, the browser finds a nonce such
that ``SHA-256("{challenge}:{nonce}")`` starts with ``difficulty`` zero bits, and the
server checks it with one hash before doing anything expensive.

Calibrating the difficulty N
----------------------------
Expected client work is 2^N SHA-256 evaluations (each nonce succeeds with probability
2^-N). At the default N = 20 that is about 1 M hashes: the bundled JavaScript measured
~1.36 M hashes/s in Node, so roughly one second in a browser (a few on a slow phone).
That exceeds what the request then costs the server, one Argon2id receipt derivation
(~0.1-0.3 s at 64 MiB, t=3), so a flood costs its sender more than it costs us; each
extra bit doubles the client's work. Without JavaScript the browser cannot solve a
challenge; that path is covered by the global rate limit (:mod:`app.web.ratelimit`)
instead. Tests lower N through ``LIEMCHINH_POW_DIFFICULTY``.

Single use is enforced in SQL: one conditional UPDATE marks the challenge used, and
only the transaction whose UPDATE changed a row may proceed, so two concurrent
redemptions of one challenge cannot both succeed. Callers commit; a rolled-back
submission also gives its challenge back (the UPDATE is undone with it).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from app.models import PowChallenge, utcnow

DEFAULT_TTL = timedelta(minutes=10)
MAX_DIFFICULTY = 256
_NONCE = re.compile(r"[0-9A-Za-z_-]{1,64}")


class PowError(Exception):
    """A proof of work was refused."""


class UnknownChallengeError(PowError):
    """No such challenge (never issued, or already swept away)."""


class ChallengeExpiredError(PowError):
    """The challenge's time to live has passed."""


class ChallengeUsedError(PowError):
    """The challenge was already redeemed."""


class InvalidSolutionError(PowError):
    """The nonce is malformed or does not reach the challenge's difficulty."""


@dataclass(frozen=True)
class PowChallengeInfo:
    challenge: str
    difficulty: int
    expires_at: datetime


def issue_challenge(
    session: Session, difficulty: int, ttl: timedelta = DEFAULT_TTL
) -> PowChallengeInfo:
    """Store a new random challenge (the caller commits) and describe it for the client."""
    if not 0 <= difficulty <= MAX_DIFFICULTY:
        raise ValueError(f"difficulty must be between 0 and {MAX_DIFFICULTY}")
    challenge = secrets.token_hex(16)
    expires_at = utcnow() + ttl
    session.add(PowChallenge(challenge=challenge, difficulty=difficulty, expires_at=expires_at))
    session.flush()
    return PowChallengeInfo(challenge=challenge, difficulty=difficulty, expires_at=expires_at)


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte:
            return bits + 8 - byte.bit_length()
        bits += 8
    return bits


def _digest(challenge: str, nonce: str) -> bytes:
    return hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()


def check_solution(challenge: str, nonce: str, difficulty: int) -> bool:
    """Whether ``nonce`` is well formed and solves ``challenge`` at ``difficulty``."""
    if not isinstance(nonce, str) or not _NONCE.fullmatch(nonce):
        return False
    return leading_zero_bits(_digest(challenge, nonce)) >= difficulty


def solve(challenge: str, difficulty: int) -> str:
    """Brute-force a decimal nonce (tests and benchmarks; browsers run the JS twin)."""
    counter = 0
    while leading_zero_bits(_digest(challenge, str(counter))) < difficulty:
        counter += 1
    return str(counter)


def redeem_challenge(
    session: Session, challenge: str, nonce: str, now: datetime | None = None
) -> None:
    """Spend a solved challenge in the caller's transaction, or raise a :class:`PowError`.

    The solution is checked before anything is written, so a wrong nonce leaves the
    challenge usable (a client with a bug can retry without a new challenge).
    """
    now = now or utcnow()
    row = session.execute(
        select(PowChallenge.difficulty, PowChallenge.expires_at, PowChallenge.used_at).where(
            PowChallenge.challenge == challenge
        )
    ).one_or_none()
    if row is None:
        raise UnknownChallengeError("unknown proof-of-work challenge")
    difficulty, expires_at, used_at = row
    if used_at is not None:
        raise ChallengeUsedError("proof-of-work challenge already used")
    if expires_at <= now:
        raise ChallengeExpiredError("proof-of-work challenge expired")
    if not check_solution(challenge, nonce, difficulty):
        raise InvalidSolutionError("proof-of-work solution does not solve the challenge")
    # The check above is advisory; this conditional UPDATE is what makes use single:
    # of two concurrent redemptions, the second finds used_at set (PostgreSQL re-checks
    # the WHERE after the first commits; SQLite serialises writers) and changes nothing.
    result = cast(
        CursorResult[tuple[()]],
        session.execute(
            update(PowChallenge)
            .where(
                PowChallenge.challenge == challenge,
                PowChallenge.used_at.is_(None),
                PowChallenge.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        raise ChallengeUsedError("proof-of-work challenge already used")


def delete_expired_challenges(session: Session, now: datetime | None = None) -> int:
    """Sweep challenges past their expiry, used or not (run from the purge job)."""
    result = cast(
        CursorResult[tuple[()]],
        session.execute(
            delete(PowChallenge)
            .where(PowChallenge.expires_at <= (now or utcnow()))
            .execution_options(synchronize_session=False)
        ),
    )
    return int(result.rowcount)
