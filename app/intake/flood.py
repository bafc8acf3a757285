"""Flood control as the intake's views apply it: proof of work, then a budget, in order.

Every guarded request goes through the same steps, cheapest first, and stops at the
first that refuses:

1. CSRF (Flask-WTF, before the view), well-formed input, the receipt's check digit,
   the one-time form token, the ticket's seal: refused for free;
2. the proof of work, verified without the database (:func:`verify_pow`);
3. the challenge marked spent, committed (a replay stops here: one indexed insert);
4. one unit of the request's global budget (:func:`app.web.ratelimit.spend_budget`);
5. only then Argon2id, blob writes, the case.

Steps 3 and 4 run in the domain's ``admit`` hook (see ``app.cases.submission``), built
here by :func:`admit_with_pow` or :func:`admit`.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from app.cases import pow as proof_of_work
from app.cases import unit_of_work
from app.cases.tickets import TicketKey
from app.web.context import installation_secrets, settings
from app.web.db import db_session
from app.web.ratelimit import Budget, spend_budget

_KEYS = "liemchinh.intake_token_keys"


def _keys() -> tuple[proof_of_work.ChallengeKey, TicketKey]:
    keys: tuple[proof_of_work.ChallengeKey, TicketKey] | None = current_app.extensions.get(_KEYS)
    if keys is None:
        secret = installation_secrets().intake_secret_key
        keys = (proof_of_work.ChallengeKey.derive(secret), TicketKey.derive(secret))
        current_app.extensions[_KEYS] = keys
    return keys


def challenge_key() -> proof_of_work.ChallengeKey:
    return _keys()[0]


def ticket_key() -> TicketKey:
    return _keys()[1]


def new_challenge() -> proof_of_work.IssuedChallenge:
    """A challenge at the installation's difficulty. Writes nothing."""
    return proof_of_work.issue_challenge(challenge_key(), settings().pow_difficulty)


def verify_pow(challenge: object, nonce: object) -> proof_of_work.SolvedChallenge:
    """Step 2: raises :class:`app.cases.pow.PowError`; touches no database."""
    return proof_of_work.verify_solution(
        challenge_key(), challenge, nonce, min_difficulty=settings().pow_difficulty
    )


def spend_pow(solved: proof_of_work.SolvedChallenge) -> None:
    """Step 3, in the request's session, committed at once (raises ChallengeUsedError):
    a failure later in the request must not give the challenge back."""
    proof_of_work.spend_challenge(db_session(), solved)
    unit_of_work.commit(db_session())


def admit(budget: Budget) -> Callable[[], None]:
    """A hook that spends one unit of ``budget`` (step 4)."""

    def hook() -> None:
        spend_budget(budget)

    return hook


def admit_with_pow(
    solved: proof_of_work.SolvedChallenge, budget: Budget = Budget.JAVASCRIPT
) -> Callable[[], None]:
    """A hook that spends the challenge, then one unit of ``budget`` (steps 3 and 4).

    The challenge goes first: a replay must be refused before it can spend a budget.
    A request refused by the budget has used its challenge; the browser solves a new one
    when it tries again, as it does after any refusal.
    """

    def hook() -> None:
        spend_pow(solved)
        spend_budget(budget)

    return hook
