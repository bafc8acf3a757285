"""Proof of work: solutions checked, challenges single-use even under concurrency."""

import hashlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.cases.pow import (
    ChallengeExpiredError,
    ChallengeUsedError,
    InvalidSolutionError,
    PowError,
    UnknownChallengeError,
    check_solution,
    delete_expired_challenges,
    issue_challenge,
    leading_zero_bits,
    redeem_challenge,
    solve,
)
from app.database import Database
from app.models import PowChallenge, utcnow

DIFFICULTY = 8


def _wrong_nonce(challenge: str, difficulty: int) -> str:
    """A well-formed nonce that does not solve the challenge."""
    counter = 0
    while check_solution(challenge, f"x{counter}", difficulty):
        counter += 1
    return f"x{counter}"


# -- pure functions ------------------------------------------------------------------------


def test_leading_zero_bits() -> None:
    assert leading_zero_bits(b"\x80") == 0
    assert leading_zero_bits(b"\x01") == 7
    assert leading_zero_bits(b"\x00\x00\x10") == 19
    assert leading_zero_bits(b"\x00\x00") == 16
    assert leading_zero_bits(b"") == 0


def test_solve_and_check() -> None:
    nonce = solve("abc", 12)
    assert nonce.isdigit()
    digest = hashlib.sha256(f"abc:{nonce}".encode()).digest()
    assert leading_zero_bits(digest) >= 12
    assert check_solution("abc", nonce, 12)
    assert not check_solution("abc", _wrong_nonce("abc", 12), 12)
    assert check_solution("anything", "0", 0)  # difficulty 0 accepts any valid nonce


@pytest.mark.parametrize("nonce", ["", "a" * 65, "12 3", "1.5", "ñ", "12\n", "a/b", "a:b"])
def test_malformed_nonce_is_invalid(nonce: str) -> None:
    assert not check_solution("abc", nonce, 0)


def test_nonce_alphabet_accepted() -> None:
    assert check_solution("abc", "aZ0_-" + "9" * 59, 0)


# -- with the database ---------------------------------------------------------------------

pg = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pg
def test_issue_solve_redeem(database: Database) -> None:
    with database.session() as db:
        info = issue_challenge(db, DIFFICULTY)
    assert len(info.challenge) == 32 and int(info.challenge, 16) >= 0
    assert info.difficulty == DIFFICULTY
    assert timedelta(minutes=9) < info.expires_at - utcnow() <= timedelta(minutes=10)
    nonce = solve(info.challenge, info.difficulty)
    with database.session() as db:
        redeem_challenge(db, info.challenge, nonce)
    with database.read_session() as db:
        row = db.get(PowChallenge, info.challenge)
        assert row is not None and row.used_at is not None and row.difficulty == DIFFICULTY


@pg
def test_reuse_refused(database: Database) -> None:
    with database.session() as db:
        info = issue_challenge(db, DIFFICULTY)
    nonce = solve(info.challenge, DIFFICULTY)
    with database.session() as db:
        redeem_challenge(db, info.challenge, nonce)
    with pytest.raises(ChallengeUsedError), database.session() as db:
        redeem_challenge(db, info.challenge, nonce)


@pg
def test_rolled_back_redemption_gives_the_challenge_back(database: Database) -> None:
    with database.session() as db:
        info = issue_challenge(db, DIFFICULTY)
    nonce = solve(info.challenge, DIFFICULTY)
    db = database.sessionmaker()
    redeem_challenge(db, info.challenge, nonce)
    db.rollback()  # the submission failed: nothing was stored, the work is not lost
    db.close()
    with database.session() as db:
        redeem_challenge(db, info.challenge, nonce)


@pg
def test_expired_refused(database: Database) -> None:
    with database.session() as db:
        info = issue_challenge(db, DIFFICULTY, ttl=timedelta(seconds=30))
    nonce = solve(info.challenge, DIFFICULTY)
    with pytest.raises(ChallengeExpiredError), database.session() as db:
        redeem_challenge(db, info.challenge, nonce, now=utcnow() + timedelta(seconds=31))
    with pytest.raises(ChallengeExpiredError), database.session() as db:
        redeem_challenge(db, info.challenge, nonce, now=info.expires_at)


@pg
def test_wrong_nonce_refused_and_challenge_stays_usable(database: Database) -> None:
    with database.session() as db:
        info = issue_challenge(db, DIFFICULTY)
    with pytest.raises(InvalidSolutionError), database.session() as db:
        redeem_challenge(db, info.challenge, _wrong_nonce(info.challenge, DIFFICULTY))
    with database.read_session() as db:
        row = db.get(PowChallenge, info.challenge)
        assert row is not None and row.used_at is None
    with database.session() as db:
        redeem_challenge(db, info.challenge, solve(info.challenge, DIFFICULTY))


@pg
@pytest.mark.parametrize("nonce", ["", "x" * 65, "1 2", "１２３"])
def test_malformed_nonce_refused(database: Database, nonce: str) -> None:
    with database.session() as db:
        info = issue_challenge(db, 0)  # any well-formed nonce would do
    with pytest.raises(InvalidSolutionError), database.session() as db:
        redeem_challenge(db, info.challenge, nonce)


@pg
def test_unknown_refused(database: Database) -> None:
    with pytest.raises(UnknownChallengeError), database.session() as db:
        redeem_challenge(db, "0" * 32, "1")
    assert issubclass(UnknownChallengeError, PowError)


@pg
def test_concurrent_redemption_only_one_wins(database: Database) -> None:
    for _ in range(5):
        with database.session() as db:
            info = issue_challenge(db, DIFFICULTY)
        nonce = solve(info.challenge, DIFFICULTY)
        barrier = threading.Barrier(2)
        outcomes: list[str] = []
        lock = threading.Lock()

        def redeem(
            challenge: str = info.challenge,
            nonce: str = nonce,
            barrier: threading.Barrier = barrier,
            outcomes: list[str] = outcomes,
            lock: threading.Lock = lock,
        ) -> None:
            db = database.sessionmaker()
            try:
                barrier.wait()
                with db.begin():
                    redeem_challenge(db, challenge, nonce)
                outcome = "ok"
            except ChallengeUsedError:
                outcome = "used"
            except BaseException as exc:
                outcome = repr(exc)
            finally:
                db.close()
            with lock:
                outcomes.append(outcome)

        threads = [threading.Thread(target=redeem) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["ok", "used"]


@pg
def test_concurrent_redemption_race_at_the_update(database: Database) -> None:
    """The second redemption starts while the first is uncommitted: exactly one wins.

    On PostgreSQL the second passes the SELECT (the first's update is not visible yet)
    and is stopped by the conditional UPDATE's rowcount; on SQLite it waits for the
    writer lock and then finds the challenge used.
    """
    with database.session() as db:
        info = issue_challenge(db, DIFFICULTY)
    nonce = solve(info.challenge, DIFFICULTY)
    first = database.sessionmaker()
    redeem_challenge(first, info.challenge, nonce)  # row updated, not committed
    outcome: list[str] = []

    def second() -> None:
        db = database.sessionmaker()
        try:
            with db.begin():
                redeem_challenge(db, info.challenge, nonce)
            outcome.append("ok")
        except ChallengeUsedError:
            outcome.append("used")
        finally:
            db.close()

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=0.5)  # blocked on the first one's lock (row lock or SQLite writer)
    first.commit()
    first.close()
    thread.join()
    assert outcome == ["used"]


@pg
def test_delete_expired_challenges(database: Database) -> None:
    with database.session() as db:
        old = issue_challenge(db, DIFFICULTY, ttl=timedelta(seconds=1))
        fresh = issue_challenge(db, DIFFICULTY)
    with database.session() as db:
        assert delete_expired_challenges(db, now=utcnow() + timedelta(minutes=1)) == 1
    with database.read_session() as db:
        assert db.get(PowChallenge, old.challenge) is None
        assert db.get(PowChallenge, fresh.challenge) is not None
        assert db.scalar(select(func.count()).select_from(PowChallenge)) == 1
