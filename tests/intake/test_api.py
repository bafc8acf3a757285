"""The JSON API, driven the way the browser drives it: the test encrypts like typage."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from app.cases import tickets
from app.cases.payloads import AttachmentMeta, encode_message, encode_report
from app.cases.pow import solve
from app.database import Database
from app.models import Blob, Case, SpentPowChallenge
from config import Settings
from crypto import Identity, Recipient, decrypt_bytes, encrypt_bytes
from tests.conftest import CsrfClient
from tests.factories import ReviewerKeys, make_reviewer


@dataclass
class BrowserSession:
    client: CsrfClient
    token: str

    def get_info(self) -> dict[str, Any]:
        response = self.client.get("/api/v1/submission")
        assert response.status_code == 200
        info: dict[str, Any] = response.get_json()
        return info

    def ticket(self, info: dict[str, Any]) -> dict[str, Any]:
        pow_ = info["pow"]
        response = self.client.post(
            "/api/v1/tickets",
            json={
                "pow_challenge": pow_["challenge"],
                "pow_nonce": solve(pow_["challenge"], pow_["difficulty"]),
            },
            headers={"X-CSRFToken": self.token},
        )
        assert response.status_code == 201, response.get_json()
        ticket: dict[str, Any] = response.get_json()
        return ticket

    def solved_challenge(self) -> dict[str, str]:
        """GET /api/v1/challenge and solve it, as the follow-up page's script does."""
        response = self.client.get("/api/v1/challenge")
        assert response.status_code == 200
        pow_ = response.get_json()
        return {
            "pow_challenge": pow_["challenge"],
            "pow_nonce": solve(pow_["challenge"], pow_["difficulty"]),
        }

    def post_report(self, data: dict[str, Any]) -> Any:
        return self.client.post(
            "/api/v1/reports",
            data=data,
            content_type="multipart/form-data",
            headers={"X-CSRFToken": self.token},
        )


@pytest.fixture
def browser(intake_client: CsrfClient) -> BrowserSession:
    return BrowserSession(intake_client, intake_client.csrf_token("/report"))


@pytest.fixture
def reviewer(database: Database) -> ReviewerKeys:
    return make_reviewer(database, "intake")


def encrypted_report(
    info: dict[str, Any],
    ticket: dict[str, Any],
    *,
    details: str = "Chi tiết vụ việc",
    files: list[bytes] | None = None,
    excluded: list[str] | None = None,
) -> dict[str, Any]:
    """What prepareReport() in assets/js/core.js builds, made with our own crypto."""
    case_identity, staff_identity = Identity.generate(), Identity.generate()
    barred = {
        r for unit in info["units"] if unit["slug"] in (excluded or []) for r in unit["recipients"]
    }
    readers = [Recipient.parse(r) for r in info["recipients"] if r not in barred]
    files = files or []
    metas = [
        AttachmentMeta(f"file-{i}.pdf", "application/pdf", len(f)) for i, f in enumerate(files)
    ]
    answers = {"category": "waste", "summary": "Lãng phí", "details": details}
    return {
        "ticket": ticket["ticket"],
        "category": "waste",
        "sector": "education",
        "excluded_units": excluded or [],
        "case_recipient": str(case_identity.recipient),
        "staff_recipient": str(staff_identity.recipient),
        "recipients_version": info["recipients_version"],
        "report": (
            io.BytesIO(encrypt_bytes(encode_report(answers, metas), [case_identity.recipient])),
            "report.age",
        ),
        "attachment": [
            (io.BytesIO(encrypt_bytes(f, [case_identity.recipient])), f"attachment-{i}.age")
            for i, f in enumerate(files)
        ],
        "case_key_wrap": (
            io.BytesIO(
                encrypt_bytes(
                    str(case_identity).encode(),
                    [*readers, Recipient.parse(ticket["reporter_recipient"])],
                )
            ),
            "case_key_wrap.age",
        ),
        "staff_key_wrap": (
            io.BytesIO(encrypt_bytes(str(staff_identity).encode(), readers)),
            "staff_key_wrap.age",
        ),
    }


def _cases(database: Database) -> int:
    with database.read_session() as db:
        return int(db.scalar(select(func.count()).select_from(Case)) or 0)


def test_submission_info_lists_who_can_read(
    browser: BrowserSession, reviewer: ReviewerKeys, recovery_identity: Identity
) -> None:
    info = browser.get_info()
    assert set(info["recipients"]) == {
        str(reviewer.identity.recipient),
        str(recovery_identity.recipient),
    }
    assert info["recovery_recipient"] == str(recovery_identity.recipient)
    assert [u["slug"] for u in info["units"]] == ["inspection", "investigation", "oversight"]
    assert info["questionnaire"]["questions"][0]["id"] == "category"
    assert info["pow"]["difficulty"] == 4 and len(info["pow"]["challenge"]) == 58
    assert (info["pow"]["puzzles"], info["pow"]["bits"], info["pow"]["expires_in"]) == (16, 0, 600)


def test_browser_report_is_stored_and_the_receipt_opens_it(
    browser: BrowserSession, reviewer: ReviewerKeys, database: Database, settings: Settings
) -> None:
    info = browser.get_info()
    ticket = browser.ticket(info)
    response = browser.post_report(encrypted_report(info, ticket, files=[b"%PDF evidence"]))
    assert response.status_code == 201, response.get_json()
    with database.read_session() as db:
        case = db.scalars(select(Case)).one()
        blobs = db.scalars(select(Blob).order_by(Blob.position)).all()
    assert (case.category, case.sector) == ("waste", "education")
    assert [b.kind for b in blobs] == ["report", "attachment"]
    opened = browser.client.post(
        "/followup", data={"receipt": ticket["receipt"], "csrf_token": browser.token}
    )
    assert opened.status_code == 303
    page = browser.client.get("/followup/case").get_data(as_text=True)
    assert "Chi tiết vụ việc" in page and "file-0.pdf" in page


def test_ticket_is_single_use(
    browser: BrowserSession, reviewer: ReviewerKeys, database: Database
) -> None:
    info = browser.get_info()
    ticket = browser.ticket(info)
    assert browser.post_report(encrypted_report(info, ticket)).status_code == 201
    again = browser.post_report(encrypted_report(info, ticket))
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_ticket"
    assert _cases(database) == 1


def test_expired_ticket_is_refused(
    browser: BrowserSession,
    reviewer: ReviewerKeys,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    info = browser.get_info()
    ticket = browser.ticket(info)
    later = tickets.time.time() + tickets.TICKET_TTL.total_seconds() + 1
    monkeypatch.setattr(tickets.time, "time", lambda: later)
    response = browser.post_report(encrypted_report(info, ticket))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_ticket"
    assert _cases(database) == 0
    monkeypatch.undo()  # positive control: the same ticket in time is accepted
    assert browser.post_report(encrypted_report(info, ticket)).status_code == 201


@pytest.mark.parametrize("part", ["report", "case_key_wrap", "staff_key_wrap", "attachment"])
def test_anything_but_age_ciphertext_is_refused_and_nothing_stored(
    browser: BrowserSession,
    reviewer: ReviewerKeys,
    database: Database,
    settings: Settings,
    part: str,
) -> None:
    info = browser.get_info()
    ticket = browser.ticket(info)
    data = encrypted_report(info, ticket, files=[b"x"])
    plaintext = (io.BytesIO(b"Plain text that should have been encrypted"), "x.age")
    data[part] = [plaintext] if part == "attachment" else plaintext
    response = browser.post_report(data)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] in {"invalid_ciphertext", "missing_fields"} and body["message"]
    assert _cases(database) == 0
    assert [p for p in settings.blob_path.rglob("*") if p.is_file()] == []
    # The ticket was not used up by the refused attempt.
    assert browser.post_report(encrypted_report(info, ticket)).status_code == 201


def test_missing_fields_are_named(browser: BrowserSession, reviewer: ReviewerKeys) -> None:
    info = browser.get_info()
    data = encrypted_report(info, browser.ticket(info))
    del data["staff_key_wrap"], data["case_recipient"]
    response = browser.post_report(data)
    assert response.status_code == 400
    assert "staff_key_wrap" in response.get_json()["message"]
    assert "case_recipient" in response.get_json()["message"]


def test_unknown_category_is_refused(
    browser: BrowserSession, reviewer: ReviewerKeys, database: Database
) -> None:
    info = browser.get_info()
    data = encrypted_report(info, browser.ticket(info))
    data["category"] = "gossip"
    assert browser.post_report(data).status_code == 400
    assert _cases(database) == 0


def test_tickets_need_a_solved_single_use_challenge(
    browser: BrowserSession, database: Database
) -> None:
    info = browser.get_info()
    challenge = info["pow"]["challenge"]
    headers = {"X-CSRFToken": browser.token}
    wrong = browser.client.post(
        "/api/v1/tickets",
        json={"pow_challenge": challenge, "pow_nonce": "bad nonce!"},
        headers=headers,
    )
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "invalid_pow"
    nonce = solve(challenge, info["pow"]["difficulty"])
    first = browser.client.post(
        "/api/v1/tickets", json={"pow_challenge": challenge, "pow_nonce": nonce}, headers=headers
    )
    assert first.status_code == 201
    second = browser.client.post(
        "/api/v1/tickets", json={"pow_challenge": challenge, "pow_nonce": nonce}, headers=headers
    )
    assert second.status_code == 400 and second.get_json()["error"] == "invalid_pow"
    with database.read_session() as db:
        assert db.scalar(select(func.count()).select_from(SpentPowChallenge)) == 1


def test_api_posts_need_the_csrf_token(browser: BrowserSession) -> None:
    info = browser.get_info()
    response = browser.client.post(
        "/api/v1/tickets", json={"pow_challenge": info["pow"]["challenge"], "pow_nonce": "1"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "csrf"


def test_browser_message_reaches_the_thread(
    browser: BrowserSession, reviewer: ReviewerKeys, database: Database
) -> None:
    info = browser.get_info()
    ticket = browser.ticket(info)
    assert browser.post_report(encrypted_report(info, ticket)).status_code == 201
    browser.client.post(
        "/followup", data={"receipt": ticket["receipt"], "csrf_token": browser.token}
    )
    with database.read_session() as db:
        case_recipient = Recipient.parse(db.scalars(select(Case.case_recipient)).one())
    message = encrypt_bytes(encode_message("Tôi có thêm bằng chứng", []), [case_recipient])
    response = browser.client.post(
        "/api/v1/followup/messages",
        data={"message": (io.BytesIO(message), "message.age"), **browser.solved_challenge()},
        content_type="multipart/form-data",
        headers={"X-CSRFToken": browser.token},
    )
    assert response.status_code == 201, response.get_json()
    assert "Tôi có thêm bằng chứng" in browser.client.get("/followup/case").get_data(as_text=True)


def test_message_api_needs_an_open_case(browser: BrowserSession) -> None:
    response = browser.client.post(
        "/api/v1/followup/messages",
        data={"message": (io.BytesIO(b"age-encryption.org/v1\n"), "message.age")},
        content_type="multipart/form-data",
        headers={"X-CSRFToken": browser.token},
    )
    assert response.status_code == 403


def test_openapi_document_is_served(intake_client: CsrfClient) -> None:
    document = intake_client.get("/api/v1/openapi.json").get_json()
    assert set(document["paths"]) == {
        "/submission",
        "/challenge",
        "/tickets",
        "/reports",
        "/followup/open",
        "/followup/messages",
    }


def test_case_key_wrap_opens_for_reporter_reviewer_and_recovery(
    browser: BrowserSession,
    reviewer: ReviewerKeys,
    database: Database,
    recovery_identity: Identity,
) -> None:
    from app.cases.submission import ReceiptSettings
    from app.models import CaseKey
    from config import load_secrets
    from crypto import derive_receipt_keys

    info = browser.get_info()
    ticket = browser.ticket(info)
    browser.post_report(encrypted_report(info, ticket))
    with database.read_session() as db:
        wrap = db.scalars(select(CaseKey.wrap).where(CaseKey.kind == "case")).one()
    for identity in (reviewer.identity, recovery_identity):
        assert decrypt_bytes(wrap, [identity]).startswith(b"AGE-SECRET-KEY-1")
    del ReceiptSettings, load_secrets, derive_receipt_keys  # reporter side: see followup test
