"""Proof of work at the intake's endpoints: bound to a challenge we issued, redeemed once,
before any Argon2id. Replays and forgeries cost the server a hash, never a derivation.

Derivations are counted by wrapping ``derive_receipt_keys`` where the intake calls it:
a ticket (``app.cases.submission``) and opening a case (``app.cases.followup``).
"""

from __future__ import annotations

import base64
import io
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text

from app.cases import followup as followup_domain
from app.cases import pow as proof_of_work
from app.cases import submission
from app.cases.payloads import encode_message
from app.cases.pow import ChallengeKey, issue_challenge, solve
from app.database import Database
from app.models import Blob, Case, Message, SpentPowChallenge
from config import Settings, load_secrets
from crypto import Recipient, encrypt_bytes, new_receipt
from tests.conftest import CsrfClient
from tests.factories import ReviewerKeys
from tests.intake.test_api import BrowserSession, encrypted_report

VI_POW_FAILED = "Bước kiểm tra chống máy tự động"  # both Vietnamese PoW messages start so


class Derivations:
    """Counts Argon2id receipt derivations made by the intake."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        for module in (submission, followup_domain):
            monkeypatch.setattr(module, "derive_receipt_keys", self._wrap(module))

    def _wrap(self, module: Any) -> Callable[..., Any]:
        real = module.derive_receipt_keys

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return real(*args, **kwargs)

        return counted


@pytest.fixture
def browser(intake_client: CsrfClient) -> BrowserSession:
    return BrowserSession(intake_client, intake_client.csrf_token("/report"))


@pytest.fixture
def reviewer(intake_reviewer: ReviewerKeys) -> ReviewerKeys:
    return intake_reviewer


@pytest.fixture
def derivations(monkeypatch: pytest.MonkeyPatch) -> Derivations:
    return Derivations(monkeypatch)


def _post_ticket(browser: BrowserSession, challenge: str, nonce: str) -> Any:
    return browser.client.post(
        "/api/v1/tickets",
        json={"pow_challenge": challenge, "pow_nonce": nonce},
        headers={"X-CSRFToken": browser.token},
    )


def _snapshot(database: Database) -> dict[str, list[str]]:
    """Every row of every table, as text."""
    tables = inspect(database.engine).get_table_names()
    with database.engine.connect() as conn:
        return {t: sorted(map(repr, conn.execute(text(f"SELECT * FROM {t}")))) for t in tables}


def test_issuing_challenges_writes_nothing(browser: BrowserSession, database: Database) -> None:
    before = _snapshot(database)
    challenges = set()
    for _ in range(5):
        challenges.add(browser.get_info()["pow"]["challenge"])
        challenges.add(browser.client.get("/api/v1/challenge").get_json()["challenge"])
    assert len(challenges) == 10
    assert _snapshot(database) == before
    # Positive control: redeeming one is the first write, one row of hash and day.
    challenge = challenges.pop()
    assert _post_ticket(browser, challenge, solve(challenge, 4)).status_code == 201
    after = _snapshot(database)
    changed = {t for t in after if after[t] != before[t]}
    assert changed == {"spent_pow_challenges"}


def test_a_replayed_solution_never_reaches_argon2id(
    browser: BrowserSession, database: Database, derivations: Derivations
) -> None:
    info = browser.get_info()
    challenge = info["pow"]["challenge"]
    nonce = solve(challenge, info["pow"]["difficulty"])
    assert _post_ticket(browser, challenge, nonce).status_code == 201
    assert derivations.count == 1
    for _ in range(5):
        replay = _post_ticket(browser, challenge, nonce)
        assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_pow"
        assert VI_POW_FAILED in replay.get_json()["message"]
    assert derivations.count == 1  # the replays cost a hash and one indexed insert each


def test_forged_foreign_expired_and_easy_challenges_never_reach_argon2id(
    browser: BrowserSession,
    settings: Settings,
    derivations: Derivations,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    our_key = ChallengeKey.derive(load_secrets(settings.secrets_file).intake_secret_key)
    forged = base64.urlsafe_b64encode(b"\x01" + secrets.token_bytes(41)).decode()
    foreign = issue_challenge(ChallengeKey.derive(secrets.token_bytes(32)), 4).challenge
    too_easy = issue_challenge(our_key, 0).challenge
    for challenge in (forged, foreign, too_easy, "", "x" * 56):
        refused = _post_ticket(browser, challenge, solve(challenge, 4))
        assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_pow"
    stale = issue_challenge(our_key, 4).challenge
    later = proof_of_work.time.time() + proof_of_work.DEFAULT_TTL.total_seconds() + 1
    monkeypatch.setattr(proof_of_work.time, "time", lambda: later)
    refused = _post_ticket(browser, stale, solve(stale, 4))
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_pow"
    assert derivations.count == 0
    monkeypatch.undo()
    # Positive control: a challenge of ours, solved, in time, is accepted.
    fresh = issue_challenge(our_key, 4).challenge
    assert _post_ticket(browser, fresh, solve(fresh, 4)).status_code == 201


def test_a_replayed_ticket_in_a_race_fails_as_a_ticket_error(
    browser: BrowserSession,
    reviewer: ReviewerKeys,
    database: Database,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two submissions of one ticket that both pass the "unused" check: the case's
    unique receipt lookup key lets one through, the other gets the ticket error."""
    info = browser.get_info()
    ticket = browser.ticket(info)
    assert browser.post_report(encrypted_report(info, ticket)).status_code == 201
    files_before = {p for p in settings.blob_path.rglob("*") if p.is_file()}
    monkeypatch.setattr(submission, "receipt_in_use", _false_once(submission.receipt_in_use))
    again = browser.post_report(encrypted_report(info, ticket, files=[b"%PDF bi\xc3\xaan b\xe1"]))
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_ticket"
    with database.read_session() as db:
        assert db.scalar(select(func.count()).select_from(Case)) == 1
    assert {p for p in settings.blob_path.rglob("*") if p.is_file()} == files_before


def _false_once(real: Callable[..., bool]) -> Callable[..., bool]:
    calls = []

    def patched(*args: Any) -> bool:
        calls.append(args)
        return False if len(calls) == 1 else real(*args)

    return patched


# -- opening a case with JavaScript ----------------------------------------------------------


def _open(browser: BrowserSession, receipt: str, pow_fields: dict[str, str] | None) -> Any:
    return browser.client.post(
        "/api/v1/followup/open",
        json={"receipt": receipt, **(pow_fields or {})},
        headers={"X-CSRFToken": browser.token},
    )


def _submitted(browser: BrowserSession) -> dict[str, Any]:
    info = browser.get_info()
    ticket = browser.ticket(info)
    report = encrypted_report(info, ticket, details="Chủ tịch phường nhận đất của ông Đỗ")
    assert browser.post_report(report).status_code == 201
    return ticket


def test_open_a_case_with_proof_of_work(
    browser: BrowserSession, reviewer: ReviewerKeys, derivations: Derivations
) -> None:
    ticket = _submitted(browser)
    assert derivations.count == 1
    assert browser.client.get("/followup/case").status_code == 302  # not open yet
    opened = _open(browser, ticket["receipt"], browser.solved_challenge())
    assert opened.status_code == 200 and opened.get_json() == {"status": "opened"}
    assert derivations.count == 2
    page = browser.client.get("/followup/case")
    assert page.status_code == 200
    assert "Chủ tịch phường nhận đất của ông Đỗ" in page.get_data(as_text=True)


def test_open_refusals_cost_no_derivation(
    browser: BrowserSession, reviewer: ReviewerKeys, derivations: Derivations
) -> None:
    ticket = _submitted(browser)
    derivations.count = 0
    receipt = ticket["receipt"]
    typo = receipt[:-1] + str((int(receipt[-1]) + 1) % 10)
    refused = _open(browser, typo, browser.solved_challenge())
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_receipt"
    assert "chữ số kiểm tra" in refused.get_json()["message"]  # the Vietnamese check-digit text
    unpaid_typo = _open(browser, typo, {"pow_challenge": "x" * 56, "pow_nonce": "1"})
    assert unpaid_typo.get_json()["error"] == "invalid_receipt"  # told first, whatever the PoW
    missing = _open(browser, receipt, None)
    assert missing.status_code == 400 and missing.get_json()["error"] == "invalid_request"
    garbage = _open(browser, receipt, {"pow_challenge": "x" * 56, "pow_nonce": "1"})
    assert garbage.status_code == 400 and garbage.get_json()["error"] == "invalid_pow"
    assert derivations.count == 0
    pow_fields = browser.solved_challenge()
    unknown = _open(browser, new_receipt(), pow_fields)  # well formed: costs one
    assert unknown.status_code == 400 and unknown.get_json()["error"] == "unknown_receipt"
    assert derivations.count == 1
    replay = _open(browser, receipt, pow_fields)  # the same solved challenge again
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_pow"
    assert derivations.count == 1
    no_csrf = browser.client.post(
        "/api/v1/followup/open", json={"receipt": receipt, **browser.solved_challenge()}
    )
    assert no_csrf.status_code == 400 and no_csrf.get_json()["error"] == "csrf"
    assert browser.client.get("/followup/case").status_code == 302  # still not open
    assert _open(browser, receipt, browser.solved_challenge()).status_code == 200


# -- messages with JavaScript ------------------------------------------------------------------


def _post_message(browser: BrowserSession, case_recipient: Recipient, extra: dict[str, str]) -> Any:
    message = encrypt_bytes(encode_message("Tôi bổ sung biên bản họp", []), [case_recipient])
    return browser.client.post(
        "/api/v1/followup/messages",
        data={
            "message": (io.BytesIO(message), "message.age"),
            "attachment": (io.BytesIO(encrypt_bytes(b"%PDF", [case_recipient])), "a.age"),
            **extra,
        },
        content_type="multipart/form-data",
        headers={"X-CSRFToken": browser.token},
    )


def test_a_message_needs_its_own_proof_of_work(
    browser: BrowserSession, reviewer: ReviewerKeys, database: Database, settings: Settings
) -> None:
    ticket = _submitted(browser)
    assert _open(browser, ticket["receipt"], browser.solved_challenge()).status_code == 200
    with database.read_session() as db:
        case_recipient = Recipient.parse(db.scalars(select(Case.case_recipient)).one())
    files_before = {p for p in settings.blob_path.rglob("*") if p.is_file()}
    for extra in ({}, {"pow_challenge": "x" * 56, "pow_nonce": "7"}):
        refused = _post_message(browser, case_recipient, extra)
        assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_pow"
    assert {p for p in settings.blob_path.rglob("*") if p.is_file()} == files_before
    pow_fields = browser.solved_challenge()
    assert _post_message(browser, case_recipient, pow_fields).status_code == 201
    replay = _post_message(browser, case_recipient, pow_fields)
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_pow"
    with database.read_session() as db:
        assert db.scalar(select(func.count()).select_from(Message)) == 1
        assert db.scalar(select(func.count()).select_from(Blob)) == 3  # report + 2
        # ticket, opening, message: the refused and replayed attempts spent nothing new
        assert db.scalar(select(func.count()).select_from(SpentPowChallenge)) == 3


def test_the_openapi_document_describes_the_tokens(browser: BrowserSession) -> None:
    """The patterns published for challenges and tickets match what the server issues."""
    import re

    document = browser.client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    info = browser.get_info()
    challenge = browser.client.get("/api/v1/challenge").get_json()
    ticket = browser.ticket(info)
    for value, name in (
        (info["pow"]["challenge"], "Challenge"),
        (challenge["challenge"], "Challenge"),
        (ticket["ticket"], "Ticket"),
    ):
        schema = schemas[name]
        assert re.fullmatch(schema["pattern"].strip("^$"), value), name
        assert schema["minLength"] <= len(value) <= schema["maxLength"]
    nonce = solve(challenge["challenge"], challenge["difficulty"])
    assert re.fullmatch(schemas["Nonce"]["pattern"].strip("^$"), nonce)
    opened = document["paths"]["/followup/open"]["post"]
    assert opened["requestBody"]["content"]["application/json"]["schema"]["required"] == [
        "receipt",
        "pow_challenge",
        "pow_nonce",
    ]
    for path in ("/tickets", "/followup/open", "/followup/messages"):
        assert document["paths"][path]["post"]["responses"]["429"] == {
            "$ref": "#/components/responses/Busy"
        }
