"""Proof of work: stateless challenges, solutions checked without the database, and
single use enforced by the spent set, even under concurrency."""

import base64
import hashlib
import math
import random
import secrets
import statistics
import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from app.cases import unit_of_work
from app.cases.pow import (
    PUZZLES,
    ChallengeExpiredError,
    ChallengeKey,
    ChallengeTooEasyError,
    ChallengeUsedError,
    InvalidSolutionError,
    PowError,
    UnknownChallengeError,
    check_solution,
    delete_spent_challenges,
    issue_challenge,
    leading_zero_bits,
    puzzle_bits,
    puzzle_count,
    solve,
    spend_challenge,
    token_puzzles,
    verify_solution,
)
from app.database import Database
from app.models import SpentPowChallenge

DIFFICULTY = 8
KEY = ChallengeKey.derive(b"k" * 32)
OTHER_KEY = ChallengeKey.derive(b"o" * 32)


def _wrong_nonce(challenge: str, difficulty: int) -> str:
    """A well-formed nonce that does not solve the challenge."""
    counter = 0
    while check_solution(challenge, f"x{counter}", difficulty):
        counter += 1
    return f"x{counter}"


def _another_solution(challenge: str, difficulty: int, known: str) -> str:
    """A valid solution of ``challenge`` other than ``known`` (``solve`` always finds the
    same first nonces): another nonce for the first puzzle, the others kept."""
    puzzles = token_puzzles(challenge)
    _first, *rest = known.split(".")
    counter = 0
    while True:
        candidate = ".".join([f"y{counter}", *rest])
        if candidate != known and check_solution(challenge, candidate, difficulty, puzzles):
            return candidate
        counter += 1


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
    digest = hashlib.sha256(f"abc:0:{nonce}".encode()).digest()
    assert leading_zero_bits(digest) >= 12
    assert check_solution("abc", nonce, 12)
    assert not check_solution("abc", _wrong_nonce("abc", 12), 12)
    assert check_solution("anything", "0", 0)  # difficulty 0 accepts any valid nonce


@pytest.mark.parametrize("nonce", ["", "a" * 65, "12 3", "1.5", "ñ", "12\n", "a/b", "a:b"])
def test_malformed_nonce_is_invalid(nonce: str) -> None:
    assert not check_solution("abc", nonce, 0)


def test_nonce_alphabet_accepted() -> None:
    assert check_solution("abc", "aZ0_-" + "9" * 59, 0)


# -- stateless challenges ------------------------------------------------------------------


def _solved(difficulty: int = DIFFICULTY, key: ChallengeKey = KEY, **kw: object) -> tuple[str, str]:
    info = issue_challenge(key, difficulty, **kw)  # type: ignore[arg-type]
    return info.challenge, solve(info.challenge, info.difficulty)


def test_challenge_format() -> None:
    info = issue_challenge(KEY, DIFFICULTY)
    assert info.difficulty == DIFFICULTY
    assert len(info.challenge) == 58 and set(info.challenge) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    raw = base64.urlsafe_b64decode(info.challenge + "==")
    assert raw[0] == 2 and raw[25] == DIFFICULTY  # version, difficulty
    assert raw[26] == 4 and info.puzzles == 16 and info.bits == DIFFICULTY - 4  # log2 k
    expires = int.from_bytes(raw[17:25], "big")
    assert 590 < expires - time.time() <= 600
    assert issue_challenge(KEY, DIFFICULTY).challenge != info.challenge


def test_key_derivation_is_labelled() -> None:
    secret = secrets.token_bytes(32)
    key = ChallengeKey.derive(secret).key
    assert len(key) == 32 and key != secret
    assert ChallengeKey.derive(secret).key == key  # deterministic: every process agrees
    assert "<redacted>" in repr(ChallengeKey.derive(secret))
    from app.cases.tickets import TicketKey

    assert TicketKey.derive(secret).key != key  # one key per purpose


def test_verify_accepts_a_solution_and_names_its_hash() -> None:
    challenge, nonce = _solved()
    solved = verify_solution(KEY, challenge, nonce, min_difficulty=DIFFICULTY)
    assert len(solved.spent_key) == 32
    assert challenge.encode() not in solved.spent_key


def test_forged_and_foreign_challenges_refused() -> None:
    challenge, nonce = _solved(key=OTHER_KEY)  # another installation's
    with pytest.raises(UnknownChallengeError):
        verify_solution(KEY, challenge, nonce, min_difficulty=0)
    raw = bytearray(base64.urlsafe_b64decode(issue_challenge(KEY, 0).challenge + "=="))
    raw[25] = 30  # raise the difficulty? lower it? any change breaks the tag
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode()
    with pytest.raises(UnknownChallengeError):
        verify_solution(KEY, tampered, solve(tampered, 0), min_difficulty=0)
    for junk in ["", "0" * 32, "A" * 58, "A" * 56, "A" * 57 + "=", None, 12]:
        with pytest.raises(UnknownChallengeError):
            verify_solution(KEY, junk, "1", min_difficulty=0)
    assert issubclass(UnknownChallengeError, PowError)


def test_expired_refused() -> None:
    challenge, nonce = _solved(ttl=timedelta(seconds=30))
    verify_solution(KEY, challenge, nonce, min_difficulty=0, now=time.time() + 25)
    with pytest.raises(ChallengeExpiredError):
        verify_solution(KEY, challenge, nonce, min_difficulty=0, now=time.time() + 31)


def test_issue_refuses_long_lives_and_bad_difficulties() -> None:
    with pytest.raises(ValueError, match="at most"):
        issue_challenge(KEY, 4, ttl=timedelta(days=1))
    with pytest.raises(ValueError, match="difficulty"):
        issue_challenge(KEY, 256)


def test_a_challenge_easier_than_required_is_refused() -> None:
    challenge, nonce = _solved(difficulty=2)
    with pytest.raises(ChallengeTooEasyError):
        verify_solution(KEY, challenge, nonce, min_difficulty=DIFFICULTY)


def test_wrong_or_malformed_nonce_refused() -> None:
    challenge = issue_challenge(KEY, DIFFICULTY).challenge
    with pytest.raises(InvalidSolutionError):
        verify_solution(KEY, challenge, _wrong_nonce(challenge, DIFFICULTY), min_difficulty=0)
    easy = issue_challenge(KEY, 0).challenge  # any well-formed nonce would do
    for nonce in ["", "x" * 65, "1 2", "１２３", None]:
        with pytest.raises(InvalidSolutionError):
            verify_solution(KEY, easy, nonce, min_difficulty=0)


# -- the spent set -------------------------------------------------------------------------


def redeem_challenge(
    db: Session, key: ChallengeKey, challenge: str, nonce: str, *, min_difficulty: int
) -> None:
    """Steps 2 and 3 of app.intake.flood: verify the work, spend the challenge."""
    spend_challenge(db, verify_solution(key, challenge, nonce, min_difficulty=min_difficulty))


def _spent_rows(database: Database) -> list[tuple[bytes, date]]:
    with database.read_session() as db:
        return [(r.challenge_hash, r.day) for r in db.scalars(select(SpentPowChallenge))]


@pytest.mark.both_backends
def test_redeem_writes_a_hash_and_a_day_only(database: Database) -> None:
    challenge, nonce = _solved()
    with database.session() as db:
        redeem_challenge(db, KEY, challenge, nonce, min_difficulty=DIFFICULTY)
    [(digest, day)] = _spent_rows(database)
    assert len(digest) == 32 and type(day) is date
    columns = {
        c["name"]: str(c["type"])
        for c in inspect(database.engine).get_columns("spent_pow_challenges")
    }
    assert columns.keys() == {"challenge_hash", "day"}
    assert "TIME" not in columns["day"].upper()


@pytest.mark.both_backends
def test_reuse_refused(database: Database) -> None:
    challenge, nonce = _solved()
    with database.session() as db:
        redeem_challenge(db, KEY, challenge, nonce, min_difficulty=DIFFICULTY)
    with pytest.raises(ChallengeUsedError), database.session() as db:
        redeem_challenge(db, KEY, challenge, nonce, min_difficulty=DIFFICULTY)
    # Another solution of the same challenge is the same challenge.
    other = _another_solution(challenge, DIFFICULTY, nonce)
    assert other != nonce
    assert check_solution(challenge, other, DIFFICULTY, token_puzzles(challenge))
    with pytest.raises(ChallengeUsedError), database.session() as db:
        redeem_challenge(db, KEY, challenge, other, min_difficulty=DIFFICULTY)
    assert len(_spent_rows(database)) == 1


@pytest.mark.both_backends
def test_the_spend_is_committed_at_once(database: Database) -> None:
    """A request that fails after redeeming (an error, a refused budget) does not give
    its challenge back: the spend was committed before any expensive work."""
    challenge, nonce = _solved()
    db = database.sessionmaker()
    redeem_challenge(db, KEY, challenge, nonce, min_difficulty=DIFFICULTY)
    unit_of_work.commit(db)  # as app.intake.flood.spend_pow does, before anything else
    db.rollback()
    db.close()
    with pytest.raises(ChallengeUsedError), database.session() as db:
        redeem_challenge(db, KEY, challenge, nonce, min_difficulty=DIFFICULTY)


@pytest.mark.both_backends
def test_wrong_nonce_writes_nothing_and_the_challenge_stays_usable(database: Database) -> None:
    challenge, nonce = _solved()
    with pytest.raises(InvalidSolutionError), database.session() as db:
        redeem_challenge(
            db, KEY, challenge, _wrong_nonce(challenge, DIFFICULTY), min_difficulty=DIFFICULTY
        )
    assert _spent_rows(database) == []
    with database.session() as db:
        redeem_challenge(db, KEY, challenge, nonce, min_difficulty=DIFFICULTY)


@pytest.mark.both_backends
def test_concurrent_redemption_only_one_wins(database: Database) -> None:
    for _ in range(5):
        challenge, nonce = _solved()
        barrier = threading.Barrier(2)
        outcomes: list[str] = []
        lock = threading.Lock()

        def redeem(
            challenge: str = challenge,
            nonce: str = nonce,
            barrier: threading.Barrier = barrier,
            outcomes: list[str] = outcomes,
            lock: threading.Lock = lock,
        ) -> None:
            db = database.sessionmaker()
            try:
                barrier.wait()
                redeem_challenge(db, KEY, challenge, nonce, min_difficulty=DIFFICULTY)
                unit_of_work.commit(db)
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


@pytest.mark.both_backends
def test_concurrent_redemption_race_at_the_insert(database: Database) -> None:
    """The second spend starts while the first is uncommitted: exactly one wins.

    On PostgreSQL the second INSERT waits on the unique index for the first transaction
    and then does nothing; on SQLite it waits for the writer lock and finds the row.
    """
    challenge, nonce = _solved()
    solved = verify_solution(KEY, challenge, nonce, min_difficulty=DIFFICULTY)
    first = database.sessionmaker()
    first.add(SpentPowChallenge(challenge_hash=solved.spent_key, day=date.today()))
    first.flush()  # inserted, not committed
    outcome: list[str] = []

    def second() -> None:
        db = database.sessionmaker()
        try:
            spend_challenge(db, solved)
            unit_of_work.commit(db)
            outcome.append("ok")
        except ChallengeUsedError:
            outcome.append("used")
        finally:
            db.close()

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=0.5)  # blocked on the first one (unique index or SQLite writer)
    assert outcome == []
    first.commit()
    first.close()
    thread.join()
    assert outcome == ["used"]


@pytest.mark.both_backends
def test_sweep_keeps_yesterday_and_today(database: Database) -> None:
    today = date(2026, 3, 10)
    with database.session() as db:
        for back in range(4):
            digest = hashlib.sha256(str(back).encode()).digest()
            db.add(SpentPowChallenge(challenge_hash=digest, day=today - timedelta(days=back)))
    with database.session() as db:
        assert delete_spent_challenges(db, today) == 2
    days = sorted(day for _, day in _spent_rows(database))
    assert days == [today - timedelta(days=1), today]
    with database.read_session() as db:
        assert db.scalar(select(func.count()).select_from(SpentPowChallenge)) == 2


# -- k puzzles: the same mean work, far less spread ----------------------------------------


def test_a_challenge_is_k_puzzles_each_bound_to_its_index() -> None:
    challenge = issue_challenge(KEY, DIFFICULTY).challenge  # 16 puzzles of 4 bits
    solution = solve(challenge, DIFFICULTY)
    nonces = solution.split(".")
    assert len(nonces) == PUZZLES == 16
    verify_solution(KEY, challenge, solution, min_difficulty=DIFFICULTY)
    for i, nonce in enumerate(nonces):
        digest = hashlib.sha256(f"{challenge}:{i}:{nonce}".encode()).digest()
        assert leading_zero_bits(digest) >= DIFFICULTY - 4
    # Wrong count, or one puzzle's answer replayed for the others: refused.
    replayed = ".".join([nonces[0]] * 16)  # differs from the solution but for 1 in 2^60
    for bad in [".".join(nonces[:-1]), solution + ".0", replayed]:
        with pytest.raises(InvalidSolutionError):
            verify_solution(KEY, challenge, bad, min_difficulty=DIFFICULTY)
    # Positive control of the replayed answer: puzzle 0's nonce does solve puzzle 0.
    assert check_solution(f"{challenge}", nonces[0], DIFFICULTY - 4, 1)
    # The last puzzle answered wrongly (chosen against the whole solution: a nonce that
    # fails some other hash would still solve puzzle 15 one time in 16).
    counter = 0
    while check_solution(challenge, ".".join([*nonces[:-1], f"x{counter}"]), DIFFICULTY, 16):
        counter += 1
    wrong_last = [*nonces[:-1], f"x{counter}"]
    with pytest.raises(InvalidSolutionError):
        verify_solution(KEY, challenge, ".".join(wrong_last), min_difficulty=DIFFICULTY)


def test_puzzle_count_never_asks_less_than_zero_bits() -> None:
    assert [puzzle_count(d) for d in (0, 1, 3, 4, 20)] == [1, 2, 8, 16, 16]
    assert puzzle_bits(20, 16) == 16 and puzzle_bits(4, 16) == 0
    for difficulty, puzzles in ((20, 3), (2, 8), (20, 0)):
        with pytest.raises(ValueError, match="power of two"):
            puzzle_bits(difficulty, puzzles)
    with pytest.raises(ValueError, match="at most"):
        issue_challenge(KEY, 20, puzzles=512)
    info = issue_challenge(KEY, 6, puzzles=2)
    assert (info.puzzles, info.bits, token_puzzles(info.challenge)) == (2, 5, 2)
    verify_solution(KEY, info.challenge, solve(info.challenge, 6), min_difficulty=6)


def _work_quantiles(puzzles: int, bits: int, rng: random.Random, runs: int) -> tuple[float, ...]:
    """(mean, median, p95) of the hashes needed for ``puzzles`` searches of ``bits`` bits:
    each search is a geometric variable (attempts until one succeeds, p = 2^-bits)."""
    log_fail = math.log1p(-(2.0**-bits))
    totals = sorted(
        sum(math.floor(math.log(1.0 - rng.random()) / log_fail) + 1 for _ in range(puzzles))
        for _ in range(runs)
    )
    return statistics.fmean(totals), totals[runs // 2], totals[int(runs * 0.95)]


def test_sixteen_puzzles_put_p95_within_one_and_a_half_medians() -> None:
    """The calibration of PUZZLES (docs/crypto.md), by simulation with a fixed seed: at
    2^20 total work, k = 16 is the smallest power of two with p95/median <= 1.5; one
    20-bit search (today's lottery) is far above it, as the Gamma model says."""
    rng = random.Random(20)
    ratios = {}
    for k in (1, 2, 4, 8, 16, 32):
        mean, median, p95 = _work_quantiles(k, 20 - k.bit_length() + 1, rng, 20_000)
        assert abs(mean / 2**20 - 1) < 0.04, (k, mean)  # the same expected work for every k
        ratios[k] = p95 / median
    assert ratios[1] > 4.0  # ln 20 / ln 2 = 4.32 for a single geometric search
    assert ratios[8] > 1.55
    assert 1.38 < ratios[16] <= 1.5  # Gamma(16): 22.5 / 15.67 = 1.44
    assert ratios[32] < ratios[16]
    assert min(k for k, r in ratios.items() if r <= 1.5) == PUZZLES
