"""One client flooding the intake at 10 requests a second cannot stop a reporter who has
JavaScript (issue 11, "Floods"). Real gunicorn (2 workers), on SQLite and PostgreSQL.

The flood is one client with its own cookies, paced with real sleeps, cycling through
what a single machine can send cheaply:

- no-JavaScript reports with a valid CSRF token and one-time form token (these do
  spend the forms budget, and exhaust it: the control that the flood is real);
- follow-up posts without a CSRF token;
- receipt checks with a wrong (well-formed) receipt (these spend the receipt budget,
  and exhaust it) and with a typo (refused by the check digit);
- ticket requests with a garbage proof of work;
- a report re-sent with an already used ticket;
- ``GET /api/v1/submission``.

While it runs, and only once it has exhausted the no-JavaScript budgets, a reporter
with JavaScript does what the page's script does: submission info, proof of work,
ticket, encrypted report with an attachment; then a proof of work to open the case with
the receipt, the case page, and another proof of work for an encrypted message. Every
step must succeed.

Against the code before this change the same flood locked that reporter out: every
request above, refused or not, spent the one shared "intake" budget (the flood's
no-token posts and its ``GET /api/v1/submission`` exhausted it within seconds), so the
reporter's ``GET /api/v1/submission`` and ticket got 429.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.cases.payloads import AttachmentMeta, encode_message, encode_report
from app.cases.pow import solve
from app.database import Database
from app.models import Case, Message
from config import Settings
from crypto import Identity, Recipient, encrypt_bytes, new_receipt
from tests.factories import make_reviewer
from tests.reliability.harness import (
    Browser,
    GunicornServer,
    Reply,
    count_rows,
    encode_multipart,
    hidden_fields_in,
    report_answers,
)

RATE = 10.0  # requests a second, the flood's one client
FLOOD_MIN_SECONDS = 8.0
FLOOD_MAX_SECONDS = 60.0
BUDGETS = {
    "LIEMCHINH_RATE_LIMIT_FORMS": "20 per minute",
    "LIEMCHINH_RATE_LIMIT_RECEIPTS": "10 per minute",
    "LIEMCHINH_RATE_LIMIT_JAVASCRIPT": "20 per minute",
}
EVIDENCE = "%PDF-1.4 Biên bản họp ngày 12/3: ông Đặng Văn Ủ nhận 200 triệu đồng.".encode() * 200
EVIDENCE_NAME = "biên bản họp.pdf"
REPORT_TEXT = "Trưởng phòng Đặng Văn Ủ nhận tiền để duyệt hồ sơ đất đai"
MESSAGE_TEXT = "Tôi gửi thêm tên người chứng kiến: bà Nguyễn Thị Ưng"


# -- the JavaScript reporter (what assets/js/intake.js sends) ------------------------------


class JsReporter:
    """A browser with JavaScript, talking to the JSON API like the page's script."""

    def __init__(self, port: int) -> None:
        self.browser = Browser(port, timeout=60)
        self.token = self.browser.hidden_fields("/report")["csrf_token"]

    def _json(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Reply:
        headers = {"Accept": "application/json"}
        body = None
        if payload is not None:
            body = json.dumps(payload).encode()
            headers |= {"Content-Type": "application/json", "X-CSRFToken": self.token}
        return self.browser.request(method, path, body, headers)

    def _multipart(self, path: str, fields: dict[str, Any], files: list[Any]) -> Reply:
        body, content_type = encode_multipart(fields, files)
        headers = {"Content-Type": content_type, "X-CSRFToken": self.token}
        return self.browser.request("POST", path, body, headers)

    def solved(self, pow_: dict[str, Any]) -> dict[str, str]:
        return {
            "pow_challenge": pow_["challenge"],
            "pow_nonce": solve(pow_["challenge"], pow_["difficulty"]),
        }

    def submit(self) -> str:
        info = self._expect(self._json("GET", "/api/v1/submission"), 200)
        ticket = self._expect(self._json("POST", "/api/v1/tickets", self.solved(info["pow"])), 201)
        case_identity, staff_identity = Identity.generate(), Identity.generate()
        readers = [Recipient.parse(r) for r in info["recipients"]]
        reporter = Recipient.parse(ticket["reporter_recipient"])
        meta = AttachmentMeta(EVIDENCE_NAME, "application/pdf", len(EVIDENCE))
        answers = {"category": "corruption", "summary": "Nhận hối lộ", "details": REPORT_TEXT}
        report = encrypt_bytes(encode_report(answers, [meta]), [case_identity.recipient])
        self._expect(
            self._multipart(
                "/api/v1/reports",
                {
                    "ticket": ticket["ticket"],
                    "recipients_version": info["recipients_version"],
                    "category": "corruption",
                    "sector": "land_construction",
                    "case_recipient": str(case_identity.recipient),
                    "staff_recipient": str(staff_identity.recipient),
                },
                [
                    ("report", "report.age", report),
                    (
                        "case_key_wrap",
                        "case_key_wrap.age",
                        encrypt_bytes(str(case_identity).encode(), [*readers, reporter]),
                    ),
                    (
                        "staff_key_wrap",
                        "staff_key_wrap.age",
                        encrypt_bytes(str(staff_identity).encode(), readers),
                    ),
                    (
                        "attachment",
                        "attachment-0.age",
                        encrypt_bytes(EVIDENCE, [case_identity.recipient]),
                    ),
                ],
            ),
            201,
        )
        self.case_recipient = case_identity.recipient
        return str(ticket["receipt"])

    def follow_up(self, receipt: str) -> None:
        challenge = self._expect(self._json("GET", "/api/v1/challenge"), 200)
        self._expect(
            self._json(
                "POST", "/api/v1/followup/open", {"receipt": receipt, **self.solved(challenge)}
            ),
            200,
        )
        page = self.browser.request("GET", "/followup/case")
        assert page.status == 200 and REPORT_TEXT in page.text and EVIDENCE_NAME in page.text
        challenge = self._expect(self._json("GET", "/api/v1/challenge"), 200)
        message = encrypt_bytes(encode_message(MESSAGE_TEXT, []), [self.case_recipient])
        self._expect(
            self._multipart(
                "/api/v1/followup/messages",
                self.solved(challenge),
                [("message", "message.age", message)],
            ),
            201,
        )
        page = self.browser.request("GET", "/followup/case")
        assert page.status == 200 and MESSAGE_TEXT in page.text

    @staticmethod
    def _expect(reply: Reply, status: int) -> Any:
        assert reply.status == status, (reply.status, reply.text[:300])
        return json.loads(reply.body) if reply.body else None


# -- the flood -------------------------------------------------------------------------------


@dataclass
class Flood:
    """One client at RATE requests a second until told to stop."""

    port: int
    replayed_report: tuple[bytes, str]  # a multipart body whose ticket was used
    outcomes: list[tuple[str, int, float]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    first_forms_refusal: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc

    def _run(self) -> None:
        browser = Browser(self.port, timeout=60)
        anonymous = Browser(self.port, timeout=60)  # no cookie, no token
        hidden = browser.hidden_fields("/followup")
        csrf = {"X-CSRFToken": hidden["csrf_token"]}
        receipt = new_receipt()
        typo = receipt[:-1] + str((int(receipt[-1]) + 1) % 10)
        body, content_type = self.replayed_report
        report_form: dict[str, str] = {}

        steps = [
            ("report form", lambda: browser.request("GET", "/report")),
            ("report", lambda: post_report(browser, report_form)),
            (
                "receipt wrong",
                lambda: browser.post_form("/followup", {**hidden, "receipt": new_receipt()}),
            ),
            ("report form", lambda: browser.request("GET", "/report")),
            ("report", lambda: post_report(browser, report_form)),
            ("receipt typo", lambda: browser.post_form("/followup", {**hidden, "receipt": typo})),
            ("no csrf", lambda: anonymous.post_form("/followup", {"receipt": receipt})),
            (
                "garbage pow",
                lambda: browser.request(
                    "POST",
                    "/api/v1/tickets",
                    json.dumps({"pow_challenge": "A" * 56, "pow_nonce": "42"}).encode(),
                    {"Content-Type": "application/json", **csrf},
                ),
            ),
            (
                "replayed ticket",
                lambda: browser.request(
                    "POST", "/api/v1/reports", body, {"Content-Type": content_type, **csrf}
                ),
            ),
            ("submission info", lambda: browser.request("GET", "/api/v1/submission")),
        ]

        def post_report(client: Browser, form: dict[str, str]) -> Reply:
            return client.post_multipart("/report", {**form, **report_answers()})

        start = time.monotonic()
        due = start
        i = 0
        while not self.stop.is_set() and time.monotonic() - start < FLOOD_MAX_SECONDS:
            time.sleep(max(0.0, due - time.monotonic()))
            kind, send = steps[i % len(steps)]
            reply = send()
            if kind == "report form":
                report_form.clear()
                report_form.update(hidden_fields_in(reply.text))
            self.outcomes.append((kind, reply.status, time.monotonic()))
            if kind == "report" and reply.status == 429:
                self.first_forms_refusal.set()
            due = max(due + 1 / RATE, time.monotonic())
            i += 1


def _used_ticket_report(port: int) -> tuple[bytes, str]:
    """The flooder buys one ticket honestly, submits, and keeps the body to replay."""
    flooder = JsReporter(port)
    info = flooder._expect(flooder._json("GET", "/api/v1/submission"), 200)
    ticket = flooder._expect(
        flooder._json("POST", "/api/v1/tickets", flooder.solved(info["pow"])), 201
    )
    case_identity = Identity.generate()
    readers = [Recipient.parse(r) for r in info["recipients"]]
    answers = {"category": "other", "summary": "Thử", "details": "Thử"}
    fields = {
        "ticket": ticket["ticket"],
        "recipients_version": info["recipients_version"],
        "category": "other",
        "case_recipient": str(case_identity.recipient),
        "staff_recipient": str(Identity.generate().recipient),
    }
    files = [
        ("report", "r.age", encrypt_bytes(encode_report(answers, []), [case_identity.recipient])),
        ("case_key_wrap", "c.age", encrypt_bytes(str(case_identity).encode(), readers)),
        ("staff_key_wrap", "s.age", encrypt_bytes(b"AGE-SECRET-KEY-1X", readers)),
    ]
    body, content_type = encode_multipart(fields, files)
    first = flooder.browser.request(
        "POST",
        "/api/v1/reports",
        body,
        {"Content-Type": content_type, "X-CSRFToken": flooder.token},
    )
    assert first.status == 201, first.text
    return body, content_type  # replayed from the flood's own session


@pytest.mark.slow
@pytest.mark.both_backends
def test_a_flood_cannot_stop_a_reporter_with_javascript(
    env: dict[str, str], database: Database, settings: Settings, tmp_path: Path
) -> None:
    make_reviewer(database, "intake")
    with GunicornServer({**env, **BUDGETS}, tmp_path / "gunicorn.log", workers=2) as server:
        replayed = _used_ticket_report(server.port)
        flood = Flood(server.port, replayed)
        thread = threading.Thread(target=flood.run, daemon=True)
        thread.start()
        try:
            # The reporter comes once the flood has exhausted the no-JavaScript budget.
            assert flood.first_forms_refusal.wait(timeout=FLOOD_MAX_SECONDS / 2), flood.outcomes
            started = time.monotonic()
            reporter = JsReporter(server.port)
            receipt = reporter.submit()
            reporter.follow_up(receipt)
            finished = time.monotonic()
            time.sleep(max(0.0, FLOOD_MIN_SECONDS - (finished - flood.outcomes[0][2])))
            time.sleep(1.0)  # and the flood goes on after the reporter is done
        finally:
            flood.stop.set()
            thread.join(timeout=60)
        log = server.log()
    assert flood.error is None, flood.error
    outcomes = flood.outcomes
    seconds = outcomes[-1][2] - outcomes[0][2]
    assert seconds >= FLOOD_MIN_SECONDS
    assert len(outcomes) / seconds > 0.8 * RATE, "the flood did not keep its rate"
    by_kind: dict[str, Counter[int]] = {}
    for kind, status, _at in outcomes:
        by_kind.setdefault(kind, Counter())[status] += 1
    # Refused by a cheap check, every time, and never "busy":
    assert set(by_kind["no csrf"]) == {400}
    assert set(by_kind["receipt typo"]) == {400}
    assert set(by_kind["garbage pow"]) == {400}
    assert set(by_kind["replayed ticket"]) == {400}
    assert set(by_kind["submission info"]) == {200}
    # The budgets it could spend, it exhausted: the no-JavaScript forms and receipts.
    assert by_kind["report"][200] == 20 and by_kind["report"][429] >= 2, by_kind
    assert by_kind["receipt wrong"][400] == 10 and by_kind["receipt wrong"][429] >= 1, by_kind
    # The JavaScript reporter did everything while the forms were refused around it.
    refusals = [at for kind, status, at in outcomes if kind == "report" and status == 429]
    assert refusals[0] < started and refusals[-1] > finished
    assert all(status < 500 for _k, status, _a in outcomes)
    assert "Traceback" not in log
    with database.read_session() as db:
        assert db.scalar(select(Message.id)) is not None
    assert count_rows(database, Case) == 1 + 20 + 1  # flooder's, the forms', the reporter's
