"""Proof of work: flood control for the intake that identifies nobody.

Rate limiting by IP address is out (the intake keeps no addresses, and Tor users share
exit addresses anyway), so whatever the JavaScript path asks of the server (a ticket,
one Argon2id run; opening a case, one Argon2id run; a message) must first cost the
client some CPU: the server issues a challenge of ``k`` independent puzzles, the browser
finds for each puzzle ``i`` a nonce such that ``SHA-256("{challenge}:{i}:{nonce}")`` starts
with ``difficulty - log2(k)`` zero bits, and the server checks the ``k`` hashes before
doing anything expensive.

Challenges are stateless
------------------------
A challenge is issued without writing anything: it is a token the server can check,

    base64url( version 0x02 || random (16) || expires (8, Unix seconds, big-endian)
               || difficulty (1) || log2 k (1) || tag (16) )           58 characters

with ``tag = HMAC-SHA256(challenge key, label || the 27 bytes before it)[:16]`` and the
challenge key derived from the intake's secret key (:meth:`ChallengeKey.derive`). So a
flood of challenge requests costs an HMAC each and leaves no trace; an expiry, a time of
day, exists only in the client's hands.

Redeeming is in two steps, both before any expensive work:

1. :func:`verify_solution` (no database): the tag, the expiry, a difficulty at least the
   installation's current one, and the solution. A forged, expired, too easy or unsolved
   challenge is refused here for the price of an HMAC and a hash.
2. :func:`spend_challenge`: one ``INSERT … ON CONFLICT DO NOTHING`` of a hash of the
   challenge into ``spent_pow_challenges``, committed at once. The primary key makes the
   use single across every process: of two concurrent redemptions, one inserts and the
   other finds the row (PostgreSQL's unique index waits for the first to commit; SQLite
   serialises writers). The row holds the hash and the calendar day only, for the
   sweep; nothing in it dates the redemption more finely.

Only then does the caller spend a budget and run Argon2id, so a replayed solution or a
forged challenge never costs the server more than a hash and (for a replay) one indexed
lookup. The purge job sweeps rows older than yesterday (:func:`delete_spent_challenges`):
by then every challenge they name has expired, so sweeping cannot reopen a replay.

Calibrating the difficulty N and the puzzle count k
---------------------------------------------------
Expected client work is 2^N SHA-256 evaluations whatever k is: each of the k puzzles
needs 2^(N - log2 k) attempts on average. One N-bit search is a geometric lottery (its
95th percentile is 4.3 times its median); the sum of k independent searches is close
to a Gamma(k) variable, whose spread shrinks as k grows. k = 16 is the smallest power of
two whose 95th percentile is at most 1.5 times its median (about 1.44;
tests/cases/test_pow.py checks it by simulation, docs/crypto.md has the figures).
The server's check costs k hashes, still nothing next to one Argon2id run.

At the default N = 20 that is about 1 M hashes, which the intake page does in a Web
Worker while the reporter types (docs/crypto.md gives the measured times, down to a
browser without JIT). That exceeds what the request then costs the server, one Argon2id
receipt derivation (~0.1-0.3 s at 64 MiB, t=3), so a flood costs its sender more than it
costs us; each extra bit doubles the client's work. Without JavaScript the browser
cannot solve a challenge; that path has its own budgets instead
(:mod:`app.web.ratelimit`). Tests lower N through ``LIEMCHINH_POW_DIFFICULTY``; k is
never more than 2^N (a puzzle needs at least zero bits).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import CursorResult, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app import clock
from app.models import SpentPowChallenge

DEFAULT_TTL = timedelta(minutes=10)
# The sweep keeps yesterday's spent rows; a challenge must expire before it goes.
MAX_TTL = timedelta(hours=12)
MAX_DIFFICULTY = 255
# Puzzles per challenge (see "Calibrating" above): p95/median of the work <= 1.5.
PUZZLES = 16
MAX_PUZZLES = 256  # the server's check costs one hash per puzzle
_NONCE = re.compile(r"[0-9A-Za-z_-]{1,64}")
_SEPARATOR = "."
_KEY_LABEL = b"liemchinh/pow-challenge/v1"
_SPENT_LABEL = b"liemchinh/spent-pow-challenge/v1\x00"
_VERSION = 2
_BODY = struct.Struct(">B16sQBB")  # version, random, expires, difficulty, log2 puzzles
_TAG_BYTES = 16
TOKEN_BYTES = _BODY.size + _TAG_BYTES  # 43 bytes, 58 base64url characters
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{58}")


class PowError(Exception):
    """A proof of work was refused."""


class UnknownChallengeError(PowError):
    """Not a challenge this installation issued (malformed, or its tag does not match)."""


class ChallengeExpiredError(PowError):
    """The challenge's time to live has passed."""


class ChallengeTooEasyError(PowError):
    """Issued at a lower difficulty than the installation now requires."""


class ChallengeUsedError(PowError):
    """The challenge was already redeemed."""


class InvalidSolutionError(PowError):
    """The nonce is malformed or does not reach the challenge's difficulty."""


@dataclass(frozen=True, repr=False)
class ChallengeKey:
    """The key that authenticates challenges (never used for anything else)."""

    key: bytes

    def __repr__(self) -> str:
        return "ChallengeKey(<redacted>)"

    @classmethod
    def derive(cls, intake_secret_key: bytes) -> ChallengeKey:
        # HKDF with its own label: independent of every other use of the secret key.
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_LABEL)
        return cls(hkdf.derive(intake_secret_key))


@dataclass(frozen=True)
class IssuedChallenge:
    challenge: str
    difficulty: int  # total work: 2^difficulty hashes expected
    puzzles: int  # k independent puzzles ...

    @property
    def bits(self) -> int:
        """... of this many leading zero bits each."""
        return puzzle_bits(self.difficulty, self.puzzles)


def puzzle_count(difficulty: int, wanted: int = PUZZLES) -> int:
    """k for a challenge of ``difficulty``: ``wanted``, at most 2^difficulty."""
    return min(wanted, 1 << difficulty)


def puzzle_bits(difficulty: int, puzzles: int) -> int:
    """Leading zero bits each of ``puzzles`` puzzles needs for 2^difficulty total work."""
    if puzzles < 1 or puzzles & (puzzles - 1) or puzzles > 1 << difficulty:
        raise ValueError("the puzzle count must be a power of two, at most 2^difficulty")
    return difficulty - (puzzles.bit_length() - 1)


@dataclass(frozen=True)
class SolvedChallenge:
    """A challenge that passed :func:`verify_solution`; not yet spent."""

    spent_key: bytes  # what spent_pow_challenges holds: a hash of the token


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _tag(key: ChallengeKey, body: bytes) -> bytes:
    return hmac.new(key.key, _KEY_LABEL + b"\x00" + body, hashlib.sha256).digest()[:_TAG_BYTES]


def issue_challenge(
    key: ChallengeKey,
    difficulty: int,
    *,
    puzzles: int | None = None,
    ttl: timedelta = DEFAULT_TTL,
    now: float | None = None,
) -> IssuedChallenge:
    """A fresh challenge for the client (``puzzles``: by default :func:`puzzle_count`).
    Writes nothing anywhere."""
    if not 0 <= difficulty <= MAX_DIFFICULTY:
        raise ValueError(f"difficulty must be between 0 and {MAX_DIFFICULTY}")
    if ttl > MAX_TTL:
        raise ValueError(f"a challenge lives at most {MAX_TTL}")
    count = puzzle_count(difficulty) if puzzles is None else puzzles
    if count > MAX_PUZZLES:
        raise ValueError(f"a challenge has at most {MAX_PUZZLES} puzzles")
    puzzle_bits(difficulty, count)  # validates the count
    expires = int((time.time() if now is None else now) + ttl.total_seconds())
    body = _BODY.pack(
        _VERSION, secrets.token_bytes(16), max(expires, 0), difficulty, count.bit_length() - 1
    )
    return IssuedChallenge(_b64encode(body + _tag(key, body)), difficulty, count)


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte:
            return bits + 8 - byte.bit_length()
        bits += 8
    return bits


def _digest(challenge: str, index: int, nonce: str) -> bytes:
    # The puzzle's index is hashed in: k puzzles, k independent searches.
    return hashlib.sha256(f"{challenge}:{index}:{nonce}".encode()).digest()


def check_solution(challenge: str, solution: str, difficulty: int, puzzles: int = 1) -> bool:
    """Whether ``solution`` (``puzzles`` nonces joined by ".") is well formed and each
    nonce ``i`` solves puzzle ``i`` of ``challenge`` at ``puzzle_bits(difficulty, puzzles)``.
    Costs at most ``puzzles`` hashes."""
    if not isinstance(solution, str):
        return False
    nonces = solution.split(_SEPARATOR)
    if len(nonces) != puzzles or not all(_NONCE.fullmatch(n) for n in nonces):
        return False
    bits = puzzle_bits(difficulty, puzzles)
    return all(
        leading_zero_bits(_digest(challenge, i, nonce)) >= bits for i, nonce in enumerate(nonces)
    )


def token_puzzles(challenge: str) -> int:
    """The puzzle count written in a challenge token (1 for any other string). Reads the
    token without checking it: for solvers, never for the server's decision."""
    try:
        raw = base64.urlsafe_b64decode(challenge + "==")
    except (binascii.Error, ValueError):
        return 1
    if len(raw) != TOKEN_BYTES or raw[0] != _VERSION:
        return 1
    return 1 << int(_BODY.unpack(raw[: _BODY.size])[4])


def solve(challenge: str, difficulty: int, puzzles: int | None = None) -> str:
    """Brute-force decimal nonces for every puzzle (tests and benchmarks; browsers run
    the JavaScript twin). ``puzzles``: by default the count the token says."""
    count = token_puzzles(challenge) if puzzles is None else puzzles
    bits = puzzle_bits(difficulty, count)
    nonces = []
    for index in range(count):
        counter = 0
        while leading_zero_bits(_digest(challenge, index, str(counter))) < bits:
            counter += 1
        nonces.append(str(counter))
    return _SEPARATOR.join(nonces)


def _decode(key: ChallengeKey, challenge: object) -> tuple[int, int, int, bytes]:
    """(expires, difficulty, puzzles, token bytes) of a genuine challenge, else raise."""
    if not isinstance(challenge, str) or not TOKEN_PATTERN.fullmatch(challenge):
        raise UnknownChallengeError("not a proof-of-work challenge")
    try:
        raw = base64.urlsafe_b64decode(challenge + "==")
    except (binascii.Error, ValueError):
        raise UnknownChallengeError("not a proof-of-work challenge") from None
    body, tag = raw[: _BODY.size], raw[_BODY.size :]
    if not hmac.compare_digest(tag, _tag(key, body)):
        raise UnknownChallengeError("proof-of-work challenge not issued here")
    version, _random, expires, difficulty, puzzles_log2 = _BODY.unpack(body)
    if version != _VERSION:
        raise UnknownChallengeError("unknown proof-of-work challenge version")
    puzzles = 1 << min(puzzles_log2, 16)
    if puzzles > MAX_PUZZLES or puzzles > 1 << difficulty:
        raise UnknownChallengeError("malformed proof-of-work challenge")
    return expires, difficulty, puzzles, raw


def verify_solution(
    key: ChallengeKey,
    challenge: object,
    nonce: object,
    *,
    min_difficulty: int,
    now: float | None = None,
) -> SolvedChallenge:
    """Check a challenge and its solution without touching the database, or raise a
    :class:`PowError`. Costs an HMAC and one hash per puzzle."""
    expires, difficulty, puzzles, raw = _decode(key, challenge)
    if expires <= (time.time() if now is None else now):
        raise ChallengeExpiredError("proof-of-work challenge expired")
    if difficulty < min_difficulty:
        raise ChallengeTooEasyError("proof-of-work challenge below the required difficulty")
    if not isinstance(nonce, str) or not check_solution(
        cast(str, challenge), nonce, difficulty, puzzles
    ):
        raise InvalidSolutionError("proof-of-work solution does not solve the challenge")
    return SolvedChallenge(hashlib.sha256(_SPENT_LABEL + raw).digest())


def _spent_day() -> date:
    # The reporter's calendar day only (app.clock); the sweep reads the same clock.
    return clock.reporter_day()


def spend_challenge(session: Session, solved: SolvedChallenge, *, day: date | None = None) -> None:
    """Mark a verified challenge used, or raise :class:`ChallengeUsedError`.

    The caller commits at once, on its own (``app.intake.flood.spend_pow``): the spend
    must be durable before the request does anything expensive, and a later failure of
    the request must not give the challenge back.
    """
    if not record_spent(session, solved.spent_key, day=day):
        raise ChallengeUsedError("proof-of-work challenge already used")


def record_spent(session: Session, spent_key: bytes, *, day: date | None = None) -> bool:
    """Add ``spent_key`` to the single-use set; True if this call added it, False if it
    was there already. The row holds the key (a hash, domain-separated by its caller's
    label) and the reporter's day, nothing else. Shared by the desk's one-time form
    tokens (app.cases.desk_tokens), whose lifetime is also under a day."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(SpentPowChallenge)
        .values(challenge_hash=spent_key, day=day or _spent_day())
        .on_conflict_do_nothing(index_elements=[SpentPowChallenge.challenge_hash])
        .returning(SpentPowChallenge.challenge_hash)  # a row back: this call inserted it
    )
    return session.execute(statement).first() is not None


def is_spent(session: Session, spent_key: bytes) -> bool:
    """Whether ``spent_key`` is in the single-use set; changes nothing."""
    return session.get(SpentPowChallenge, spent_key) is not None


def delete_spent_challenges(session: Session, today: date | None = None) -> int:
    """Sweep spent rows older than yesterday (run from the purge job; the caller commits).

    Every challenge lives less than :data:`MAX_TTL`, so a row two days old names an
    expired challenge, which :func:`verify_solution` refuses anyway.
    """
    cutoff = (today or _spent_day()) - timedelta(days=1)
    result = cast(
        CursorResult[tuple[()]],
        session.execute(
            delete(SpentPowChallenge)
            .where(SpentPowChallenge.day < cutoff)
            .execution_options(synchronize_session=False)
        ),
    )
    return int(result.rowcount)
